"""Dates and times as callers say them: "next Saturday at eleven", "tomorrow afternoon", "the 3rd of December at
half past two", "Monday morning", "12/3 at 2:30 pm", "in two weeks".

Small and offline on purpose: a general date library knows many languages and formats but not how a recognizer
writes "eleven thirty" or "half past two", and it is heavy. Conventions: a bare weekday or "next <weekday>" is the
next one after today; "<weekday> next week" is that day in the following week; a date without a year that has
passed is next year's; numeric dates are month/day; an hour without a.m./p.m. is read as business hours
(7-11 morning, 12-6 afternoon) unless a part of the day says otherwise.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from voice.dialog.speech_text import ordinal_words
from voice.dialog.text import expand_contractions, words_to_digits

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
_MONTH_RE = "|".join(m[:3] + (f"(?:{m[3:]})?" if len(m) > 3 else "") for m in MONTHS) + "|sept"
_DAY_RE = "|".join(WEEKDAY_NAMES)
PARTS = {"morning": (dt.time(8), dt.time(12)), "afternoon": (dt.time(12), dt.time(17)),
         "evening": (dt.time(17), dt.time(21)), "lunch": (dt.time(12), dt.time(14))}
_PART_WORDS = {"morning": "morning", "mornings": "morning", "afternoon": "afternoon", "afternoons": "afternoon",
               "evening": "evening", "evenings": "evening", "tonight": "evening", "night": "evening",
               "lunchtime": "lunch", "lunch": "lunch", "midday": "lunch"}
_ORDINALS = {ordinal_words(n).replace("-", " "): f"{n}th" for n in range(31, 0, -1)}


@dataclass(frozen=True)
class When:
    """What a caller said about a day and a time; any part may be missing."""

    day: dt.date | None = None
    time: dt.time | None = None
    part: str | None = None
    """morning, afternoon, evening or lunch, when no exact time was said."""

    @property
    def empty(self) -> bool:
        """Nothing about a date or time was understood."""
        return self.day is None and self.time is None and self.part is None


def normalize(text: str) -> str:
    """Lower-case, numbers as digits, ordinals as "<n>th", punctuation out (colons in times kept)."""
    text = expand_contractions(text).replace("o'clock", " oclock").replace("o clock", " oclock")
    text = re.sub(r"\b([ap])\.?\s?m\b\.?", r"\1m", text)
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1th", text)
    text = re.sub(r"[^\w:/\- ]", " ", text)
    for words, marker in _ORDINALS.items():
        text = re.sub(rf"\b{words}\b", marker, text)
    tokens = words_to_digits(text.split())
    return " ".join(tokens)


def parse_when(text: str, today: dt.date, *, expect_time: bool = False) -> When:
    """Understand a day and/or a time in ``text`` relative to ``today``.

    With ``expect_time`` (the caller was just asked for a time) a bare number such as "eleven" is an hour.
    """
    norm = f" {normalize(text)} "
    day, norm = _find_day(norm, today)
    part = next((_PART_WORDS[w] for w in norm.split() if w in _PART_WORDS), None)
    time = _find_time(norm, part, expect_time)
    if day is None and re.search(r"\btonight\b", norm):
        day = today
    return When(day, time, None if time else part)


def _find_day(s: str, today: dt.date) -> tuple[dt.date | None, str]:
    for finder in (_iso, _numeric, _month_day, _bare_ordinal, _relative, _weekday):
        found = finder(s, today)
        if found is not None:
            day, span = found
            return day, s[:span[0]] + " " + s[span[1]:]
    return None, s


def _iso(s: str, today: dt.date):
    m = re.search(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", s)
    return (_safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3))), m.span()) if m else None


def _numeric(s: str, today: dt.date):
    m = re.search(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b", s)
    if not m:
        return None
    month, day = int(m.group(1)), int(m.group(2))
    if month > 12:
        month, day = day, month
    year = int(m.group(3)) if m.group(3) else None
    return _upcoming(today, month, day, (year + 2000 if year and year < 100 else year)), m.span()


def _month_day(s: str, today: dt.date):
    m = re.search(rf"\b(?:the )?(\d{{1,2}})(?:th)? (?:of )?({_MONTH_RE})\b(?: (\d{{4}}))?", s) or \
        re.search(rf"\b({_MONTH_RE}) (?:the )?(\d{{1,2}})(?:th)?\b(?: (\d{{4}}))?", s)
    if not m:
        return None
    a, b = m.group(1), m.group(2)
    day, month_name = (int(a), b) if a.isdigit() else (int(b), a)
    month = next(i for i, name in enumerate(MONTHS, 1) if name.startswith(month_name[:3]))
    year = int(m.group(3)) if m.group(3) else None
    return _upcoming(today, month, day, year), m.span()


def _bare_ordinal(s: str, today: dt.date):
    m = re.search(r"\b(?:on )?the (\d{1,2})th\b", s)
    if not m:
        return None
    day = int(m.group(1))
    candidate = _safe_date(today.year, today.month, day)
    if candidate is None or candidate < today:
        nxt = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        candidate = _safe_date(nxt.year, nxt.month, day)
    return candidate, m.span()


def _relative(s: str, today: dt.date):
    table = ((r"\bday after tomorrow\b", 2), (r"\btomorrow\b", 1), (r"\btoday\b|\bthis (?:morning|afternoon|"
             r"evening)\b", 0))
    for pattern, days in table:
        m = re.search(pattern, s)
        if m:
            return today + dt.timedelta(days=days), (m.start(), m.end() if days else m.start() + 5)
    m = re.search(r"\bin (\d+|a|an|one) (day|week)s?\b", s)
    if m:
        n = 1 if not m.group(1).isdigit() else int(m.group(1))
        return today + dt.timedelta(days=n * (7 if m.group(2) == "week" else 1)), m.span()
    return None


def _weekday(s: str, today: dt.date):
    m2 = re.search(rf"\bnext week(?: on)? ({_DAY_RE})\b", s)
    if m2:
        monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7)
        return monday + dt.timedelta(days=WEEKDAY_NAMES.index(m2.group(1))), m2.span()
    m = re.search(rf"\b(?:(this|next|coming|this coming|on) )?({_DAY_RE}|weekend)\b(?: (next week|this week))?", s)
    if not m:
        m3 = re.search(r"\bnext week\b", s)
        if m3:  # "next week" alone: its Monday, so the caller hears the first opening that week
            return today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7), m3.span()
        return None
    name = "saturday" if m.group(2) == "weekend" else m.group(2)
    target = WEEKDAY_NAMES.index(name)
    if m.group(3) == "next week":
        monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7)
        return monday + dt.timedelta(days=target), m.span()
    ahead = (target - today.weekday()) % 7
    if ahead == 0 and m.group(1) not in ("this", "on") and m.group(3) != "this week":
        ahead = 7
    return today + dt.timedelta(days=ahead), m.span()


def _upcoming(today: dt.date, month: int, day: int, year: int | None) -> dt.date | None:
    if year:
        return _safe_date(year, month, day)
    candidate = _safe_date(today.year, month, day)
    if candidate is not None and candidate < today:
        candidate = _safe_date(today.year + 1, month, day)
    return candidate


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _find_time(s: str, part: str | None, expect_time: bool) -> dt.time | None:
    if re.search(r"\b(?:noon|midday)\b", s):
        return dt.time(12)
    patterns = (
        (r"\b(\d{1,2}):(\d{2})\s?(am|pm)?", lambda m: (int(m[1]), int(m[2]), m[3])),
        (r"\bhalf past (\d{1,2})\b", lambda m: (int(m[1]), 30, None)),
        (r"\b(?:a )?quarter (?:past|after) (\d{1,2})\b", lambda m: (int(m[1]), 15, None)),
        (r"\b(?:a )?quarter (?:to|of) (\d{1,2})\b", lambda m: (int(m[1]) - 1, 45, None)),
        (r"\b(\d{1,2}) (?:minutes )?(?:past|after) (\d{1,2})\b", lambda m: (int(m[2]), int(m[1]), None)),
        (r"\b(\d{1,2}) (?:minutes )?(?:to|before) (\d{1,2})\b(?! (?:days|weeks))", lambda m: (int(m[2]) - 1,
                                                                                           60 - int(m[1]), None)),
        (r"\b(\d{1,2}) (?:oh )?(\d{1,2}) ?(am|pm)?\b", _spoken_minutes),
        (r"\b(\d{1,2}) ?(am|pm|oclock)\b", lambda m: (int(m[1]), 0, m[2])),
        (r"\b(?:at|around|about|by|for|after|before) (\d{1,2})\b(?! (?:days|weeks|minutes|people|of))",
         lambda m: (int(m[1]), 0, None)),
    )
    for pattern, read in patterns:
        m = re.search(pattern, s)
        if m:
            got = read(m)
            if got is not None:
                return _make_time(*got, part)
    if expect_time:
        m = re.fullmatch(r"\s*(?:(?:um|uh|ok|okay|yes|yeah|maybe|how about|what about|let us say|say|at) )*"
                         r"(\d{1,2})(?: please| then| works)?\s*", s)
        if m:
            return _make_time(int(m.group(1)), 0, None, part)
    return None


def _spoken_minutes(m: re.Match):
    """"eleven thirty", "ten oh five", "two fifteen pm" (hour then minutes)."""
    hour, minute = int(m[1]), int(m[2])
    if hour > 12 or minute > 59 or (minute < 10 and "oh" not in m[0]) or minute % 5:
        return None
    return hour, minute, m[3]


def _make_time(hour: int, minute: int, marker: str | None, part: str | None) -> dt.time | None:
    if not (0 <= minute < 60) or hour > 23 or hour < 0:
        return None
    if marker == "pm" and hour < 12:
        hour += 12
    elif marker == "am" and hour == 12:
        hour = 0
    elif marker in (None, "oclock") and hour <= 12:
        hour = _guess_meridiem(hour, part)
    return dt.time(hour, minute)


def _guess_meridiem(hour: int, part: str | None) -> int:
    if part in ("afternoon", "evening") and hour < 12:
        return hour + 12
    if part == "morning":
        return hour % 12
    if part == "lunch":
        return hour + 12 if hour < 5 else hour
    return hour + 12 if 1 <= hour <= 6 else hour
