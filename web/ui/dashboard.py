"""The dashboard: the period's calls (volume, AI resolution, transfers, missed, outcomes, sentiment, intents), its
bookings, what the AI answers most and the phone lines, with a date-range picker.

Every figure is one aggregate query, so the page stays fast however many rows there are.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from flask import current_app, flash, render_template, request
from peewee import fn

from appliance.business_hours import org_timezone
from appliance.roles import Role
from data.ai import INACTIVE_STATUSES, Appointment, Assistant, KnowledgeItem, PhoneNumber
from web.ui import call_stats
from web.ui.common import bp, page, viewer

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 30
MAX_DAYS = 366
PRESETS = (7, 30, 90)
TOP_ANSWERS = 8


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]


def _parse_date(name: str) -> dt.date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def period_from_args(today: dt.date) -> tuple[Period, str | None]:
    """The period asked for (``start``/``end``, or ``days``), else the last 30 days; and a problem, if any."""
    default = Period(today - dt.timedelta(days=DEFAULT_DAYS - 1), today)
    days = request.args.get("days", "")
    if days.isdigit() and 1 <= int(days) <= MAX_DAYS:
        return Period(today - dt.timedelta(days=int(days) - 1), today), None
    start, end = _parse_date("start"), _parse_date("end")
    if not request.args.get("start") and not request.args.get("end"):
        return default, None
    if start is None or end is None:
        return default, "Give both dates as YYYY-MM-DD; showing the last 30 days."
    if end < start:
        return default, "The end date is before the start date; showing the last 30 days."
    if (end - start).days >= MAX_DAYS:
        return default, f"Choose at most {MAX_DAYS} days; showing the last 30 days."
    return Period(start, end), None


def _in_period(org_id: str, period: Period):
    return ((Appointment.organization == org_id) & (Appointment.appointment_date >= period.start.isoformat())
            & (Appointment.appointment_date <= period.end.isoformat()))


def bookings_by_day(org_id: str, period: Period) -> dict:
    """Appointments per day of the period, by who booked them."""
    rows = (Appointment.select(Appointment.appointment_date, Appointment.source, fn.COUNT(Appointment.id))
            .where(_in_period(org_id, period)).group_by(Appointment.appointment_date, Appointment.source).tuples())
    counts = {(day, source): n for day, source, n in rows}
    labels = [d.isoformat() for d in period.days]
    return {"labels": labels, "series": [
        {"label": "Booked by the AI", "data": [counts.get((d, "AI"), 0) for d in labels]},
        {"label": "Booked by staff", "data": [counts.get((d, "MANUAL"), 0) for d in labels]}]}


def bookings_by_hour(org_id: str, period: Period) -> dict:
    """Appointments per starting hour of the day."""
    hour = fn.SUBSTR(Appointment.appointment_time, 1, 2)
    rows = Appointment.select(hour, fn.COUNT(Appointment.id)).where(_in_period(org_id, period)).group_by(hour).tuples()
    counts = {int(h): n for h, n in rows if str(h).isdigit()}
    used = [h for h in range(24) if counts.get(h)] or [9, 17]
    hours = range(min(used), max(used) + 1)
    return {"labels": [f"{h:02d}:00" for h in hours],
            "series": [{"label": "Appointments", "data": [counts.get(h, 0) for h in hours]}]}


def by_status(org_id: str, period: Period) -> dict:
    """Appointments of the period by status."""
    rows = (Appointment.select(Appointment.status, fn.COUNT(Appointment.id)).where(_in_period(org_id, period))
            .group_by(Appointment.status).order_by(fn.COUNT(Appointment.id).desc()).tuples())
    pairs = list(rows)
    return {"labels": [s.replace("_", " ") for s, _ in pairs],
            "series": [{"label": "Appointments", "data": [n for _, n in pairs]}]}


def top_answers(org_id: str) -> dict:
    """The knowledge answers the AI gave most often."""
    rows = (KnowledgeItem.select(KnowledgeItem.question, KnowledgeItem.usage_count)
            .where((KnowledgeItem.organization == org_id) & (KnowledgeItem.usage_count > 0))
            .order_by(KnowledgeItem.usage_count.desc(), KnowledgeItem.id).limit(TOP_ANSWERS).tuples())
    pairs = list(rows)
    return {"labels": [q if len(q) <= 60 else q[:57] + "…" for q, _ in pairs],
            "series": [{"label": "Times answered", "data": [n for _, n in pairs]}]}


def kpis(org_id: str, period: Period, today: dt.date) -> dict:
    """The tiles at the top."""
    live = Appointment.status.not_in(INACTIVE_STATUSES)
    total = Appointment.select().where(_in_period(org_id, period)).count()
    by_ai = Appointment.select().where(_in_period(org_id, period) & (Appointment.source == "AI")).count()
    lost = Appointment.select().where(_in_period(org_id, period) & ~live).count()
    numbers = dict(PhoneNumber.select(PhoneNumber.registration_status, fn.COUNT(PhoneNumber.id))
                   .where((PhoneNumber.organization == org_id) & PhoneNumber.is_active)
                   .group_by(PhoneNumber.registration_status).tuples())
    return {
        "today": Appointment.select().where((Appointment.organization == org_id) & live
                                            & (Appointment.appointment_date == today.isoformat())).count(),
        "total": total, "by_ai": by_ai, "ai_share": round(100 * by_ai / total) if total else 0, "lost": lost,
        "knowledge": KnowledgeItem.select().where((KnowledgeItem.organization == org_id)
                                                  & KnowledgeItem.is_active).count(),
        "assistants": Assistant.select().where((Assistant.organization == org_id) & Assistant.is_active).count(),
        "numbers_registered": numbers.get("registered", 0), "numbers_total": sum(numbers.values()),
    }


def upcoming(org_id: str, now: dt.datetime, limit: int = 5) -> list[Appointment]:
    """The next live appointments."""
    return list(Appointment.select().where((Appointment.organization == org_id) & (Appointment.starts_at >= now)
                                           & Appointment.status.not_in(INACTIVE_STATUSES))
                .order_by(Appointment.starts_at).limit(limit))


@bp.route("/")
@page(Role.VIEWER)
def home():
    who = viewer()
    now = dt.datetime.now(org_timezone(who.org_id)).replace(tzinfo=None)
    period, problem = period_from_args(now.date())
    if problem:
        flash(problem, "warning")
    sees_names = who.can(Role.AGENT)  # customers' names are for front-desk staff, not read-only VIEWERs
    cache = current_app.extensions.setdefault("callbox.ui_call_rollups", call_stats.RollupCache())
    calls, call_charts = call_stats.summary(cache, who.org_id, period.start, period.end, now.date())
    charts = {"byDay": bookings_by_day(who.org_id, period), "byHour": bookings_by_hour(who.org_id, period),
              "status": by_status(who.org_id, period), "answers": top_answers(who.org_id), **call_charts}
    return render_template("dashboard.html", page_title="Dashboard", period=period, presets=PRESETS,
                           kpi=kpis(who.org_id, period, now.date()), charts=charts,
                           calls=calls, sees_names=sees_names,
                           upcoming=upcoming(who.org_id, now) if sees_names else [], today=now.date())
