"""Business hours and free slots for booking, the caller's name/phone/reason from speech, and dates read aloud."""
from __future__ import annotations

import datetime as dt
import re

from voice.dialog.dates import MONTHS, WEEKDAY_NAMES
from voice.dialog.speech_text import ordinal_words, time_words
from voice.dialog.text import expand_contractions, words_to_digits
from voice.dialog.types import WEEKDAYS, AssistantProfile, BookingBackend

SEARCH_DAYS = 14
"""How far ahead an alternative slot is looked for."""
MAX_FREE_CHECKS = 300
"""Upper bound on backend look-ups for one alternative search (each may be a database query)."""
LEAD_MINUTES = 15
"""Earliest bookable start after now."""
STEP_MINUTES = 30
"""Candidate start times are on the hour and half hour."""


class Schedule:
    """Answers "can we book this start?" and "what is the nearest start we can book?" for one business."""

    def __init__(self, profile: AssistantProfile, backend: BookingBackend, now: dt.datetime):
        self.profile = profile
        self.backend = backend
        self.tz = profile.tz
        self.now = now.astimezone(self.tz)
        self.minutes = profile.appointment_minutes

    def opening(self, day: dt.date) -> tuple[dt.time, dt.time] | None:
        """Opening and closing time on ``day``, or None when closed."""
        hours = self.profile.business_hours
        if hours is None:
            return dt.time(0), dt.time(23, 59)
        span = hours.get(WEEKDAYS[day.weekday()])
        if not span:
            return None
        close = dt.time(23, 59) if span[1] == "24:00" else dt.time.fromisoformat(span[1])
        return dt.time.fromisoformat(span[0]), close

    def at(self, day: dt.date, time: dt.time) -> dt.datetime:
        """An aware datetime in the business's time zone."""
        return dt.datetime.combine(day, time, tzinfo=self.tz)

    def check(self, start: dt.datetime) -> str:
        """ok, past, closed_day, outside_hours or busy."""
        if start < self.now + dt.timedelta(minutes=LEAD_MINUTES):
            return "past"
        span = self.opening(start.date())
        if span is None:
            return "closed_day"
        end = start + dt.timedelta(minutes=self.minutes)
        if start.time() < span[0] or end > self.at(start.date(), span[1]):
            return "outside_hours"
        return "ok" if self.backend.is_free(start, self.minutes) else "busy"

    def candidates(self, day: dt.date, window: tuple[dt.time, dt.time] | None = None) -> list[dt.datetime]:
        """Bookable-by-hours starts on ``day`` (optionally within a window), earliest first."""
        span = self.opening(day)
        if span is None:
            return []
        lo, hi = span
        if window:
            lo, hi = max(lo, window[0]), min(hi, window[1])
        start = self.at(day, lo)
        if start.minute % STEP_MINUTES:
            start += dt.timedelta(minutes=STEP_MINUTES - start.minute % STEP_MINUTES)
        last = self.at(day, hi) - dt.timedelta(minutes=self.minutes)
        out = []
        earliest = self.now + dt.timedelta(minutes=LEAD_MINUTES)
        while start <= last and len(out) < 48:
            if start >= earliest:
                out.append(start)
            start += dt.timedelta(minutes=STEP_MINUTES)
        return out

    def nearest(self, wanted: dt.datetime | dt.date, window: tuple[dt.time, dt.time] | None = None) -> dt.datetime | None:
        """The free start closest to ``wanted`` on its own day, else the earliest on the following days."""
        day = wanted.date() if isinstance(wanted, dt.datetime) else wanted
        day = max(day, self.now.date())
        checks = 0
        for offset in range(SEARCH_DAYS + 1):
            current = day + dt.timedelta(days=offset)
            options = self.candidates(current, window if offset == 0 else window)
            if offset == 0 and isinstance(wanted, dt.datetime):
                options.sort(key=lambda s: abs((s - wanted).total_seconds()))
            for start in options:
                checks += 1
                if checks > MAX_FREE_CHECKS:
                    return None
                if self.backend.is_free(start, self.minutes):
                    return start
        return None

    def hours_text(self, day: dt.date) -> str:
        """"from nine a.m. to one p.m." for ``day`` (empty when closed)."""
        span = self.opening(day)
        if span is None or self.profile.business_hours is None:
            return ""
        return f"from {time_words(span[0].hour, span[0].minute)} to {time_words(span[1].hour, span[1].minute)}"


def spoken_day(day: dt.date, today: dt.date) -> str:
    """"today", "tomorrow", or "Saturday, November twenty-ninth"."""
    if day == today:
        return "today"
    if day == today + dt.timedelta(days=1):
        return "tomorrow"
    return f"{WEEKDAY_NAMES[day.weekday()].title()}, {MONTHS[day.month - 1].title()} {ordinal_words(day.day)}"


