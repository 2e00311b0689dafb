"""The bridge between the database and the dialog engine (``voice/dialog``).

Database rows become the engine's frozen dataclasses (``AssistantProfile``, ``KnowledgeItem``); ``DbBooking`` is the
engine's ``BookingBackend`` over the appointments table; ``test_turn`` runs one ``/ai/test`` turn with the
conversation's state kept in an ``AiSession`` row between requests. The voice agent uses the same pieces per call.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import OrderedDict

from peewee import fn

from appliance import addons, appointments, assistants, knowledge, llm
from appliance.assistants import DEFAULT_SAFETY_RULES, DEFAULT_TRANSFER_RULES, get_default
from appliance.business_hours import org_timezone
from appliance.errors import NotFound, ValidationError
from appliance.llm import LlmPhraser
from appliance.phone_numbers import normalize_number
from appliance.security import SecretBox
from data.ai import INACTIVE_STATUSES, AiSession, Appointment, Assistant, KnowledgeItem
from data.base import utcnow
from data.models import Organization
from voice.dialog import types as engine
from voice.dialog.conversation import Conversation
from voice.dialog.embedding import shared_encoder
from voice.dialog.retrieval import KnowledgeIndex

logger = logging.getLogger(__name__)

SESSION_TTL = dt.timedelta(hours=24)
PHRASE_TIMEOUT = 5.0  # seconds an LLM may take to reword one answer before the engine's own wording is used


def profile_for(org: Organization, assistant: Assistant | None, *, booking_allowed: bool = True
                ) -> engine.AssistantProfile:
    """The engine's view of an assistant (the engine's defaults when the workspace has none)."""
    tz = org_timezone(org.id).key
    if assistant is None:
        return engine.AssistantProfile(business_name=org.name, timezone=tz, booking_enabled=booking_allowed)
    rules = {**DEFAULT_TRANSFER_RULES, **(assistant.transfer_rules or {})}
    safety = {**DEFAULT_SAFETY_RULES, **(assistant.safety_rules or {})}
    hours = {day: (span["open"], span["close"]) for day, span in (assistant.business_hours or {}).items()}
    return engine.AssistantProfile(
        name=assistant.name, language=assistant.language, greeting=assistant.greeting_message,
        closing=assistant.closing_message, tone=assistant.tone, speaking_style=assistant.speaking_style,
        transfer_confidence_threshold=float(rules["confidenceThreshold"]) / 100.0,
        low_confidence_transfers=int(rules["lowConfidenceTurns"]), max_duration_seconds=int(rules["maxDuration"]),
        transfer_on_request=bool(rules["transferOnRequest"]), languages=tuple(rules["languages"] or ()),
        transfer_destination=assistant.transfer_destination,
        forbidden_topics=tuple(safety["forbiddenTopics"] or ()), disclaimer=safety["disclaimer"],
        booking_enabled=assistant.booking_enabled and booking_allowed, business_hours=hours or None,
        timezone=tz, appointment_minutes=assistant.appointment_minutes, business_name=org.name)


def engine_items(rows: list[KnowledgeItem]) -> list[engine.KnowledgeItem]:
    """Knowledge rows as the engine's items (ids stay the database's, so usage can be counted)."""
    return [engine.KnowledgeItem(id=r.id, question=r.question, answer=r.answer,
                                 variations=tuple(r.question_variations or ()), category=r.category,
                                 is_priority=r.is_priority, is_active=r.is_active) for r in rows]


class IndexCache:
    """Built knowledge indexes per organization, rebuilt when the organization's knowledge changes."""

    def __init__(self, size: int = 32):
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[tuple, object]] = OrderedDict()

    @staticmethod
    def _fingerprint(org_id: str) -> tuple:
        row = (KnowledgeItem.select(fn.COUNT(KnowledgeItem.id), fn.MAX(KnowledgeItem.updated_at))
               .where((KnowledgeItem.organization == org_id) & KnowledgeItem.is_active).tuples().first())
        return tuple(str(v) for v in row or ())

    def index_for(self, org_id: str):
        """The organization's index over its active knowledge items."""
        stamp = self._fingerprint(org_id)
        with self._lock:
            cached = self._entries.get(org_id)
            if cached and cached[0] == stamp:
                self._entries.move_to_end(org_id)
                return cached[1]
        index = KnowledgeIndex.build(engine_items(knowledge.active_items(org_id)), shared_encoder())
        with self._lock:
            self._entries[org_id] = (stamp, index)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return index


