"""The dialog engine's interface: what it consumes (knowledge, assistant profile, booking backend) and what it returns.

These are plain frozen dataclasses and protocols so the web layer can build them from database rows and the
voice agent can use them without either knowing how the engine works inside.
"""
from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from appliance.errors import ValidationError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HHMM = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


class Intent(str, enum.Enum):
    """What a caller's turn is about."""

    BUSINESS_HOURS = "business_hours_inquiry"
    BOOKING = "appointment_booking"
    PRICING = "pricing"
    TRANSFER = "transfer_request"
    COMPLAINT = "complaint"
    CANCEL = "cancel_appointment"
    GREETING = "greeting"
    GOODBYE = "goodbye"
    OTHER = "other"


class State(str, enum.Enum):
    """Where one conversation is; transitions live in ``conversation.py``."""

    GREETING = "GREETING"
    LISTENING = "LISTENING"
    CLARIFYING = "CLARIFYING"
    BOOKING_DATE = "BOOKING_DATE"
    BOOKING_NAME = "BOOKING_NAME"
    BOOKING_PHONE = "BOOKING_PHONE"
    BOOKING_REASON = "BOOKING_REASON"
    CONFIRMING = "CONFIRMING"
    CANCEL_CONFIRMING = "CANCEL_CONFIRMING"
    TRANSFERRING = "TRANSFERRING"
    CLOSED = "CLOSED"


ACTIONS = ("answer", "clarify", "book", "confirm", "transfer", "close", "none")