def spoken_slot(start: dt.datetime, today: dt.date) -> str:
    """"Saturday, November twenty-ninth at eleven a.m."."""
    return f"{spoken_day(start.date(), today)} at {time_words(start.hour, start.minute, 'p' if start.hour >= 12 else 'a')}"


_NAME_PREFIX = re.compile(
    r"^(?:(?:yes|yeah|sure|ok|okay|um|uh|well|so)[, ]+)*(?:my name is|my name's|the name is|name is|name's|"
    r"it is|it's|this is|i am|i'm|call me|you can put (?:it|me) (?:down )?under|put (?:it|me) (?:down )?under|"
    r"under(?: the name)?|it'll be|it will be)\s+", re.IGNORECASE)
_NAME_SUFFIX = re.compile(r"[\s,]+(?:please|thanks|thank you|thank you very much)\W*$", re.IGNORECASE)
_NAME_WORD = re.compile(r"^[^\W\d_][\w'’-]*$")
_NOT_NAMES = {"yes", "no", "okay", "ok", "what", "why", "who", "how", "sorry", "hello", "hi", "appointment",
              "the", "a", "my", "i", "you", "can", "could", "would", "do", "does", "is", "are", "will", "please",
              "wait", "hold", "not", "nope", "yeah", "yep", "sure", "never", "cancel", "stop", "actually"}


def parse_name(text: str) -> str | None:
    """A person's name from "my name is jane smith" / "Jane Smith, please"; None if it does not look like one."""
    raw = _NAME_SUFFIX.sub("", _NAME_PREFIX.sub("", text.strip())).strip(" .,!?")
    words = raw.split()
    if not 1 <= len(words) <= 4 or any(len(w) > 24 or not _NAME_WORD.match(w) for w in words):
        return None
    if words[0].lower() in _NOT_NAMES:
        return None
    return " ".join(w if any(c.isupper() for c in w[1:]) else w[:1].upper() + w[1:].lower() for w in words)


def parse_phone(text: str) -> str | None:
    """Digits of a phone number said or typed ("five five five, oh one two three"); None if too short/long."""
    tokens = words_to_digits(re.findall(r"[a-z]+|\d+|\+", expand_contractions(text).replace("oh", "0")))
    digits = "".join(t for t in tokens if t.isdigit())
    if not 7 <= len(digits) <= 15:
        return None
    return ("+" if "+" in tokens else "") + digits


_REASON_FILLER = re.compile(r"^(?:um|uh|well|so|yes|yeah|ok|okay|it is|it's|it will be|it'll be|that would be|"
                            r"i need|i want|i would like|i'd like|just|only|for|to get|to have|a|an|the|some)\b"
                            r"[\s,]*", re.IGNORECASE)
_REASON_IN_REQUEST = re.compile(
    r"\b(?:book|schedule|make|get|set up|arrange|need|want|like|have)\s+(?:me\s+)?(?:in\s+)?(?:for\s+)?"
    r"(?:an?|my|the|some)\s+((?:[a-z-]+\s+){0,2}?[a-z-]+?)(?:\s+(?:appointment|visit|session))?"
    r"(?=\s+(?:on|at|for|next|tomorrow|today|this|with|please|in|around|sometime|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday)\b|\s*[,.?!]|\s*$)", re.IGNORECASE)
_REASON_AFTER_FOR = re.compile(r"\b(?:appointment|visit|booking|in) for (?:an?|my|the|some)\s+([a-z-]+(?:\s+[a-z-]+)?)",
                               re.IGNORECASE)
_GENERIC = {"appointment", "visit", "time", "slot", "session", "booking", "reservation", "new appointment"}


def reason_from_request(text: str) -> str | None:
    """What the appointment is for, when the booking request says it ("book a cleaning next Monday")."""
    for m in (*_REASON_AFTER_FOR.finditer(text), *_REASON_IN_REQUEST.finditer(text)):
        reason = re.split(r"\s+(?:on|at|next|tomorrow|today|this|please)\b", m.group(1).strip().lower())[0]
        if reason and reason not in _GENERIC:
            return reason[:60]
    return None


def parse_reason(text: str) -> str | None:
    """The caller's answer to "what is the appointment for?"."""
    raw = text.strip(" .,!?")
    for _ in range(8):
        stripped = _REASON_FILLER.sub("", raw)
        if stripped == raw:
            break
        raw = stripped
    return raw.strip(" .,!?")[:80] or None