class DbBooking:
    """The engine's ``BookingBackend`` over the appointments table (overlaps checked under a booking lock)."""

    def __init__(self, org_id: str, assistant_id: str | None = None, call_id: str | None = None):
        self.org_id, self.assistant_id, self.call_id = org_id, assistant_id, call_id
        self.tz = org_timezone(org_id)

    def _local(self, start: dt.datetime) -> dt.datetime:
        if start.tzinfo is not None:
            start = start.astimezone(self.tz).replace(tzinfo=None)
        return start.replace(second=0, microsecond=0)

    def _phone(self, phone: str | None) -> str | None:
        if not phone:
            return None
        try:
            return normalize_number(phone, self.org_id)
        except ValidationError:
            return phone.strip()[:32]  # keep what the caller said; staff can fix it

    def is_free(self, start: dt.datetime, minutes: int) -> bool:
        """Whether [start, start + minutes) overlaps no live appointment of the workspace."""
        local = self._local(start)
        return not Appointment.overlapping(self.org_id, local, local + dt.timedelta(minutes=minutes)).exists()

    def book(self, name: str, phone: str, start: dt.datetime, minutes: int, reason: str) -> str:
        """Create the appointment (and its ``appointment.booked`` event); ``Conflict`` if the slot was taken."""
        local = self._local(start)
        body = {"customerName": (name or "Caller").strip()[:200] or "Caller", "customerPhone": self._phone(phone),
                "appointmentDate": local.date(), "appointmentTime": local.strftime("%H:%M"),
                "durationMinutes": minutes, "appointmentType": (reason or "appointment").strip()[:100]
                or "appointment", "callId": self.call_id, "assistantId": self.assistant_id}
        return appointments.create(self.org_id, body, source="AI", strict_phone=False).id

    def cancel(self, phone: str) -> bool:
        """Cancel the caller's next upcoming appointment; False when there is none."""
        wanted = self._phone(phone)
        if not wanted:
            return False
        now = dt.datetime.now(self.tz).replace(tzinfo=None)
        row = (Appointment.select().where((Appointment.organization == self.org_id)
                                          & (Appointment.customer_phone == wanted) & (Appointment.ends_at > now)
                                          & Appointment.status.not_in(INACTIVE_STATUSES))
               .order_by(Appointment.starts_at).first())
        if row is None:
            return False
        appointments.update(row, {"status": "cancelled"})
        return True


# --- /ai/test: one text turn, state kept between requests ---------------------------------------------------------

def _session(org_id: str, session_id: str | None) -> AiSession | None:
    if not session_id:
        return None
    row = AiSession.get_or_none((AiSession.id == session_id) & (AiSession.organization == org_id))
    if row is None or utcnow() - row.updated_at > SESSION_TTL:
        raise NotFound("No test session with this id (sessions end 24 hours after their last turn)")
    return row


def _assistant(org_id: str, wanted: str | None, session: AiSession | None) -> Assistant | None:
    if session is not None:
        if wanted and wanted != session.assistant_id:
            raise ValidationError("assistantId: a session keeps the assistant it started with",
                                  {"assistantId": ["differs from the session's"]})
        return session.assistant if session.assistant_id else None
    if wanted:
        return assistants.get(org_id, wanted)
    return get_default(org_id)


