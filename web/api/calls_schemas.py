"""Schemas and views of call records for ``web.api.calls`` (kept apart: the routes read better without them)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from flask_smorest.fields import Upload
from marshmallow import ValidationError as MaValidationError, fields, validate

from appliance.calls_list import SORTS
from data.base import isoformat
from data.calls import (DIRECTIONS, FINAL_STATUSES, HANDLERS, OUTCOMES, SPEAKERS, STATUSES, Call, CallEvent, CallNote,
                        TranscriptSegment)
from web.api.common import PaginationSchema, Schema, UTCDateTime, page_args_schema

LANGUAGE = validate.Length(min=2, max=16)
ID = validate.Length(min=1, max=64)
NUMBER = validate.Length(min=2, max=64)


class DateOrDateTime(fields.String):
    """``YYYY-MM-DD`` (a whole day in the workspace's time zone) or an ISO 8601 date-time (exact)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        try:
            if len(text) == 10:
                return dt.date.fromisoformat(text)
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError as exc:
            raise MaValidationError("Use YYYY-MM-DD or an ISO 8601 date-time") from exc


class CallQuerySchema(page_args_schema(SORTS)):
    status = fields.String(validate=validate.OneOf(STATUSES))
    direction = fields.String(validate=validate.OneOf(DIRECTIONS))
    agentId = fields.String(validate=ID)
    assistantId = fields.String(validate=ID)
    campaignId = fields.String(validate=ID)
    language = fields.String(validate=LANGUAGE)
    handledBy = fields.String(validate=validate.OneOf(HANDLERS))
    outcome = fields.String(validate=validate.OneOf(OUTCOMES))
    startDate = DateOrDateTime(metadata={"description": "from this day (workspace time zone) or instant on"})
    endDate = DateOrDateTime(metadata={"description": "through this day (inclusive) or until this instant"})
    search = fields.String(validate=validate.Length(max=64),
                           metadata={"description": "caller or destination number (any format) or extension"})


class CallStatsSchema(Schema):
    totalCalls = fields.Integer(required=True)
    aiHandled = fields.Integer(required=True, metadata={"description": "calls with handledBy AI"})
    humanTransfers = fields.Integer(required=True, metadata={"description": "calls with outcome TRANSFER"})
    avgDuration = fields.Integer(required=True, metadata={"description": "mean durationSeconds of connected calls"})


class RecordingInfoSchema(Schema):
    url = fields.String(required=True)
    format = fields.String(required=True)
    durationSeconds = fields.Integer(allow_none=True)
    sizeBytes = fields.Integer(allow_none=True)


class CallSummarySchema(Schema):
    id = fields.String(required=True)
    direction = fields.String(required=True, metadata={"enum": list(DIRECTIONS)})
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    fromNumber = fields.String(required=True, metadata={"description": "E.164, an extension, or what the PBX sent"})
    toNumber = fields.String(required=True)
    callerNumber = fields.String(required=True, metadata={"description": "the customer's number (from or to)"})
    phoneNumber = fields.String(required=True, metadata={"description": "our side's number or extension"})
    extension = fields.String(allow_none=True)
    assistantId = fields.String(allow_none=True)
    phoneNumberId = fields.String(allow_none=True)
    agentId = fields.String(allow_none=True)
    campaignId = fields.String(allow_none=True)
    leadId = fields.String(allow_none=True)
    externalId = fields.String(allow_none=True)
    source = fields.String(required=True)
    language = fields.String(allow_none=True)
    handledBy = fields.String(allow_none=True, metadata={"enum": list(HANDLERS)})
    outcome = fields.String(allow_none=True, metadata={"enum": list(OUTCOMES)})
    endedReason = fields.String(allow_none=True)
    startedAt = UTCDateTime(required=True)
    answeredAt = UTCDateTime(allow_none=True)
    endedAt = UTCDateTime(allow_none=True)
    durationSeconds = fields.Integer(required=True, metadata={"description": "talk time: answer to end"})
    aiConfidence = fields.Float(allow_none=True, metadata={"description": "0-100"})
    sentiment = fields.String(allow_none=True)
    intentDetected = fields.String(allow_none=True)
    recordingUrl = fields.String(allow_none=True)
    createdAt = UTCDateTime(required=True)
    updatedAt = UTCDateTime(required=True)


class CallListEnvelope(Schema):
    """The list: ``data`` is the page of calls; ``stats`` covers every call matching the filter."""

    success = fields.Boolean(required=True)
    message = fields.String()
    data = fields.List(fields.Nested(CallSummarySchema), required=True)
    stats = fields.Nested(CallStatsSchema, required=True)
    pagination = fields.Nested(PaginationSchema, required=True)


class TranscriptEntrySchema(Schema):
    timestamp = UTCDateTime(required=True, metadata={"description": "when it was said"})
    offset = fields.String(required=True, metadata={"description": "mm:ss from the answer (into the recording)"})
    speaker = fields.String(required=True, metadata={"enum": list(SPEAKERS)})
    text = fields.String(required=True)
    startSeconds = fields.Float(required=True, metadata={"description": "seconds from the answer"})
    endSeconds = fields.Float(required=True)
    confidence = fields.Float(allow_none=True)


class CallEventSchema(Schema):
    eventType = fields.String(required=True)
    eventData = fields.Dict(required=True)
    timestamp = UTCDateTime(required=True)


class AuthorSchema(Schema):
    id = fields.String(allow_none=True)
    name = fields.String(required=True)


class NoteSchema(Schema):
    id = fields.String(dump_only=True)
    callId = fields.String(dump_only=True)
    content = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    createdBy = fields.Nested(AuthorSchema, dump_only=True)
    createdAt = UTCDateTime(dump_only=True)


class CallDetailSchema(CallSummarySchema):
    sipCallId = fields.String(allow_none=True)
    outcomeDetails = fields.String(allow_none=True)
    summary = fields.String(allow_none=True)
    sentimentScore = fields.Float(allow_none=True, metadata={"description": "-1 (negative) to 1 (positive)"})
    topics = fields.List(fields.String(), required=True)
    keywords = fields.List(fields.String(), required=True)
    resolved = fields.Boolean(allow_none=True, metadata={"description": "the AI resolved it without a person"})
    structuredOutputs = fields.Dict(required=True)
    analyzedAt = UTCDateTime(allow_none=True)
    recording = fields.Nested(RecordingInfoSchema, allow_none=True)
    transcript = fields.List(fields.Nested(TranscriptEntrySchema), required=True)
    events = fields.List(fields.Nested(CallEventSchema), required=True)
    notes = fields.List(fields.Nested(NoteSchema), required=True)
    tags = fields.List(fields.String(), required=True)


class TranscriptInSchema(Schema):
    speaker = fields.String(required=True, validate=validate.OneOf(SPEAKERS))
    text = fields.String(required=True, validate=validate.Length(min=1, max=10_000))
    startSeconds = fields.Float(load_default=0.0, validate=validate.Range(min=0, max=86_400))
    endSeconds = fields.Float(load_default=None, validate=validate.Range(min=0, max=86_400))
    confidence = fields.Float(load_default=None, validate=validate.Range(min=0, max=1))


class CallCreateSchema(Schema):
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    status = fields.String(load_default="completed", validate=validate.OneOf(FINAL_STATUSES),
                           metadata={"description": "how it ended (records of finished calls only)"})
    fromNumber = fields.String(required=True, validate=NUMBER)
    toNumber = fields.String(required=True, validate=NUMBER)
    extension = fields.String(validate=validate.Length(min=2, max=16))
    startedAt = UTCDateTime(required=True)
    answeredAt = UTCDateTime(allow_none=True)
    endedAt = UTCDateTime(allow_none=True)
    durationSeconds = fields.Integer(validate=validate.Range(min=0, max=7 * 86_400),
                                     metadata={"description": "default: endedAt - answeredAt"})
    assistantId = fields.String(allow_none=True, validate=ID)
    phoneNumberId = fields.String(allow_none=True, validate=ID)
    agentId = fields.String(allow_none=True, validate=ID)
    campaignId = fields.String(allow_none=True, validate=ID)
    leadId = fields.String(allow_none=True, validate=ID)
    externalId = fields.String(allow_none=True, validate=validate.Length(min=1, max=128),
                               metadata={"description": "the other system's id; unique per workspace"})
    sipCallId = fields.String(allow_none=True, validate=validate.Length(max=256))
    language = fields.String(allow_none=True, validate=LANGUAGE)
    handledBy = fields.String(allow_none=True, validate=validate.OneOf(HANDLERS))
    outcome = fields.String(allow_none=True, validate=validate.OneOf(OUTCOMES))
    outcomeDetails = fields.String(allow_none=True, validate=validate.Length(max=2000))
    aiConfidence = fields.Float(allow_none=True, validate=validate.Range(min=0, max=100),
                                metadata={"description": "0-100"})
    endedReason = fields.String(allow_none=True, validate=validate.Length(max=200))
    summary = fields.String(allow_none=True, validate=validate.Length(max=5000))
    sentiment = fields.String(allow_none=True, validate=validate.OneOf(["positive", "neutral", "negative"]))
    intentDetected = fields.String(allow_none=True, validate=validate.Length(max=64))
    topics = fields.List(fields.String(validate=validate.Length(max=64)), validate=validate.Length(max=50))
    structuredOutputs = fields.Dict()
    transcript = fields.List(fields.Nested(TranscriptInSchema), validate=validate.Length(max=2000),
                             metadata={"description": "if given, the call is analysed like the AI's own"})


class LiveTurnSchema(Schema):
    speaker = fields.String(required=True)
    text = fields.String(required=True)
    partial = fields.Boolean(metadata={"description": "still being heard (not final)"})


class LiveCallSchema(Schema):
    id = fields.String(required=True)
    direction = fields.String(required=True)
    status = fields.String(required=True)
    fromNumber = fields.String(required=True)
    toNumber = fields.String(required=True)
    callerNumber = fields.String(required=True)
    phoneNumber = fields.String(required=True)
    language = fields.String(allow_none=True)
    handledBy = fields.String(allow_none=True)
    assistantId = fields.String(allow_none=True)
    agentId = fields.String(allow_none=True)
    campaignId = fields.String(allow_none=True)
    startedAt = UTCDateTime(required=True)
    answeredAt = UTCDateTime(allow_none=True)
    durationSeconds = fields.Integer(required=True)
    aiConfidence = fields.Float(allow_none=True)
    currentTranscript = fields.List(fields.Nested(LiveTurnSchema), required=True)


class ConcurrencySchema(Schema):
    current = fields.Integer(required=True, metadata={"description": "calls in progress now"})
    peak = fields.Integer(required=True, metadata={"description": "most simultaneous calls in the last 24 hours"})
    limit = fields.Integer(required=True, metadata={"description": "workspace setting maxConcurrentCalls"})


class SeriesQuerySchema(Schema):
    granularity = fields.String(load_default="hour", validate=validate.OneOf(["minute", "hour", "day"]))
    limit = fields.Integer(load_default=24, validate=validate.Range(min=1, max=1440))


class SeriesPointSchema(Schema):
    timestamp = UTCDateTime(required=True, metadata={"description": "start of the UTC bucket"})
    count = fields.Integer(required=True, metadata={"description": "most simultaneous calls in the bucket"})


class TagInSchema(Schema):
    tag = fields.String(required=True, validate=validate.Length(min=1, max=50))


class TagsSchema(Schema):
    callId = fields.String(required=True)
    tag = fields.String()
    tags = fields.List(fields.String(), required=True)


class RecordingQuerySchema(Schema):
    format = fields.String(load_default="wav", validate=validate.OneOf(["wav", "mp3"]))


class RecordingUploadSchema(Schema):
    recording = Upload(required=True, metadata={"description": "a PCM WAV file"})


class RecordingOutSchema(RecordingInfoSchema):
    callId = fields.String(required=True)
    recordingUrl = fields.String(required=True)


# --- views -------------------------------------------------------------------------------------------------------

def recording_url(call_id: str, recording_path: str | None) -> str | None:
    """Where the API serves the call's audio (None without a recording)."""
    return f"/api/v1/calls/{call_id}/recording" if recording_path else None


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _parties(direction: str, from_number: str, to_number: str) -> tuple[str, str]:
    """(the customer's number, our side's number)."""
    return (to_number, from_number) if direction == "outbound" else (from_number, to_number)


def _iso(value) -> str | None:
    """``isoformat`` with a fast path for SQLite's stored text (``YYYY-MM-DD HH:MM:SS[.ffffff]``, naive UTC)."""
    if isinstance(value, str) and len(value) >= 19 and value[10] in " T":
        return f"{value[:10]}T{value[11:19]}Z"
    return isoformat(value)


def summary_view(v: Mapping[str, Any]) -> dict:
    """A call as the list shows it, from its column values (a list row, or a model's ``__data__``).

    Times leave as ISO 8601 strings so the list can skip a schema dump (it is the hot path)."""
    caller, ours = _parties(v["direction"], v["from_number"], v["to_number"])
    return {"id": v["id"], "direction": v["direction"], "status": v["status"], "fromNumber": v["from_number"],
            "toNumber": v["to_number"], "callerNumber": caller, "phoneNumber": ours, "extension": v["extension"],
            "assistantId": v["assistant_id"], "phoneNumberId": v["phone_number_id"], "agentId": v["agent_id"],
            "campaignId": v["campaign_id"], "leadId": v["lead_id"], "externalId": v["external_id"],
            "source": v["source"], "language": v["language"], "handledBy": v["handled_by"],
            "outcome": v["outcome"], "endedReason": v["ended_reason"], "startedAt": _iso(v["started_at"]),
            "answeredAt": _iso(v["answered_at"]), "endedAt": _iso(v["ended_at"]),
            "durationSeconds": v["duration_seconds"], "aiConfidence": _percent(v["ai_confidence"]),
            "sentiment": v["sentiment"], "intentDetected": v["intent_detected"],
            "recordingUrl": recording_url(v["id"], v["recording_path"]), "createdAt": _iso(v["created_at"]),
            "updatedAt": _iso(v["updated_at"])}


def _offset(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"


def transcript_entry(call: Call, seg: TranscriptSegment) -> dict:
    """One transcript line: when it was said, its offset into the recording, speaker, text."""
    origin = call.answered_at or call.started_at
    return {"timestamp": origin + dt.timedelta(seconds=seg.start_seconds),
            "offset": _offset(seg.start_seconds), "speaker": seg.speaker, "text": seg.text,
            "startSeconds": seg.start_seconds, "endSeconds": seg.end_seconds, "confidence": seg.confidence}


def note_view(note: CallNote) -> dict:
    """A note with its author."""
    return {"id": note.id, "callId": note.call_id, "content": note.text,
            "createdBy": {"id": note.author_id, "name": note.author_name}, "createdAt": note.created_at}


def detail_view(call: Call, segments: list[TranscriptSegment], events: list[CallEvent], notes: list[CallNote],
                tags: list[str]) -> dict:
    """The whole record."""
    recording = None
    if call.recording_path:
        recording = {"url": recording_url(call.id, call.recording_path), "format": call.recording_format,
                     "durationSeconds": call.recording_duration_seconds, "sizeBytes": call.recording_size}
    return {**summary_view(call.__data__), "sipCallId": call.sip_call_id, "outcomeDetails": call.outcome_details,
            "summary": call.summary, "sentimentScore": call.sentiment_score, "topics": call.topics or [],
            "keywords": call.keywords or [], "resolved": call.resolved,
            "structuredOutputs": call.structured_outputs or {}, "analyzedAt": call.analyzed_at,
            "recording": recording, "transcript": [transcript_entry(call, s) for s in segments],
            "events": [{"eventType": e.event_type, "eventData": e.data or {}, "timestamp": e.created_at}
                       for e in events],
            "notes": [note_view(n) for n in notes], "tags": tags}


def live_view(item: dict) -> dict:
    """A call in progress."""
    call = item["call"]
    caller, ours = _parties(call.direction, call.from_number, call.to_number)
    return {"id": call.id, "direction": call.direction, "status": call.status, "fromNumber": call.from_number,
            "toNumber": call.to_number, "callerNumber": caller, "phoneNumber": ours, "language": call.language,
            "handledBy": call.handled_by, "assistantId": call.assistant_id, "agentId": call.agent_id,
            "campaignId": call.campaign_id, "startedAt": call.started_at, "answeredAt": call.answered_at,
            "durationSeconds": item["durationSeconds"], "aiConfidence": _percent(call.ai_confidence),
            "currentTranscript": item["currentTranscript"]}
