"""Models of call records (CDR): the call, its events, transcript segments, notes and tags."""
from __future__ import annotations

from peewee import (BooleanField, CharField, CompositeKey, DateTimeField, FloatField, ForeignKeyField, IntegerField,
                    TextField)

from data.base import BaseModel, IdField, JSONField, created_field, utcnow
from data.models import Organization, User

DIRECTIONS = ("inbound", "outbound")
LIVE_STATUS = "active"
FINAL_STATUSES = ("completed", "answered", "no_answer", "busy", "failed")
"""How a call ended. ``answered`` is an external system's disposition (a call that was picked up); the voice
agent's own answered calls end as ``completed``."""
STATUSES = (LIVE_STATUS,) + FINAL_STATUSES
HANDLERS = ("AI", "HUMAN", "HYBRID")
OUTCOMES = ("INFO", "BOOKING", "TRANSFER", "MISSED", "VOICEMAIL", "OTHER")
SPEAKERS = ("AI", "CALLER", "AGENT")
SOURCES = ("voice", "external", "demo")


class Call(BaseModel):
    id = IdField("call")
    organization = ForeignKeyField(Organization, on_delete="CASCADE")
    direction = CharField()
    status = CharField()
    from_number = CharField()
    to_number = CharField()
    extension = CharField(null=True)
    assistant_id = CharField(null=True)
    phone_number_id = CharField(null=True)
    agent_id = CharField(null=True)
    campaign_id = CharField(null=True)
    lead_id = CharField(null=True)
    sip_call_id = CharField(null=True)
    external_id = CharField(null=True)
    source = CharField(default="voice")
    language = CharField(null=True)
    handled_by = CharField(null=True)
    outcome = CharField(null=True)
    outcome_details = TextField(null=True)
    ended_reason = CharField(null=True)
    started_at = DateTimeField(default=utcnow)
    answered_at = DateTimeField(null=True)
    ended_at = DateTimeField(null=True)
    duration_seconds = IntegerField(default=0)
    current_transcript = TextField(null=True)
    ai_confidence = FloatField(null=True)
    summary = TextField(null=True)
    sentiment = CharField(null=True)
    sentiment_score = FloatField(null=True)
    intent_detected = CharField(null=True)
    topics = JSONField(default=list)
    keywords = JSONField(default=list)
    resolved = BooleanField(null=True)
    structured_outputs = JSONField(default=dict)
    analyzed_at = DateTimeField(null=True)
    recording_path = CharField(null=True)
    """Relative to the recordings directory: ``<org>/<yyyy>/<mm>/<generated name>``."""
    recording_format = CharField(null=True)
    recording_duration_seconds = IntegerField(null=True)
    recording_size = IntegerField(null=True)
    created_at = created_field()
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "calls"

    @classmethod
    def of(cls, org_id: str, call_id: str) -> "Call | None":
        """The organization's call with this id, or None (another organization's call is None too)."""
        return cls.get_or_none((cls.id == call_id) & (cls.organization == org_id))

    @property
    def is_live(self) -> bool:
        """Whether the call is still in progress."""
        return self.status == LIVE_STATUS


class CallEvent(BaseModel):
    id = IdField("cev")
    call = ForeignKeyField(Call, backref="events", on_delete="CASCADE")
    event_type = CharField()
    data = JSONField(default=dict)
    created_at = created_field()

    class Meta:
        table_name = "call_events"


class TranscriptSegment(BaseModel):
    id = IdField("seg")
    call = ForeignKeyField(Call, backref="segments", on_delete="CASCADE")
    speaker = CharField()
    text = TextField()
    start_seconds = FloatField()
    end_seconds = FloatField()
    confidence = FloatField(null=True)
    created_at = created_field()

    class Meta:
        table_name = "transcript_segments"


class CallNote(BaseModel):
    id = IdField("note")
    call = ForeignKeyField(Call, backref="notes", on_delete="CASCADE")
    author = ForeignKeyField(User, null=True, on_delete="SET NULL")
    author_name = CharField()
    text = TextField()
    created_at = created_field()

    class Meta:
        table_name = "call_notes"


class CallTag(BaseModel):
    call = ForeignKeyField(Call, backref="tags", on_delete="CASCADE")
    tag = CharField()
    created_at = created_field()

    class Meta:
        table_name = "call_tags"
        primary_key = CompositeKey("call", "tag")


CALL_MODELS = [Call, CallEvent, TranscriptSegment, CallNote, CallTag]
