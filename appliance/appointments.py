"""Appointments: booked by the AI or by staff, checked for overlaps, published as an iCalendar feed.

Dates and times are the business's local wall clock (``appointmentDate`` + ``appointmentTime`` in the workspace's
time zone), because that is what a caller books and what staff read; the feed carries the time zone.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re

import icalendar

from appliance import events
from appliance.business_hours import org_timezone
from appliance.errors import Conflict, NotFound, ValidationError
from appliance.phone_numbers import normalize_number
from appliance.security import random_token, token_hash
from data.ai import INACTIVE_STATUSES, Appointment, Assistant, CalendarFeed
from data.base import utcnow
from data.db import database, is_postgres
from data.models import Organization

logger = logging.getLogger(__name__)

STATUSES = ("scheduled", "confirmed", "completed", "cancelled", "no_show")
SOURCES = ("AI", "MANUAL")
DEFAULT_MINUTES = 30
FEED_PAST_DAYS = 90
FEED_MAX_EVENTS = 5000

_TIME = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*([ap]\.?m\.?)?\s*$", re.IGNORECASE)
_COLUMNS = {"callId": "call_id", "customerName": "customer_name", "appointmentType": "appointment_type",
            "status": "status", "qualityScore": "quality_score", "notes": "notes", "durationMinutes":
            "duration_minutes"}


def parse_time(value: str) -> str:
    """``14:30``, ``2:30 PM``, ``2 pm`` → ``14:30``; ``ValidationError`` otherwise."""
    match = _TIME.match(value or "")
    if not match:
        raise ValidationError(f"appointmentTime: {value!r} is not a time (use HH:MM)")
    hour, minute, meridiem = int(match.group(1)), int(match.group(2) or 0), (match.group(3) or "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            raise ValidationError(f"appointmentTime: {value!r} is not a time (use HH:MM)")
        hour = hour % 12 + (12 if meridiem.startswith("p") else 0)
    if hour > 23 or minute > 59:
        raise ValidationError(f"appointmentTime: {value!r} is not a time (use HH:MM)")
    return f"{hour:02d}:{minute:02d}"


def get(org_id: str, appointment_id: str) -> Appointment:
    """One appointment of the organization; ``NotFound`` for another organization's."""
    row = Appointment.get_or_none((Appointment.id == appointment_id) & (Appointment.organization == org_id))
    if row is None:
        raise NotFound("No appointment with this id")
    return row


@contextlib.contextmanager
def booking_lock(org_id: str):
    """A transaction in which no other booking of the organization can interleave (check, then insert)."""
    if is_postgres():
        with database.atomic():
            Organization.select(Organization.id).where(Organization.id == org_id).for_update().execute()
            yield
    else:
        # SQLite: take the write lock before reading, so two bookings cannot both see a free slot.
        with database.atomic("IMMEDIATE"):
            yield


def _set_slot(row: Appointment, date: dt.date, time_text: str, minutes: int) -> None:
    start = dt.datetime.combine(date, dt.time.fromisoformat(time_text))
    row.appointment_date, row.appointment_time = date.isoformat(), time_text
    row.duration_minutes = minutes
    row.starts_at, row.ends_at = start, start + dt.timedelta(minutes=minutes)


def _check_free(row: Appointment) -> None:
    if row.status in INACTIVE_STATUSES:
        return
    clash = Appointment.overlapping(row.organization_id, row.starts_at, row.ends_at, exclude=row.id).first()
    if clash is not None:
        raise Conflict(f"That time overlaps another appointment ({clash.appointment_date} {clash.appointment_time})",
                       {"conflictingAppointmentId": clash.id})


def _apply(row: Appointment, body: dict, *, strict_phone: bool = True) -> None:
    for key, column in _COLUMNS.items():
        if key in body:
            value = body[key]
            setattr(row, column, value.strip() if isinstance(value, str) else value)
    if "customerPhone" in body:
        phone = body["customerPhone"]
        if phone and strict_phone:
            phone = normalize_number(phone, row.organization_id)
        row.customer_phone = phone or None
    if "assistantId" in body:
        wanted = body["assistantId"]
        if wanted and Assistant.get_or_none((Assistant.id == wanted)
                                            & (Assistant.organization == row.organization_id)) is None:
            raise ValidationError("assistantId: no assistant with this id", {"assistantId": ["not found"]})
        row.assistant = wanted or None
    if not (row.customer_name or "").strip():
        raise ValidationError("customerName must not be blank", {"customerName": ["blank"]})
    row.appointment_type = row.appointment_type or "appointment"


def _slot_changes(row: Appointment, body: dict) -> bool:
    keys = ("appointmentDate", "appointmentTime", "durationMinutes")
    if not any(k in body for k in keys):
        return False
    date = body.get("appointmentDate") or dt.date.fromisoformat(row.appointment_date)
    time_text = parse_time(body["appointmentTime"]) if "appointmentTime" in body else row.appointment_time
    _set_slot(row, date, time_text, body.get("durationMinutes") or row.duration_minutes)
    return True


