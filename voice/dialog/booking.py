"""The booking and cancellation dialog: fill date, time, name, phone and reason, check them against business hours
and the calendar, propose the nearest opening when a time cannot be had, read back, then book.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass, field, fields

from appliance.errors import CallboxError, ValidationError
from voice.dialog.dates import PARTS, WEEKDAY_NAMES, When, parse_when
from voice.dialog.intents import wants_to_stop, yes_no
from voice.dialog.schedule import (Schedule, parse_name, parse_phone, parse_reason, reason_from_request,
                                   spoken_day, spoken_slot)
from voice.dialog.types import AssistantProfile, BookingBackend, State

logger = logging.getLogger(__name__)
MAX_RETRIES = 3


@dataclass
class Slots:
    """What we know so far about the appointment being booked (JSON-able)."""

    day: str | None = None
    time: str | None = None
    part: str | None = None
    name: str | None = None
    phone: str | None = None
    reason: str | None = None
    proposed: str | None = None
    purpose: str = "book"
    reschedule: bool = False
    retries: int = 0

    def to_dict(self) -> dict:
        """Plain form for session storage."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "Slots":
        """Inverse of ``to_dict``."""
        data = data or {}
        if not isinstance(data, dict) or set(data) - {f.name for f in fields(cls)}:
            raise ValidationError("Session state is not valid (booking slots).")
        return cls(**data)


@dataclass(frozen=True)
class Step:
    """The outcome of one booking turn."""

    text: str
    state: State
    action: str = "clarify"
    appointment_id: str | None = None
    appointment: dict | None = None
    flags: tuple[str, ...] = field(default_factory=tuple)


