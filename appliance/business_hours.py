"""Business hours: ``{monday: {open: "09:00", close: "17:00"}, ...}`` in the workspace's time zone.

A day that is missing or null is closed; an empty mapping means no hours are configured (always open).
Shared by assistants, phone numbers (which decide what an incoming call gets) and the booking backend.
"""
from __future__ import annotations

import datetime as dt
import logging
import zoneinfo

from appliance.errors import ValidationError
from data.models import OrgSettings

logger = logging.getLogger(__name__)

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
AFTER_HOURS_ACTIONS = ("voicemail", "assistant", "transfer", "hangup")


def parse_hhmm(value: str) -> dt.time:
    """``HH:MM`` (24 h) as a time; ``ValidationError`` otherwise."""
    try:
        hour, minute = value.split(":")
        if len(hour) not in (1, 2) or len(minute) != 2:
            raise ValueError(value)
        return dt.time(int(hour), int(minute))
    except (ValueError, AttributeError) as exc:
        raise ValidationError(f"{value!r} is not a time as HH:MM (24-hour)") from exc


def normalize(hours: dict | None) -> dict:
    """Checked, canonical hours: known day names, HH:MM times, open before close."""
    result: dict = {}
    for day, span in (hours or {}).items():
        key = str(day).lower()
        if key not in DAYS:
            raise ValidationError(f"businessHours: {day!r} is not a day name ({', '.join(DAYS)})")
        if span is None:
            continue
        if not isinstance(span, dict) or set(span) != {"open", "close"}:
            raise ValidationError(f"businessHours.{key}: give {{open, close}} as HH:MM, or null when closed")
        opens, closes = parse_hhmm(span["open"]), parse_hhmm(span["close"])
        if opens >= closes:
            raise ValidationError(f"businessHours.{key}: open must be before close")
        result[key] = {"open": opens.strftime("%H:%M"), "close": closes.strftime("%H:%M")}
    return result


def span_on(hours: dict, day: dt.date) -> tuple[dt.time, dt.time] | None:
    """Opening and closing time on that date, None when closed (or no hours configured)."""
    span = (hours or {}).get(DAYS[day.weekday()])
    if not span:
        return None
    return parse_hhmm(span["open"]), parse_hhmm(span["close"])


def is_open(hours: dict, when: dt.datetime) -> bool:
    """Whether the business is open at this local wall-clock time (no hours configured: always)."""
    if not hours:
        return True
    span = span_on(hours, when.date())
    return span is not None and span[0] <= when.time() < span[1]


def org_timezone(org_id: str) -> zoneinfo.ZoneInfo:
    """The workspace's time zone from its settings (UTC when unset or unknown)."""
    row = OrgSettings.get_or_none(OrgSettings.organization == org_id)
    name = ((row.data or {}).get("timezone") if row else None) or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        logger.warning("workspace %s has an unknown time zone %r; using UTC", org_id, name)
        return zoneinfo.ZoneInfo("UTC")


def local_now(org_id: str) -> dt.datetime:
    """The workspace's local wall-clock time now, naive."""
    return dt.datetime.now(org_timezone(org_id)).replace(tzinfo=None, microsecond=0)