def event_data(row: Appointment) -> dict:
    """What the ``appointment.booked`` event carries."""
    return {"appointmentId": row.id, "callId": row.call_id, "assistantId": row.assistant_id,
            "customerName": row.customer_name, "customerPhone": row.customer_phone,
            "appointmentDate": row.appointment_date, "appointmentTime": row.appointment_time,
            "durationMinutes": row.duration_minutes, "appointmentType": row.appointment_type,
            "status": row.status, "source": row.source}


def create(org_id: str, body: dict, *, source: str = "MANUAL", strict_phone: bool = True) -> Appointment:
    """Book a slot; ``Conflict`` when it overlaps a live appointment. Records ``appointment.booked``.

    ``strict_phone=False`` keeps a phone number that does not parse (what a caller said) instead of refusing it.
    """
    row = Appointment(organization=org_id, source=source, status="scheduled", appointment_type="appointment")
    _apply(row, body, strict_phone=strict_phone)
    minutes = body.get("durationMinutes") or (row.assistant.appointment_minutes if row.assistant_id
                                              else DEFAULT_MINUTES)
    _set_slot(row, body["appointmentDate"], parse_time(body["appointmentTime"]), minutes)
    with booking_lock(org_id):
        _check_free(row)
        row.save(force_insert=True)
        events.emit("appointment.booked", event_data(row), org_id)
    logger.info("appointment %s booked (%s) for %s %s", row.id, source, row.appointment_date, row.appointment_time)
    return row


def update(row: Appointment, body: dict) -> Appointment:
    """Change an appointment; a new slot (or reactivation) is checked for overlaps again."""
    was_inactive = row.status in INACTIVE_STATUSES
    _apply(row, body)
    moved = _slot_changes(row, body)
    with booking_lock(row.organization_id):
        if moved or (was_inactive and row.status not in INACTIVE_STATUSES):
            _check_free(row)
        row.updated_at = utcnow()
        row.save()
    return row


def filtered(org_id: str, args: dict):
    """The organization's appointments matching the list filters."""
    query = Appointment.select().where(Appointment.organization == org_id)
    if args.get("startDate"):
        query = query.where(Appointment.appointment_date >= args["startDate"].isoformat())
    if args.get("endDate"):
        query = query.where(Appointment.appointment_date <= args["endDate"].isoformat())
    for key, column in (("status", Appointment.status), ("source", Appointment.source),
                        ("callId", Appointment.call_id), ("assistantId", Appointment.assistant)):
        if args.get(key):
            query = query.where(column == args[key])
    if args.get("search"):
        term = args["search"].strip()
        query = query.where(Appointment.customer_name.contains(term) | Appointment.customer_phone.contains(term)
                            | Appointment.appointment_type.contains(term))
    return query


# --- the iCalendar feed ------------------------------------------------------------------------------------------

_ICS_STATUS = {"scheduled": "TENTATIVE", "confirmed": "CONFIRMED", "completed": "CONFIRMED",
               "cancelled": "CANCELLED", "no_show": "CANCELLED"}


def _vevent(row: Appointment, tz) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", f"{row.id}@callbox")
    event.add("dtstamp", (row.updated_at or row.created_at).replace(tzinfo=dt.timezone.utc))
    event.add("dtstart", row.starts_at.replace(tzinfo=tz))
    event.add("dtend", row.ends_at.replace(tzinfo=tz))
    event.add("summary", f"{row.appointment_type}: {row.customer_name}")
    lines = [f"Phone: {row.customer_phone}" if row.customer_phone else "", f"Booked by: {row.source}",
             row.notes or ""]
    event.add("description", "\n".join(line for line in lines if line))
    event.add("status", _ICS_STATUS.get(row.status, "TENTATIVE"))
    return event


def ics_feed(org_id: str, name: str) -> bytes:
    """The organization's appointments (from 90 days ago on) as an iCalendar document."""
    tz = org_timezone(org_id)
    since = (dt.datetime.now(tz).date() - dt.timedelta(days=FEED_PAST_DAYS)).isoformat()
    rows = (Appointment.select().where((Appointment.organization == org_id)
                                       & (Appointment.appointment_date >= since))
            .order_by(Appointment.starts_at).limit(FEED_MAX_EVENTS))
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Callbox//Appointments//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{name} appointments")
    cal.add("x-wr-timezone", str(tz.key))
    for row in rows:
        cal.add_component(_vevent(row, tz))
    cal.add_missing_timezones()
    return cal.to_ical()


def new_feed_token(org_id: str) -> str:
    """A fresh calendar-feed token for the organization (the old one stops working); shown once."""
    raw = random_token(24)
    with database.atomic():
        CalendarFeed.delete().where(CalendarFeed.organization == org_id).execute()
        CalendarFeed.create(organization=org_id, token_hash=token_hash(raw))
    return raw


def revoke_feed_token(org_id: str) -> bool:
    """Stop the organization's calendar-feed token; whether there was one."""
    return CalendarFeed.delete().where(CalendarFeed.organization == org_id).execute() > 0


def org_for_feed_token(raw: str) -> Organization:
    """The organization a feed token belongs to; ``NotFound`` for an unknown one (it is a secret URL)."""
    feed = CalendarFeed.get_or_none(CalendarFeed.token_hash == token_hash(raw.strip()))
    if feed is None:
        raise NotFound("No calendar feed at this address")
    return feed.organization
