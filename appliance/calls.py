"""Call records (CDR): the life of a call as the voice agent reports it, and records made by other systems.

The voice agent calls, in order: ``start_call`` → ``mark_answered`` → ``add_segment``/``add_event``/``update_live``
(any number of times) → ``finish_call``. Each function commits its own change in one transaction; ``finish_call``
records ``call.ended`` in the events outbox in that same transaction and then queues post-call analysis
(``jobs.analysis.analyze_call``). All times are UTC. Phone numbers are stored as E.164 (short PBX extensions as
they are). Live calls and concurrency (``appliance.calls_query``) and notes and tags (``appliance.calls_notes``)
are re-exported here; the list with its stats is ``appliance.calls_list``. Recording files: ``calls_recording``.

Timeline events ``started``, ``answered`` and ``ended`` are written by ``start_call``, ``mark_answered`` and
``finish_call`` themselves; webhooks hear ``call.started``, ``call.answered``, ``call.ended``, ``call.transferred``
(an ``add_event`` of type ``transferred``), ``call.recording.available`` and ``call.transcript.available``.
"""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any, BinaryIO

from peewee import IntegrityError

from appliance import events, phone
from appliance.calls_notes import add_note, add_tag, normalize_tag, notes, remove_tag, tags
from appliance.calls_query import concurrency, concurrency_series, live_calls
from appliance.errors import CallboxError, DuplicateEntry, NotFound, ValidationError
from data.ai import Assistant, PhoneNumber
from data.base import isoformat, utcnow
from data.calls import (DIRECTIONS, FINAL_STATUSES, HANDLERS, LIVE_STATUS, OUTCOMES, SPEAKERS, Call, CallEvent,
                        TranscriptSegment)
from data.db import database

logger = logging.getLogger(__name__)

__all__ = ["start_call", "mark_answered", "add_event", "add_segment", "update_live", "finish_call", "live_calls",
           "concurrency", "concurrency_series", "close_stale_calls", "queue_analysis", "get", "create_external",
           "attach_upload", "event_data", "recording_event", "add_note", "notes", "add_tag", "remove_tag", "tags",
           "normalize_tag"]

VOICE_FINAL_STATUSES = ("completed", "no_answer", "busy", "failed")
MAX_TEXT = 10_000
MAX_EVENT_TYPE = 64
# Add-event types that also tell webhooks (the catalog's call.transferred).
_TRANSFER_EVENTS = ("transferred", "transfer")


