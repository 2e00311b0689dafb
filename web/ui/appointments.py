"""Appointments as a list and as a week calendar; booking, rescheduling and cancelling by staff.

AGENT and above, as in the API (customers' names and numbers); erasing one is a MANAGER's.
"""
from __future__ import annotations

import datetime as dt
import logging

from flask import flash, render_template, request, url_for

from appliance import appointments, audit
from appliance.business_hours import local_now
from appliance.errors import CallboxError, Conflict
from appliance.roles import Role
from data.ai import Appointment
from web.api.appointments import AppointmentPatchSchema, AppointmentSchema
from web.auth import client_ip
from web.ui.common import (FormError, back, bp, domain_errors, load, number, page, page_number, paginate, text,
                           viewer)

logger = logging.getLogger(__name__)

STATUS_KIND = {"scheduled": "info", "confirmed": "good", "completed": "", "cancelled": "bad", "no_show": "warn"}
FORM_FIELDS = ("customerName", "customerPhone", "appointmentDate", "appointmentTime", "durationMinutes",
               "appointmentType", "status", "qualityScore", "notes")


def _date_arg(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.args.get(name, "").strip())
    except ValueError:
        return None


def _filters() -> dict:
    status = request.args.get("status", "")
    source = request.args.get("source", "")
    return {"search": request.args.get("search", "").strip()[:100],
            "status": status if status in appointments.STATUSES else "",
            "source": source if source in appointments.SOURCES else "",
            "startDate": _date_arg("startDate"), "endDate": _date_arg("endDate")}


@bp.route("/appointments", endpoint="appointments")
@page(Role.AGENT)
def appointments_list():
    who, filters = viewer(), _filters()
    query = appointments.filtered(who.org_id, filters)
    rows, pager = paginate(query, (Appointment.starts_at.desc(), Appointment.id), page_number())
    args = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in filters.items() if v}
    return render_template("appointments/list.html", page_title="Appointments", rows=rows, pager=pager,
                           filters=filters, args=args, statuses=appointments.STATUSES, kinds=STATUS_KIND)


def week_start(day: dt.date) -> dt.date:
    """The Monday of the week that holds ``day``."""
    return day - dt.timedelta(days=day.weekday())


@bp.route("/appointments/week")
@page(Role.AGENT)
def appointments_week():
    who = viewer()
    today = local_now(who.org_id).date()
    monday = week_start(_date_arg("start") or today)
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    rows = (appointments.filtered(who.org_id, {"startDate": days[0], "endDate": days[-1]})
            .order_by(Appointment.starts_at, Appointment.id))
    by_day: dict[str, list[Appointment]] = {d.isoformat(): [] for d in days}
    for row in rows:
        by_day.setdefault(row.appointment_date, []).append(row)
    return render_template("appointments/week.html", page_title="Week of " + monday.strftime("%d %b %Y"),
                           days=days, by_day=by_day, today=today, kinds=STATUS_KIND,
                           prev=(monday - dt.timedelta(days=7)).isoformat(),
                           next=(monday + dt.timedelta(days=7)).isoformat())


def form_body() -> dict:
    """The appointment form as the API's body."""
    score = text("qualityScore")
    return {"customerName": text("customerName"), "customerPhone": text("customerPhone") or None,
            "appointmentDate": text("appointmentDate"), "appointmentTime": text("appointmentTime"),
            "durationMinutes": number("durationMinutes") or None, "appointmentType": text("appointmentType")
            or "appointment", "status": text("status") or "scheduled",
            "qualityScore": int(score) if score.isdigit() else (score or None), "notes": text("notes")}


def _render_form(values: dict, errors: dict, row: Appointment | None, status: int = 200):
    action = url_for("ui.appointment_edit", appointment_id=row.id) if row else url_for("ui.appointment_new")
    title = f"Appointment with {row.customer_name}" if row else "New appointment"
    return render_template("appointments/form.html", page_title=title, values=values, errors=errors, row=row,
                           action=action, status_options=[(s, s.replace("_", " ").capitalize())
                                                          for s in appointments.STATUSES]), status


def _values(row: Appointment) -> dict:
    return {"customerName": row.customer_name, "customerPhone": row.customer_phone or "",
            "appointmentDate": row.appointment_date, "appointmentTime": row.appointment_time,
            "durationMinutes": row.duration_minutes, "appointmentType": row.appointment_type,
            "status": row.status, "qualityScore": row.quality_score, "notes": row.notes}


def _save(row: Appointment | None):
    who = viewer()
    submitted = form_body()
    body = {k: v for k, v in submitted.items() if v is not None or k in ("customerPhone", "qualityScore")}
    try:
        body = load(AppointmentSchema if row is None else AppointmentPatchSchema, body)
        if row is None:
            row = appointments.create(who.org_id, body, source="MANUAL")
        else:
            appointments.update(row, body)
    except FormError as exc:
        return _render_form(submitted, exc.errors, row, 422)
    except Conflict as exc:
        return _render_form(submitted, {"appointmentTime": exc.message}, row, 409)
    except CallboxError as exc:
        field = "appointmentTime" if "appointmentTime" in exc.message else (
            "customerPhone" if "phone" in exc.message or "number" in (exc.details or {}) else "_form")
        return _render_form(submitted, domain_errors(exc, FORM_FIELDS, field), row, 422)
    audit.record("appointment.updated", organization_id=who.org_id, user_id=who.user.id,
                 target_type="appointment", target_id=row.id, ip=client_ip())
    flash(f"Appointment with {row.customer_name} on {row.appointment_date} at {row.appointment_time} saved.",
          "success")
    return back("ui.appointments_week", start=week_start(dt.date.fromisoformat(row.appointment_date)).isoformat())


@bp.route("/appointments/new", methods=["GET", "POST"])
@page(Role.AGENT)
def appointment_new():
    if request.method == "GET":
        day = _date_arg("date") or local_now(viewer().org_id).date()
        return _render_form({"appointmentDate": day.isoformat(), "appointmentTime": "09:00", "status": "scheduled",
                             "appointmentType": "appointment"}, {}, None)
    return _save(None)


@bp.route("/appointments/<string:appointment_id>", methods=["GET", "POST"])
@page(Role.AGENT)
def appointment_edit(appointment_id: str):
    row = appointments.get(viewer().org_id, appointment_id)
    if request.method == "GET":
        return _render_form(_values(row), {}, row)
    return _save(row)


@bp.route("/appointments/<string:appointment_id>/delete", methods=["POST"])
@page(Role.MANAGER)
def appointment_delete(appointment_id: str):
    who = viewer()
    appointments.get(who.org_id, appointment_id).delete_instance()
    audit.record("appointment.deleted", organization_id=who.org_id, user_id=who.user.id,
                 target_type="appointment", target_id=appointment_id, ip=client_ip())
    flash("Appointment erased.", "success")
    return back("ui.appointments")