def _phraser(org_id: str, box: SecretBox) -> LlmPhraser | None:
    if not addons.is_enabled(org_id, "llm_analysis"):
        return None
    settings = llm.settings_for(org_id, box, timeout=PHRASE_TIMEOUT)
    return LlmPhraser(settings) if settings else None


def _conversation(org: Organization, assistant: Assistant | None, session: AiSession | None,
                  cache: IndexCache, box: SecretBox) -> Conversation:
    profile = profile_for(org, assistant, booking_allowed=addons.is_enabled(org.id, "appointments_by_ai"))
    parts = {"knowledge": cache.index_for(org.id), "booking": DbBooking(org.id, assistant.id if assistant else None),
             "phraser": _phraser(org.id, box)}
    if session is None:
        return Conversation(profile, parts["knowledge"], parts["booking"], phraser=parts["phraser"])
    return Conversation.from_dict(session.state, profile=profile, **parts)


def _save(org_id: str, session: AiSession | None, assistant: Assistant | None, conv: Conversation,
          language: str | None) -> AiSession:
    if session is None:
        AiSession.delete().where((AiSession.organization == org_id)
                                 & (AiSession.updated_at < utcnow() - SESSION_TTL)).execute()
        session = AiSession(organization=org_id, assistant=assistant.id if assistant else None,
                            language=language or (assistant.language if assistant else "en"))
        session.save(force_insert=True)
    AiSession.update(state=conv.to_dict(), turns=AiSession.turns + 1, updated_at=utcnow()).where(
        AiSession.id == session.id).execute()
    return session


def _result(reply: engine.Reply, session: AiSession, assistant: Assistant | None, greeting: str | None,
            started: float, sentiment_on: bool) -> dict:
    return {"aiResponse": reply.text, "confidence": round(reply.confidence * 100, 1),
            "intentDetected": reply.intent, "sentiment": reply.sentiment if sentiment_on else "disabled",
            "responseTime": int(round((time.perf_counter() - started) * 1000)), "sessionId": session.id,
            "greeting": greeting, "action": reply.action, "state": reply.state, "knowledgeId": reply.knowledge_id,
            "transferTo": reply.transfer_to, "transferReason": reply.transfer_reason,
            "appointmentId": reply.appointment_id, "endCall": reply.end_call, "language": reply.language,
            "flags": list(reply.flags), "assistantId": assistant.id if assistant else None}


def voice_language(org_id: str, body: dict) -> str:
    """The language an ``/ai/test`` reply will be spoken in (the request's, else its assistant's)."""
    if body.get("language"):
        return body["language"]
    session = _session(org_id, body.get("sessionId"))
    assistant = _assistant(org_id, body.get("assistantId"), session)
    return assistant.language if assistant else "en"


def test_turn(org: Organization, body: dict, box: SecretBox, cache: IndexCache) -> dict:
    """One caller turn of ``POST /ai/test`` (a new session greets first); the API's result dict."""
    started = time.perf_counter()
    session = _session(org.id, body.get("sessionId"))
    assistant = _assistant(org.id, body.get("assistantId"), session)
    conv = _conversation(org, assistant, session, cache, box)
    greeting = conv.greet().text if session is None else None
    # A test session runs on the wall clock like a call, so maxDuration applies to it too.
    elapsed = (utcnow() - session.created_at).total_seconds() if session is not None else 0.0
    reply = conv.handle(body.get("userMessage") or "", language=body.get("language"), elapsed_seconds=elapsed)
    if reply.knowledge_id and reply.action == "answer":
        KnowledgeItem.record_use(reply.knowledge_id)
    session = _save(org.id, session, assistant, conv, body.get("language"))
    sentiment_on = (assistant is None or assistant.enable_sentiment) and addons.is_enabled(org.id, "sentiment")
    logger.debug("ai test turn %s: intent=%s action=%s", session.id, reply.intent, reply.action)
    return _result(reply, session, assistant, greeting, started, sentiment_on)