def _choice(name: str, value: Any, allowed: tuple, *, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if value not in allowed:
        raise ValidationError(f"{name} must be one of {', '.join(allowed)}", {name: [f"not one of {allowed}"]})
    return value


def _live_call(call_id: str) -> Call:
    call = Call.get_or_none(Call.id == call_id)
    if call is None:
        raise NotFound(f"No call {call_id}")
    return call


def get(org_id: str, call_id: str) -> Call:
    """One call of the organization; ``NotFound`` for an unknown id or another organization's call."""
    call = Call.of(org_id, call_id)
    if call is None:
        raise NotFound("No call with this id")
    return call


def _extension(*numbers: str) -> str | None:
    return next((n for n in numbers if phone.is_extension(n)), None)


def event_data(call: Call) -> dict:
    """The ``data`` of a ``call.*`` webhook event: the record's identity, parties, times and result."""
    return {"callId": call.id, "direction": call.direction, "status": call.status,
            "fromNumber": call.from_number, "toNumber": call.to_number, "extension": call.extension,
            "assistantId": call.assistant_id, "agentId": call.agent_id, "campaignId": call.campaign_id,
            "leadId": call.lead_id, "language": call.language, "handledBy": call.handled_by,
            "outcome": call.outcome, "endedReason": call.ended_reason, "durationSeconds": call.duration_seconds,
            "startedAt": isoformat(call.started_at), "answeredAt": isoformat(call.answered_at),
            "endedAt": isoformat(call.ended_at), "source": call.source}


def _event(call_id: str, event_type: str, data: dict | None = None, at: dt.datetime | None = None) -> None:
    CallEvent.create(call=call_id, event_type=event_type, data=data or {}, created_at=at or utcnow())


# --- the voice agent's interface ---------------------------------------------------------------------------------

def start_call(org_id: str, *, direction: str, from_number: str, to_number: str, assistant_id: str | None = None,
               phone_number_id: str | None = None, agent_id: str | None = None, campaign_id: str | None = None,
               lead_id: str | None = None, sip_call_id: str | None = None, language: str | None = None) -> str:
    """Open the record of a call now ringing or connecting; returns its id (status ``active``)."""
    _choice("direction", direction, DIRECTIONS)
    region = phone.default_region(org_id)
    caller, callee = phone.lenient(from_number, region), phone.lenient(to_number, region)
    now = utcnow()
    with database.atomic():
        call = Call.create(organization=org_id, direction=direction, status=LIVE_STATUS, from_number=caller,
                           to_number=callee, extension=_extension(callee, caller), assistant_id=assistant_id,
                           phone_number_id=phone_number_id, agent_id=agent_id, campaign_id=campaign_id,
                           lead_id=lead_id, sip_call_id=sip_call_id, language=language, source="voice",
                           started_at=now, created_at=now, updated_at=now)
        _event(call.id, "started", {"direction": direction}, now)
        events.emit("call.started", event_data(call), org_id)
    logger.info("call %s started (%s)", call.id, direction)
    return call.id


def mark_answered(call_id: str) -> None:
    """The call was picked up (by the AI or a person): ``answeredAt`` is now. Repeating it changes nothing."""
    with database.atomic():
        call = _live_call(call_id)
        if call.answered_at is not None:
            return
        call.answered_at = call.updated_at = utcnow()
        call.save(only=[Call.answered_at, Call.updated_at])
        _event(call.id, "answered", {}, call.answered_at)
        events.emit("call.answered", event_data(call), call.organization_id)


def add_event(call_id: str, event_type: str, data: dict | None = None) -> None:
    """Append one entry to the call's timeline (``transferred`` also tells webhooks ``call.transferred``)."""
    if not isinstance(event_type, str) or not event_type.strip() or len(event_type) > MAX_EVENT_TYPE:
        raise ValidationError(f"event_type must be a name of 1-{MAX_EVENT_TYPE} characters")
    if data is not None and not isinstance(data, dict):
        raise ValidationError("event data must be a dict")
    with database.atomic():
        call = _live_call(call_id)
        _event(call.id, event_type.strip(), data)
        if event_type.strip() in _TRANSFER_EVENTS:
            events.emit("call.transferred", {**event_data(call), "transfer": data or {}}, call.organization_id)


def add_segment(call_id: str, speaker: str, text: str, start_seconds: float, end_seconds: float,
                confidence: float | None = None) -> str:
    """Append one final piece of the transcript; returns its id.

    Times are seconds from the answer (where the recording starts), or from the start if never answered."""
    _choice("speaker", speaker, SPEAKERS)
    text = (text or "").strip()
    if not text:
        raise ValidationError("a transcript segment needs text")
    if start_seconds < 0 or end_seconds < start_seconds:
        raise ValidationError("segment times must satisfy 0 <= start_seconds <= end_seconds")
    with database.atomic():
        call = _live_call(call_id)
        row = TranscriptSegment.create(call=call.id, speaker=speaker, text=text[:MAX_TEXT],
                                       start_seconds=float(start_seconds), end_seconds=float(end_seconds),
                                       confidence=_unit(confidence))
    return row.id


def _unit(value: float | None) -> float | None:
    """A confidence as 0..1 (a value above 1 is read as a percentage)."""
    if value is None:
        return None
    value = float(value)
    if value > 1:
        value /= 100
    if not 0 <= value <= 1:
        raise ValidationError("confidence must be within 0..1 (or 0..100 %)")
    return round(value, 4)


def update_live(call_id: str, current_transcript: str | None = None, ai_confidence: float | None = None) -> None:
    """What the live view shows: the words being heard now (partial ASR) and the AI's current confidence.

    Not a change of the record: ``updated_at`` stays, so the list's cached stats stay valid during calls.
    """
    changes: dict = {}
    if current_transcript is not None:
        changes[Call.current_transcript] = str(current_transcript)[:MAX_TEXT]
    if ai_confidence is not None:
        changes[Call.ai_confidence] = _unit(ai_confidence)
    if not changes:
        return
    with database.atomic():
        if not Call.update(changes).where(Call.id == call_id).execute():
            raise NotFound(f"No call {call_id}")


def finish_call(call_id: str, *, status: str, ended_reason: str, handled_by: str | None = None,
                outcome: str | None = None, recording_path: str | None = None) -> None:
    """Close the record: end time, duration, result; ``call.ended`` is recorded in the same transaction and
    post-call analysis is queued. Finishing a call twice changes nothing the second time. ``recording_path`` is
    the WAV the voice agent wrote (see ``calls_recording.recording_target``); one that is not a readable WAV inside
    the recordings directory is left out and noted as a ``recording_rejected`` event."""
    from appliance import calls_recording

    _choice("status", status, VOICE_FINAL_STATUSES)
    _choice("handled_by", handled_by, HANDLERS, optional=True)
    _choice("outcome", outcome, OUTCOMES, optional=True)
    recording, rejected = _checked_recording(call_id, recording_path)
    with database.atomic():
        call = _live_call(call_id)
        if call.ended_at is not None:
            logger.info("call %s was already finished; ignored", call_id)
            return
        _close(call, status, (ended_reason or "unknown")[:200], handled_by, outcome)
        if recording is not None:
            calls_recording.attach(call, recording)
        call.save()
        if rejected:
            _event(call.id, "recording_rejected", {"error": rejected}, call.ended_at)
        _event(call.id, "ended", {"reason": call.ended_reason, "status": status}, call.ended_at)
        events.emit("call.ended", event_data(call), call.organization_id)
        if recording is not None:
            events.emit("call.recording.available", recording_event(call), call.organization_id)
    logger.info("call %s finished: %s (%s s)", call.id, status, call.duration_seconds)
    queue_analysis(call.id)


def _checked_recording(call_id: str, recording_path: str | None):
    """(the checked recording, or None; why it was refused, or None). A bad file never keeps a call open."""
    from appliance import calls_recording

    if not recording_path:
        return None, None
    try:
        return calls_recording.probe_stored(recording_path), None
    except CallboxError as exc:
        logger.error("call %s: recording %s refused: %s", call_id, recording_path, exc.message)
        return None, exc.message


def _close(call: Call, status: str, reason: str, handled_by: str | None, outcome: str | None) -> None:
    now = utcnow()
    call.status, call.ended_at, call.ended_reason = status, now, reason
    call.duration_seconds = int((now - call.answered_at).total_seconds()) if call.answered_at else 0
    call.handled_by = handled_by or call.handled_by
    call.outcome = outcome or call.outcome or ("MISSED" if status in ("no_answer", "busy") else None)
    call.current_transcript, call.updated_at = None, now


def recording_event(call: Call) -> dict:
    """The ``data`` of ``call.recording.available``."""
    return {"callId": call.id, "format": call.recording_format,
            "durationSeconds": call.recording_duration_seconds, "sizeBytes": call.recording_size,
            "url": f"/api/v1/calls/{call.id}/recording"}


def queue_analysis(call_id: str) -> None:
    """Queue post-call analysis (idempotent task; runs inline when the queue is in immediate mode)."""
    from jobs.analysis import analyze_call

    try:
        analyze_call(call_id)
    except Exception:  # the record is committed; a queue outage must not fail the call. Re-run analyze_call.
        logger.exception("post-call analysis of %s could not be queued", call_id)


def close_stale_calls(max_age: dt.timedelta = dt.timedelta(hours=12), org_id: str | None = None) -> int:
    """Finish calls still ``active`` after ``max_age`` (a voice process died mid-call) as ``failed``."""
    cutoff = utcnow() - max_age
    query = Call.select(Call.id).where((Call.status == LIVE_STATUS) & (Call.started_at < cutoff))
    if org_id is not None:
        query = query.where(Call.organization == org_id)
    stale = [row.id for row in query]
    for call_id in stale:
        finish_call(call_id, status="failed", ended_reason="stale")
    return len(stale)


# --- records made through the API --------------------------------------------------------------------------------

def _check_owned(org_id: str, model, value: str | None, name: str) -> None:
    if value and model.get_or_none((model.id == value) & (model.organization == org_id)) is None:
        raise ValidationError(f"{name}: no such resource in this workspace", {name: ["not found"]})


def _record_fields(org_id: str, body: dict) -> dict:
    region = phone.default_region(org_id)
    fields = {"from_number": phone.to_e164(body["fromNumber"], region, field="fromNumber"),
              "to_number": phone.to_e164(body["toNumber"], region, field="toNumber")}
    if body.get("extension"):
        fields["extension"] = phone.to_e164(body["extension"], region, field="extension")
    else:
        fields["extension"] = _extension(fields["to_number"], fields["from_number"])
    _check_owned(org_id, Assistant, body.get("assistantId"), "assistantId")
    _check_owned(org_id, PhoneNumber, body.get("phoneNumberId"), "phoneNumberId")
    for key, column in _EXTERNAL_COLUMNS.items():
        if key in body:
            fields[column] = body[key]
    if body.get("aiConfidence") is not None:
        fields["ai_confidence"] = round(body["aiConfidence"] / 100, 4)
    return fields


_EXTERNAL_COLUMNS = {
    "direction": "direction", "status": "status", "assistantId": "assistant_id", "phoneNumberId": "phone_number_id",
    "agentId": "agent_id", "campaignId": "campaign_id", "leadId": "lead_id", "externalId": "external_id",
    "sipCallId": "sip_call_id", "language": "language", "handledBy": "handled_by", "outcome": "outcome",
    "outcomeDetails": "outcome_details", "endedReason": "ended_reason", "startedAt": "started_at",
    "answeredAt": "answered_at", "endedAt": "ended_at", "summary": "summary", "sentiment": "sentiment",
    "intentDetected": "intent_detected", "topics": "topics", "structuredOutputs": "structured_outputs",
}


def _check_times(fields: dict) -> None:
    started, answered, ended = fields["started_at"], fields.get("answered_at"), fields.get("ended_at")
    if answered is not None and answered < started:
        raise ValidationError("answeredAt is before startedAt", {"answeredAt": ["before startedAt"]})
    if ended is not None and ended < (answered or started):
        raise ValidationError("endedAt is before the call started (or was answered)", {"endedAt": ["too early"]})
    if fields["status"] not in FINAL_STATUSES:
        raise ValidationError("a record from another system is of a finished call", {"status": ["not final"]})
    if ended is None:
        raise ValidationError("a finished call needs endedAt", {"endedAt": ["missing"]})


def _duration(fields: dict, given: int | None) -> int:
    if given is not None:
        return given
    ended, answered = fields.get("ended_at"), fields.get("answered_at")
    return int((ended - answered).total_seconds()) if ended and answered else 0


def create_external(org_id: str, body: dict) -> Call:
    """A record of a finished call handled elsewhere (a PBX, a CRM); webhooks hear ``call.ended``."""
    fields = _record_fields(org_id, body)
    _check_times(fields)
    now = utcnow()
    fields["duration_seconds"] = _duration(fields, body.get("durationSeconds"))
    segments = _segments_in(body.get("transcript") or [])
    try:
        with database.atomic():
            call = Call.create(organization=org_id, source="external", created_at=now, updated_at=now, **fields)
            _external_timeline(call)
            for segment in segments:
                TranscriptSegment.create(call=call.id, created_at=now, **segment)
            events.emit("call.ended", event_data(call), org_id)
    except IntegrityError as exc:  # the unique (organization, externalId) index
        raise _duplicate(fields.get("external_id")) from exc
    if segments:
        queue_analysis(call.id)
    return call


def _external_timeline(call: Call) -> None:
    """The timeline of a record from elsewhere, at the times it gives."""
    _event(call.id, "started", {"direction": call.direction, "source": "external"}, call.started_at)
    if call.answered_at:
        _event(call.id, "answered", {}, call.answered_at)
    _event(call.id, "ended", {"reason": call.ended_reason, "status": call.status}, call.ended_at)


def _segments_in(transcript: list[dict]) -> list[dict]:
    """Transcript lines given with an external record, as segment columns."""
    rows = []
    for n, entry in enumerate(transcript):
        start = float(entry.get("startSeconds") or 0.0)
        end = entry.get("endSeconds")
        end = start if end is None else float(end)
        if end < start:
            raise ValidationError(f"transcript[{n}]: endSeconds is before startSeconds", {"transcript": [n]})
        rows.append({"speaker": entry["speaker"], "text": entry["text"].strip()[:MAX_TEXT], "start_seconds": start,
                     "end_seconds": end, "confidence": _unit(entry.get("confidence"))})
    return rows


def _duplicate(external_id: str) -> DuplicateEntry:
    return DuplicateEntry("A call with this externalId is already recorded", {"externalId": [external_id]})


def attach_upload(call: Call, stream: BinaryIO, max_bytes: int, root: Path | None = None) -> Call:
    """Store an uploaded WAV as the call's recording (replacing any earlier one) and tell webhooks."""
    from appliance import calls_recording

    recording = calls_recording.save_upload(call, stream, max_bytes, root)
    try:
        with database.atomic():
            previous = calls_recording.attach(call, recording)
            call.updated_at = utcnow()
            call.save(only=[Call.recording_path, Call.recording_format, Call.recording_duration_seconds,
                            Call.recording_size, Call.updated_at])
            _event(call.id, "recording.attached", {"format": recording.format,
                                                   "durationSeconds": recording.duration_seconds})
            events.emit("call.recording.available", recording_event(call), call.organization_id)
    except Exception:
        calls_recording.remove(recording.relative_path, root)  # nothing half-written left behind
        raise
    calls_recording.remove(previous, root)
    return call
