"""Models of the AI: assistants, knowledge items, phone numbers, appointments, test sessions, events outbox."""
from __future__ import annotations

import datetime as dt

from peewee import (BooleanField, CharField, CompositeKey, DateTimeField, ForeignKeyField, IntegerField,
                    TextField)

from data.base import BaseModel, IdField, JSONField, created_field, utcnow
from data.models import Organization


class Assistant(BaseModel):
    id = IdField("asst")
    organization = ForeignKeyField(Organization, backref="assistants", on_delete="CASCADE")
    name = CharField()
    language = CharField(default="en")
    voice = JSONField(default=dict)
    asr = JSONField(default=dict)
    greeting_message = TextField(default="")
    closing_message = TextField(default="")
    tone = CharField(default="professional")
    speaking_style = CharField(default="balanced")
    transfer_rules = JSONField(default=dict)
    transfer_destination = CharField(null=True)
    safety_rules = JSONField(default=dict)
    enable_sentiment = BooleanField(default=True)
    enable_intent = BooleanField(default=True)
    booking_enabled = BooleanField(default=True)
    business_hours = JSONField(default=dict)
    after_hours_action = CharField(default="assistant")
    appointment_minutes = IntegerField(default=30)
    is_active = BooleanField(default=True)
    created_at = created_field()
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "assistants"


class KnowledgeItem(BaseModel):
    id = IdField("kb")
    organization = ForeignKeyField(Organization, backref="knowledge_items", on_delete="CASCADE")
    category = CharField(default="general")
    question = TextField()
    answer = TextField()
    question_variations = JSONField(default=list)
    is_priority = BooleanField(default=False)
    is_active = BooleanField(default=True)
    usage_count = IntegerField(default=0)
    last_used_at = DateTimeField(null=True)
    created_at = created_field()
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "knowledge_items"

    @classmethod
    def record_use(cls, item_id: str) -> None:
        """Count one use of an answer (atomic increment, no read-modify-write race)."""
        cls.update(usage_count=cls.usage_count + 1, last_used_at=utcnow()).where(cls.id == item_id).execute()


class PhoneNumber(BaseModel):
    id = IdField("pn")
    organization = ForeignKeyField(Organization, backref="phone_numbers", on_delete="CASCADE")
    number = CharField()
    display_name = CharField(default="")
    sip_server = CharField(null=True)
    sip_port = IntegerField(default=5060)
    sip_username = CharField(null=True)
    sip_password = TextField(default="")  # sealed with SecretBox; never shown
    sip_transport = CharField(default="udp")
    assistant = ForeignKeyField(Assistant, null=True, on_delete="SET NULL", backref="phone_numbers")
    business_hours = JSONField(default=dict)
    after_hours_action = CharField(default="assistant")
    after_hours_destination = CharField(null=True)
    is_active = BooleanField(default=True)
    registration_status = CharField(default="unregistered")
    registration_error = TextField(null=True)
    registered_at = DateTimeField(null=True)
    created_at = created_field()
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "phone_numbers"


class Appointment(BaseModel):
    id = IdField("apt")
    organization = ForeignKeyField(Organization, backref="appointments", on_delete="CASCADE")
    call_id = CharField(null=True)
    assistant = ForeignKeyField(Assistant, null=True, on_delete="SET NULL")
    customer_name = CharField()
    customer_phone = CharField(null=True)
    appointment_date = CharField()  # local date of the business, YYYY-MM-DD
    appointment_time = CharField()  # local time of the business, HH:MM
    starts_at = DateTimeField()  # local wall-clock start, for overlap queries
    ends_at = DateTimeField()
    duration_minutes = IntegerField(default=30)
    appointment_type = CharField(default="appointment")
    status = CharField(default="scheduled")
    quality_score = IntegerField(null=True)
    notes = TextField(default="")
    source = CharField(default="MANUAL")
    created_at = created_field()
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "appointments"

    @classmethod
    def overlapping(cls, org_id: str, starts: dt.datetime, ends: dt.datetime, exclude: str | None = None):
        """Live appointments of the organization that overlap ``[starts, ends)``."""
        query = cls.select().where((cls.organization == org_id) & (cls.starts_at < ends) & (cls.ends_at > starts)
                                   & cls.status.not_in(INACTIVE_STATUSES))
        return query.where(cls.id != exclude) if exclude else query


INACTIVE_STATUSES = ("cancelled", "no_show")


class AiSession(BaseModel):
    id = IdField("ais")
    organization = ForeignKeyField(Organization, on_delete="CASCADE")
    assistant = ForeignKeyField(Assistant, null=True, on_delete="CASCADE")
    language = CharField(default="en")
    state = JSONField(default=dict)
    turns = IntegerField(default=0)
    created_at = created_field()
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "ai_sessions"


class AddonState(BaseModel):
    organization = ForeignKeyField(Organization, on_delete="CASCADE")
    addon_type = CharField()
    enabled = BooleanField()
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "addon_states"
        primary_key = CompositeKey("organization", "addon_type")


class CalendarFeed(BaseModel):
    organization = ForeignKeyField(Organization, primary_key=True, on_delete="CASCADE")
    token_hash = CharField(unique=True)
    created_at = created_field()

    class Meta:
        table_name = "calendar_feeds"


class Event(BaseModel):
    id = IdField("evt")
    organization = ForeignKeyField(Organization, on_delete="CASCADE")
    event = CharField()
    data = JSONField(default=dict)
    created_at = created_field()
    dispatched_at = DateTimeField(null=True)

    class Meta:
        table_name = "events"


AI_MODELS = [Assistant, KnowledgeItem, PhoneNumber, Appointment, AiSession, AddonState, CalendarFeed, Event]
