"""Phone numbers: the SIP accounts the voice agent registers on the PBX, with their live registration status.

Everyone may see them (the SIP password never); changing them is an ADMIN's, as in the API. The status column
refreshes by itself (htmx polls a fragment) while the voice agent registers the lines.
"""
from __future__ import annotations

import logging

from flask import flash, render_template, request, url_for
from peewee import JOIN

from appliance import audit, phone_numbers
from appliance.business_hours import AFTER_HOURS_ACTIONS, DAYS
from appliance.errors import CallboxError, ValidationError
from appliance.roles import Role
from data.ai import Assistant, PhoneNumber
from web.api.phone_numbers import PhoneNumberPatchSchema, PhoneNumberSchema
from web.auth import client_ip
from web.context import secret_box
from web.ui.assistants import AFTER_HOURS, hours_from_form
from web.ui.common import (FormError, back, bp, checkbox, domain_errors, load, number, optional, page, page_number,
                           paginate, require, text, viewer)

logger = logging.getLogger(__name__)

POLL_SECONDS = 5
STATUS_KIND = {"registered": "good", "registering": "warn", "failed": "bad", "unregistered": ""}


def _rows(org_id: str):
    query = (PhoneNumber.select(PhoneNumber, Assistant)
             .join(Assistant, JOIN.LEFT_OUTER, on=(PhoneNumber.assistant == Assistant.id))
             .where(PhoneNumber.organization == org_id))
    return paginate(query, (PhoneNumber.created_at, PhoneNumber.id), page_number())


@bp.route("/phone-numbers", endpoint="phone_numbers")
@page(Role.VIEWER)
def numbers_list():
    rows, pager = _rows(viewer().org_id)
    template = "numbers/_table.html" if request.headers.get("HX-Request") else "numbers/list.html"
    return render_template(template, page_title="Phone numbers", rows=rows, pager=pager, kinds=STATUS_KIND,
                           poll=POLL_SECONDS), 200, {"Vary": "HX-Request"}


def form_body(include_password: bool) -> dict:
    """The number form as the API's body; the SIP password only when one was typed (write-only)."""
    sip = {"server": optional("sip.server"), "port": number("sip.port"), "username": optional("sip.username"),
           "transport": text("sip.transport")}
    if checkbox("sip.password.clear"):
        sip["password"] = None
    elif include_password and request.form.get("sip.password"):
        sip["password"] = request.form["sip.password"]
    return {"number": text("number"), "displayName": text("displayName"), "assistantId": optional("assistantId"),
            "afterHoursAction": text("afterHoursAction"), "afterHoursDestination": optional("afterHoursDestination"),
            "isActive": checkbox("isActive"), "businessHours": hours_from_form(), "sip": sip}


def _options(org_id: str) -> dict:
    choices = Assistant.select(Assistant.id, Assistant.name).where(Assistant.organization == org_id).order_by(
        Assistant.name)
    return {"assistants": [("", "None (voicemail)")] + [(a.id, a.name) for a in choices],
            "after_hours": [(a, AFTER_HOURS[a]) for a in AFTER_HOURS_ACTIONS], "days": DAYS,
            "transports": [(t, t.upper()) for t in phone_numbers.TRANSPORTS]}


def _render_form(values: dict, errors: dict, row: PhoneNumber | None, status: int = 200):
    who = viewer()
    action = url_for("ui.phone_number_edit", number_id=row.id) if row else url_for("ui.phone_number_new")
    title = f"Phone number {row.number}" if row else "New phone number"
    return render_template("numbers/form.html", page_title=title, values=values, errors=errors, row=row,
                           action=action, readonly=not who.can(Role.ADMIN), kinds=STATUS_KIND,
                           **_options(who.org_id)), status


def _new_values() -> dict:
    return {"number": "", "displayName": "", "assistantId": None, "afterHoursAction": "assistant",
            "afterHoursDestination": None, "isActive": True, "businessHours": {},
            "sip": {"server": "", "port": 5060, "username": "", "password": None, "transport": "udp"}}


def _shown(stored: dict, submitted: dict) -> dict:
    return {**stored, **submitted, "sip": {**stored["sip"], **submitted["sip"], "password": stored["sip"]["password"]},
            "businessHours": {d: s for d, s in submitted["businessHours"].items() if s}}


def _same_number(typed: str | None, stored: str, org_id: str) -> bool:
    try:
        return phone_numbers.normalize_number(typed or "", org_id, allow_extension=True) == stored
    except ValidationError:
        return False  # the service reports it when saving


def unchanged_removed(body: dict, stored: dict, org_id: str) -> dict:
    """Leave out the number and SIP account when they did not change: changing them re-registers the line."""
    body = dict(body)
    if "number" in body and _same_number(body["number"], stored["number"], org_id):
        del body["number"]
    sip = body.get("sip") or {}
    if all(sip.get(k) == stored["sip"].get(k) for k in ("server", "port", "username", "transport")) \
            and "password" not in sip:
        body.pop("sip", None)
    return body


def _save(row: PhoneNumber | None):
    who = viewer()
    stored = phone_numbers.view(row) if row else _new_values()
    submitted = form_body(include_password=True)
    try:
        body = load(PhoneNumberSchema if row is None else PhoneNumberPatchSchema, submitted)
        if row is None:
            row = phone_numbers.create(who.org_id, body, secret_box())
        else:
            phone_numbers.update(row, unchanged_removed(body, stored, who.org_id), secret_box())
    except FormError as exc:
        return _render_form(_shown(stored, submitted), exc.errors, row, 422)
    except CallboxError as exc:
        field = ("afterHoursDestination" if "afterHours" in exc.message
                 else "businessHours" if "businessHours" in exc.message else "_form")
        errors = domain_errors(exc, ("number", "assistantId"), field)
        return _render_form(_shown(stored, submitted), errors, row, 409 if exc.status == 409 else 422)
    audit.record("phone_number.updated", organization_id=who.org_id, user_id=who.user.id,
                 target_type="phone_number", target_id=row.id, ip=client_ip())
    flash(f"{row.number} saved. The voice agent registers it with the PBX shortly.", "success")
    return back("ui.phone_numbers")


@bp.route("/phone-numbers/new", methods=["GET", "POST"])
@page(Role.ADMIN)
def phone_number_new():
    if request.method == "GET":
        return _render_form(_new_values(), {}, None)
    return _save(None)


@bp.route("/phone-numbers/<string:number_id>", methods=["GET", "POST"])
@page(Role.VIEWER)
def phone_number_edit(number_id: str):
    row = phone_numbers.get(viewer().org_id, number_id)
    if request.method == "GET":
        return _render_form(phone_numbers.view(row), {}, row)
    require(Role.ADMIN)
    return _save(row)


@bp.route("/phone-numbers/<string:number_id>/delete", methods=["POST"])
@page(Role.ADMIN)
def phone_number_delete(number_id: str):
    who = viewer()
    row = phone_numbers.get(who.org_id, number_id)
    row.delete_instance()
    audit.record("phone_number.deleted", organization_id=who.org_id, user_id=who.user.id,
                 target_type="phone_number", target_id=number_id, ip=client_ip())
    flash(f"{row.number} deleted: the voice agent unregisters it.", "success")
    return back("ui.phone_numbers")