@dataclass(frozen=True)
class KnowledgeItem:
    """One question/answer pair of a business's knowledge base."""

    id: str
    question: str
    answer: str
    variations: tuple[str, ...] = ()
    category: str = ""
    is_priority: bool = False
    """Priority items win ties and near-ties (emergencies, for example)."""
    is_active: bool = True
    """Inactive items are ignored by the index."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "variations", tuple(v for v in (self.variations or ()) if v and v.strip()))


@dataclass(frozen=True)
class AssistantProfile:
    """How one assistant behaves: voice lines, rules, booking settings (API "assistants" in engine form)."""

    name: str = "Assistant"
    language: str = "en"
    greeting: str = "Hello, thanks for calling. How can I help you today?"
    closing: str = "Thank you for calling. Goodbye!"
    tone: str = "friendly"
    """friendly, professional, casual or formal: picks the wording of the engine's own lines."""
    speaking_style: str = "concise"
    """concise (one sentence, about 25 words), balanced (two, about 35) or detailed (two, about 50)."""
    transfer_confidence_threshold: float = 0.5
    """Answers below this confidence are not given; the caller is told we are not sure."""
    low_confidence_transfers: int = 2
    """Transfer after this many low-confidence turns in a row (0: never for this reason)."""
    max_duration_seconds: int = 600
    """Transfer (or close, without a destination) once the call is this long (0: no limit)."""
    transfer_on_request: bool = True
    languages: tuple[str, ...] = ()
    """Languages served besides ``language`` (ISO 639-1)."""
    transfer_destination: str | None = None
    forbidden_topics: tuple[str, ...] = ()
    disclaimer: str = "I'm sorry, I can't help with that topic."
    booking_enabled: bool = True
    business_hours: dict[str, tuple[str, str]] | None = None
    """weekday name (monday..sunday) -> (open 'HH:MM', close 'HH:MM'); a missing day is closed; None: always open."""
    timezone: str = "UTC"
    appointment_minutes: int = 30
    business_name: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.transfer_confidence_threshold) <= 1.0:
            raise ValidationError("transferConfidenceThreshold must be between 0 and 1.")
        if self.low_confidence_transfers < 0 or self.max_duration_seconds < 0:
            raise ValidationError("Transfer counts and durations cannot be negative.")
        if not 5 <= self.appointment_minutes <= 480:
            raise ValidationError("appointmentMinutes must be between 5 and 480.")
        try:
            ZoneInfo(self.timezone or "UTC")
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(f"Unknown timezone {self.timezone!r}.") from exc
        object.__setattr__(self, "languages", tuple(x.lower()[:2] for x in self.languages or () if x))
        object.__setattr__(self, "forbidden_topics", tuple(t for t in self.forbidden_topics or () if t.strip()))
        if self.business_hours is not None:
            object.__setattr__(self, "business_hours", _check_hours(self.business_hours))

    @property
    def tz(self) -> ZoneInfo:
        """The business's time zone."""
        return ZoneInfo(self.timezone or "UTC")

    def served_languages(self) -> set[str]:
        """ISO 639-1 codes this assistant answers in."""
        return {(self.language or "en").lower()[:2], *self.languages}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (snake_case)."""
        data = asdict(self)
        data["languages"], data["forbidden_topics"] = list(self.languages), list(self.forbidden_topics)
        if self.business_hours is not None:
            data["business_hours"] = {d: list(v) for d, v in self.business_hours.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AssistantProfile":
        """Inverse of ``to_dict``; unknown keys are refused."""
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValidationError(f"Unknown assistant fields: {', '.join(sorted(unknown))}.")
        values = dict(data)
        for key in ("languages", "forbidden_topics"):
            if key in values:
                values[key] = tuple(values[key] or ())
        return cls(**values)


def _check_hours(hours: dict) -> dict[str, tuple[str, str]]:
    """Validate business hours: known weekdays, HH:MM times, open before close."""
    clean: dict[str, tuple[str, str]] = {}
    for day, span in hours.items():
        name = str(day).strip().lower()
        if name not in WEEKDAYS:
            raise ValidationError(f"Unknown weekday {day!r} in business hours.")
        if span is None:
            continue
        if isinstance(span, dict):
            span = (span.get("open"), span.get("close"))
        opening, closing = (str(x) for x in span)
        if not (_HHMM.match(opening) and _HHMM.match(closing)) or opening.zfill(5) >= closing.zfill(5):
            raise ValidationError(f"Business hours for {name} must be 'HH:MM' with open before close.")
        clean[name] = (opening.zfill(5), closing.zfill(5))
    return clean


@runtime_checkable
class BookingBackend(Protocol):
    """Where appointments live. The database-backed one is in the web layer; ``InMemoryBooking`` is for tests."""

    def is_free(self, start: dt.datetime, minutes: int) -> bool:
        """Whether [start, start + minutes) overlaps no existing appointment."""

    def book(self, name: str, phone: str, start: dt.datetime, minutes: int, reason: str) -> str:
        """Create the appointment and return its id."""

    def cancel(self, phone: str) -> bool:
        """Cancel the caller's next upcoming appointment; False when there is none."""


@runtime_checkable
class Phraser(Protocol):
    """Optional rewording of an answer (an LLM add-on); must stay grounded in ``answer``."""

    def phrase(self, question: str, answer: str, *, profile: AssistantProfile) -> str | None:
        """Return a reworded answer, or None to keep the engine's own."""


@dataclass(frozen=True)
class Reply:
    """What the engine says and decides for one turn."""

    text: str
    intent: str = Intent.OTHER.value
    confidence: float = 0.0
    sentiment: str = "neutral"
    action: str = "none"
    knowledge_id: str | None = None
    transfer_to: str | None = None
    appointment_id: str | None = None
    end_call: bool = False
    state: str = State.LISTENING.value
    sentiment_score: float = 0.0
    """VADER compound score of the caller's turn, -1..1."""
    transfer_reason: str | None = None
    """request, low_confidence, max_duration, language (when action is 'transfer')."""
    language: str | None = None
    """Language guessed for (or given with) the caller's turn."""
    flags: tuple[str, ...] = field(default_factory=tuple)
    """Notes for logs and analytics: forbidden_topic, injection_like, truncated, empty, no_destination..."""
    appointment: dict[str, Any] | None = None
    """When action is 'book': {start (ISO, aware), minutes, name, phone, reason} for the appointment.booked event."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (snake_case)."""
        data = asdict(self)
        data["flags"] = list(self.flags)
        return data