class BookingDialog:
    """One turn of the booking/cancel dialog over ``slots`` (which the conversation keeps between turns)."""

    def __init__(self, profile: AssistantProfile, backend: BookingBackend, now: dt.datetime,
                 caller_phone: str | None, slots: Slots):
        self.profile = profile
        self.backend = backend
        self.schedule = Schedule(profile, backend, now)
        self.today = self.schedule.now.date()
        self.caller_phone = caller_phone
        self.slots = slots

    # ---- entry points -------------------------------------------------------------------------------------
    def start(self, text: str) -> Step:
        """A booking request: take whatever slots it already carries, then ask for the rest."""
        self.slots.reason = reason_from_request(text)
        self.slots.reschedule = "reschedule" in text.lower()
        self._apply(parse_when(text, self.today))
        return self._next()

    def start_cancel(self) -> Step:
        """A cancellation request: make sure we know the phone number, then confirm."""
        self.slots.purpose = "cancel"
        if self._phone() is None:
            return Step("Sure. What phone number was the appointment booked under?", State.BOOKING_PHONE)
        return Step("Would you like me to cancel your upcoming appointment?", State.CANCEL_CONFIRMING, "confirm")

    def handle(self, state: State, text: str) -> Step:
        """Continue the dialog in ``state`` with the caller's ``text``."""
        if wants_to_stop(text) and state != State.CANCEL_CONFIRMING:
            return Step("Okay, I won't book anything. What else can I help you with?", State.LISTENING, "answer",
                        flags=("booking_abandoned",))
        handler = {State.BOOKING_DATE: self._on_date, State.BOOKING_NAME: self._on_name,
                   State.BOOKING_PHONE: self._on_phone, State.BOOKING_REASON: self._on_reason,
                   State.CONFIRMING: self._on_confirm, State.CANCEL_CONFIRMING: self._on_cancel}[state]
        return handler(text)

    # ---- turn handlers ------------------------------------------------------------------------------------
    def _on_date(self, text: str) -> Step:
        name = parse_name(text) if text.lower().startswith(("my name is", "the name is")) else None
        if name:
            self.slots.name = name
            return self._next()
        when = parse_when(text, self.today, expect_time=self.slots.day is not None)
        if self.slots.proposed and when.empty:
            answer = yes_no(text)
            if answer is True:
                start = dt.datetime.fromisoformat(self.slots.proposed)
                self.slots.day, self.slots.time = start.date().isoformat(), start.strftime("%H:%M")
                self.slots.proposed = None
                return self._next()
            if answer is False:
                self.slots.proposed = self.slots.time = None
                return Step("No problem. What other day or time would suit you?", State.BOOKING_DATE)
        if when.empty:
            return self._retry("Sorry, I didn't get the day or time. You can say something like "
                               "\"next Tuesday at ten\".", State.BOOKING_DATE)
        self._apply(when)
        return self._next()

    def _on_name(self, text: str) -> Step:
        name = parse_name(text)
        if name is None:
            return self._retry("Sorry, could you tell me just the name for the appointment?", State.BOOKING_NAME)
        self.slots.name = name
        return self._next()

    def _on_phone(self, text: str) -> Step:
        phone = parse_phone(text)
        if phone is None:
            return self._retry("Sorry, I didn't get the number. Could you say it digit by digit?",
                               State.BOOKING_PHONE)
        self.slots.phone = phone
        if self.slots.purpose == "cancel":
            return self.start_cancel()
        return self._next()

    def _on_reason(self, text: str) -> Step:
        self.slots.reason = parse_reason(text) or "appointment"
        return self._next()

    def _on_confirm(self, text: str) -> Step:
        answer = yes_no(text)
        if answer is None:
            when = parse_when(text, self.today)
            if not when.empty:
                self._apply(when)
                return self._next()
            return self._retry("Sorry, shall I book it? Please say yes or no.", State.CONFIRMING, "confirm")
        if answer is False:
            self.slots.day = self.slots.time = self.slots.proposed = None
            return Step("No problem. What day and time would suit you better? If it's the name that's wrong, "
                        "say \"my name is\" and the right name.", State.BOOKING_DATE)
        return self._book()

    def _on_cancel(self, text: str) -> Step:
        answer = yes_no(text)
        if answer is None:
            return self._retry("Sorry, shall I cancel your appointment? Please say yes or no.",
                               State.CANCEL_CONFIRMING, "confirm")
        if answer is False:
            return Step("Okay, I'll leave your appointment as it is. What else can I help you with?",
                        State.LISTENING, "answer")
        if self.backend.cancel(self._phone() or ""):
            return Step("Your appointment has been cancelled. Is there anything else I can help you with?",
                        State.LISTENING, "answer", flags=("appointment_cancelled",))
        return Step("I couldn't find an upcoming appointment for that phone number. Is there anything else I can "
                    "help you with?", State.LISTENING, "answer", flags=("appointment_not_found",))

    # ---- the slot machine -----------------------------------------------------------------------------------
    def _apply(self, when: When) -> None:
        if when.day is not None:
            self.slots.day = when.day.isoformat()
            self.slots.time = None
        if when.time is not None:
            self.slots.time = when.time.strftime("%H:%M")
            self.slots.part = None
        elif when.part is not None:
            self.slots.part, self.slots.time = when.part, None
        self.slots.proposed = None
        self.slots.retries = 0

    def _next(self) -> Step:
        """Ask for the first missing slot, or read everything back."""
        s = self.slots
        s.retries = 0
        if s.day is None:
            return Step("What day would you like to come in?", State.BOOKING_DATE)
        if s.time is None:
            return self._ask_time(dt.date.fromisoformat(s.day))
        start = self.schedule.at(dt.date.fromisoformat(s.day), dt.time.fromisoformat(s.time))
        status = self.schedule.check(start)
        if status != "ok":
            return self._propose(start, status)
        if s.name is None:
            return Step("Great. Can I have your name, please?", State.BOOKING_NAME)
        if self._phone() is None:
            return Step("And what's the best phone number to reach you?", State.BOOKING_PHONE)
        if s.reason is None:
            return Step("And what is the appointment for?", State.BOOKING_REASON)
        what = f", for {s.reason}" if s.reason != "appointment" else ""
        return Step(f"Let me confirm: {s.name}, {spoken_slot(start, self.today)}{what}. Shall I book it?",
                    State.CONFIRMING, "confirm")

    def _ask_time(self, day: dt.date) -> Step:
        part = self.slots.part
        if part is None:
            if self.schedule.opening(day) is None:
                return self._propose(self.schedule.at(day, dt.time(9)), "closed_day")
            hours = self.schedule.hours_text(day)
            tail = f" We're open {hours} that day." if hours else ""
            return Step(f"What time would suit you {_on(day, self.today)}?{tail}", State.BOOKING_DATE)
        found = self.schedule.nearest(day, PARTS[part])
        if found is None or found.date() != day:
            found = self.schedule.nearest(day)
            return self._offer(found, f"I don't have anything {_on(day, self.today)} in the {part}.")
        return self._offer(found, "")

    def _propose(self, start: dt.datetime, status: str) -> Step:
        reasons = {
            "past": "That time has already passed.",
            "closed_day": f"We're closed on {WEEKDAY_NAMES[start.weekday()].title()}s.",
            "outside_hours": f"{_upper_first(spoken_day(start.date(), self.today))} we're open "
                             f"{self.schedule.hours_text(start.date())}.",
            "busy": f"Sorry, {spoken_slot(start, self.today)} is already taken.",
        }
        wanted = max(start, self.schedule.now)
        return self._offer(self.schedule.nearest(wanted), reasons[status])

    def _offer(self, found: dt.datetime | None, lead: str) -> Step:
        if found is None:
            self.slots.day = self.slots.time = self.slots.proposed = None
            return Step(f"{lead} I couldn't find a free time in the next two weeks. Our team can help you "
                        "find one if you ask to speak to someone.".strip(), State.LISTENING, "answer",
                        flags=("no_availability",))
        self.slots.proposed = found.isoformat()
        nearest = "The closest opening is" if lead else "The first opening is"
        return Step(f"{lead} {nearest} {spoken_slot(found, self.today)}. Would that work?".strip(),
                    State.BOOKING_DATE)

    def _book(self) -> Step:
        s = self.slots
        start = self.schedule.at(dt.date.fromisoformat(s.day), dt.time.fromisoformat(s.time))
        status = self.schedule.check(start)
        if status != "ok":
            return self._propose(start, status)
        phone = self._phone() or ""
        flags = ()
        if s.reschedule and phone and self.backend.cancel(phone):
            flags = ("rescheduled",)
        try:
            appointment_id = self.backend.book(s.name or "", phone, start, self.profile.appointment_minutes,
                                               s.reason or "appointment")
        except CallboxError as exc:  # e.g. a conflict written by someone else between check and book
            logger.info("booking refused by the backend: %s", exc)
            return self._propose(start, "busy")
        details = {"start": start.isoformat(), "minutes": self.profile.appointment_minutes, "name": s.name,
                   "phone": phone, "reason": s.reason or "appointment"}
        return Step(f"You're all set for {spoken_slot(start, self.today)}. We'll see you then! Is there anything "
                    "else I can help you with?", State.LISTENING, "book", appointment_id, details, flags)

    def _retry(self, text: str, state: State, action: str = "clarify") -> Step:
        self.slots.retries += 1
        if self.slots.retries >= MAX_RETRIES:
            return Step("I'm sorry, I'm having trouble with that. Let's leave the booking for now. What else can I "
                        "help you with?", State.LISTENING, "answer", flags=("booking_abandoned",))
        return Step(text, state, action)

    def _phone(self) -> str | None:
        return self.slots.phone or self.caller_phone


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _on(day: dt.date, today: dt.date) -> str:
    """"today", "tomorrow" or "on Saturday, November twenty-ninth"."""
    spoken = spoken_day(day, today)
    return spoken if spoken in ("today", "tomorrow") else f"on {spoken}"
