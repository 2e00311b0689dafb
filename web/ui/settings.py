"""Workspace settings and add-ons (ADMIN, as in the API). Secrets are write-only: left blank they stay as they are."""
from __future__ import annotations

import logging

from flask import flash, render_template, request

from appliance import addons, audit
from appliance.errors import CallboxError
from appliance.roles import Role
from appliance.settings import get_settings, update_settings
from data.ai import Assistant
from web.api.settings import SettingsSchema
from web.auth import client_ip
from web.context import secret_box
from web.ui.common import FormError, back, bp, checkbox, load, number, optional, page, text, viewer

logger = logging.getLogger(__name__)

TRANSPORTS = [("udp", "UDP"), ("tcp", "TCP"), ("tls", "TLS")]


def _secret(section: str, key: str) -> dict:
    """A write-only field: a new value sets it, the "clear" box removes it, blank keeps it."""
    if checkbox(f"{section}.{key}.clear"):
        return {key: None}
    value = request.form.get(f"{section}.{key}", "")
    return {key: value} if value else {}


def form_body() -> dict:
    """The settings form as the API's body."""
    return {
        "timezone": text("timezone"), "locale": text("locale"), "defaultRegion": text("defaultRegion").upper(),
        "recordingEnabled": checkbox("recordingEnabled"), "retentionDays": number("retentionDays"),
        "defaultAssistantId": optional("defaultAssistantId"), "transferTarget": optional("transferTarget"),
        "sip": {"server": optional("sip.server"), "port": number("sip.port"), "transport": text("sip.transport"),
                "username": optional("sip.username"), **_secret("sip", "password")},
        "llm": {"endpoint": optional("llm.endpoint"), "model": optional("llm.model"), **_secret("llm", "apiKey")},
    }


def _assistant_options(org_id: str) -> list[tuple]:
    rows = Assistant.select(Assistant.id, Assistant.name).where(Assistant.organization == org_id).order_by(
        Assistant.name)
    return [("", "The oldest active assistant")] + [(a.id, a.name) for a in rows]


def _render(values: dict, errors: dict, status: int = 200):
    who = viewer()
    return render_template("settings.html", page_title="Settings", values=values, errors=errors,
                           assistants=_assistant_options(who.org_id), transports=TRANSPORTS,
                           addons=addons.list_addons(who.org_id, secret_box())), status


@bp.route("/settings", methods=["GET", "POST"])
@page(Role.ADMIN)
def settings():
    who = viewer()
    stored = get_settings(who.org_id, secret_box())
    if request.method == "GET":
        return _render(stored, {})
    submitted = form_body()
    try:
        body = load(SettingsSchema, submitted)
        if body.get("defaultAssistantId") and not Assistant.get_or_none(
                (Assistant.id == body["defaultAssistantId"]) & (Assistant.organization == who.org_id)):
            raise FormError({"defaultAssistantId": "Choose one of this workspace's assistants"})
        update_settings(who.org_id, body, secret_box())
    except FormError as exc:
        shown = {**submitted, "sip": {**stored["sip"], **submitted["sip"], "password": stored["sip"]["password"]},
                 "llm": {**stored["llm"], **submitted["llm"], "apiKey": stored["llm"]["apiKey"]}}
        return _render(shown, exc.errors, 422)
    audit.record("settings.updated", organization_id=who.org_id, user_id=who.user.id, ip=client_ip(),
                 fields=sorted(body))
    flash("Settings saved.", "success")
    return back("ui.settings")


@bp.route("/settings/addons", methods=["POST"])
@page(Role.ADMIN)
def addon_toggle():
    who, box = viewer(), secret_box()
    addon, enabled = text("addonType"), request.form.get("enabled") == "1"
    if addon not in addons.ADDONS:
        flash("Unknown add-on.", "error")
        return back("ui.settings")
    if addon == "llm_analysis" and enabled and not addons.llm_configured(who.org_id, box):
        flash("Set the LLM endpoint and model below before switching on LLM phrasing.", "error")
        return back("ui.settings")
    try:
        addons.toggle(who.org_id, addon, enabled, box)
    except CallboxError as exc:
        flash(exc.message, "error")
        return back("ui.settings")
    audit.record("addon.toggled", organization_id=who.org_id, user_id=who.user.id, target_type="addon",
                 target_id=addon, ip=client_ip(), enabled=enabled)
    flash(f"{addon.replace('_', ' ').capitalize()} switched {'on' if enabled else 'off'}.", "success")
    return back("ui.settings")
