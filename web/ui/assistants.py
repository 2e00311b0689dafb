"""Assistants (the AI personas that answer calls) and the workspace's AI configuration (its default assistant).

Everyone may read them; changing them is a MANAGER's, as in the API (it changes what callers hear).
"""
from __future__ import annotations

import copy
import logging

from flask import flash, render_template, request, url_for

from appliance import assistants, audit
from appliance.business_hours import AFTER_HOURS_ACTIONS, DAYS
from appliance.errors import CallboxError
from appliance.roles import Role
from appliance.settings import update_settings
from data.ai import Assistant
from web.api.assistants import STYLES, TONES, AssistantPatchSchema, AssistantSchema
from web.auth import client_ip
from web.context import secret_box
from web.ui.common import (FormError, back, bp, checkbox, domain_errors, load, number, optional, page, page_number,
                           paginate, require, text, viewer)

logger = logging.getLogger(__name__)

LANGUAGES = [("en", "English"), ("es", "Spanish"), ("de", "German"), ("fr", "French"), ("it", "Italian"),
             ("pt", "Portuguese"), ("nl", "Dutch"), ("ko", "Korean")]
AFTER_HOURS = {"assistant": "The assistant answers anyway", "voicemail": "Voicemail",
               "transfer": "Transfer to the front desk", "hangup": "Play the closing message and hang up"}


def hours_from_form(prefix: str = "businessHours") -> dict:
    """Opening hours from the per-day inputs: both times blank means closed that day."""
    hours: dict = {}
    for day in DAYS:
        opens, closes = text(f"{prefix}.{day}.open"), text(f"{prefix}.{day}.close")
        hours[day] = {"open": opens, "close": closes} if (opens or closes) else None
    return hours


def _lines(name: str, separators: str = "\n") -> list[str]:
    raw = request.form.get(name, "")
    for sep in separators[1:]:
        raw = raw.replace(sep, separators[0])
    return [part.strip() for part in raw.split(separators[0]) if part.strip()]


def form_body() -> dict:
    """The assistant form as the API's body."""
    return {
        "name": text("name"), "language": text("language"), "isActive": checkbox("isActive"),
        "greetingMessage": request.form.get("greetingMessage", "").strip(),
        "closingMessage": request.form.get("closingMessage", "").strip(),
        "tone": text("tone"), "speakingStyle": text("speakingStyle"),
        "voice": {"voiceId": optional("voice.voiceId")}, "asr": {"engine": text("asr.engine"),
                                                               "model": optional("asr.model")},
        "transferDestination": optional("transferDestination"),
        "transferRules": {"confidenceThreshold": number("transferRules.confidenceThreshold"),
                          "maxDuration": number("transferRules.maxDuration"),
                          "lowConfidenceTurns": number("transferRules.lowConfidenceTurns"),
                          "transferOnRequest": checkbox("transferRules.transferOnRequest"),
                          "languages": _lines("transferRules.languages", ",\n ")},
        "safetyRules": {"forbiddenTopics": _lines("safetyRules.forbiddenTopics", "\n,"),
                        "requireDisclaimers": checkbox("safetyRules.requireDisclaimers"),
                        "disclaimer": request.form.get("safetyRules.disclaimer", "").strip()},
        "enableSentiment": checkbox("enableSentiment"), "enableIntent": checkbox("enableIntent"),
        "bookingEnabled": checkbox("bookingEnabled"), "businessHours": hours_from_form(),
        "afterHoursAction": text("afterHoursAction"),
        "appointmentDurationMinutes": number("appointmentDurationMinutes"),
    }


def defaults() -> dict:
    """A new assistant's values."""
    return {key: copy.deepcopy(default) for key, (_column, default) in assistants.FIELDS.items()}


def _merged(stored: dict, submitted: dict) -> dict:
    shown = {**stored, **submitted}
    for key in ("voice", "asr", "transferRules", "safetyRules"):
        shown[key] = {**stored.get(key, {}), **submitted.get(key, {})}
    shown["businessHours"] = {d: s for d, s in submitted["businessHours"].items() if s}
    return shown


def _options() -> dict:
    return {"languages": LANGUAGES, "tones": [(t, t.title()) for t in TONES],
            "styles": [(s, s.title()) for s in STYLES], "after_hours": [(a, AFTER_HOURS[a]) for a in AFTER_HOURS_ACTIONS],
            "asr_engines": [("vosk", "Vosk"), ("pocketsphinx", "PocketSphinx")], "days": DAYS}


def render_form(values: dict, errors: dict, *, action: str, title: str, row: Assistant | None = None,
                status: int = 200, is_default: bool = False):
    """The assistant form (read-only below MANAGER)."""
    return render_template("ai/assistant_form.html", page_title=title, values=values, errors=errors, action=action,
                           row=row, readonly=not viewer().can(Role.MANAGER), is_default=is_default,
                           **_options()), status


def _save(row: Assistant | None, stored: dict, action: str, title: str, is_default: bool = False):
    who, created = viewer(), row is None and not is_default
    submitted = form_body()
    try:
        body = load(AssistantSchema if created else AssistantPatchSchema, submitted)
        if is_default:
            row = assistants.update_default(who.org_id, body, secret_box())
        elif row is None:
            row = assistants.create(who.org_id, body)
        else:
            assistants.update(row, body)
    except FormError as exc:
        return render_form(_merged(stored, submitted), exc.errors, action=action, title=title, row=row, status=422,
                           is_default=is_default)
    except CallboxError as exc:
        errors = domain_errors(exc, ("name",), "businessHours" if "businessHours" in exc.message else "_form")
        return render_form(_merged(stored, submitted), errors, action=action, title=title, row=row,
                           status=422, is_default=is_default)
    audit.record("assistant.created" if created else "assistant.updated", organization_id=who.org_id, user_id=who.user.id, target_type="assistant",
                 target_id=row.id, ip=client_ip())
    flash(f"Assistant {row.name} saved.", "success")
    return back("ui.ai_config") if is_default else back("ui.assistant_edit", assistant_id=row.id)


@bp.route("/assistants", endpoint="assistants")
@page(Role.VIEWER)
def assistants_list():
    who = viewer()
    query = Assistant.select().where(Assistant.organization == who.org_id)
    rows, pager = paginate(query, (Assistant.created_at, Assistant.id), page_number())
    default = assistants.get_default(who.org_id)
    return render_template("ai/assistants.html", page_title="Assistants", rows=rows, pager=pager,
                           default_id=default.id if default else None)


@bp.route("/assistants/new", methods=["GET", "POST"])
@page(Role.MANAGER)
def assistant_new():
    action, title = url_for("ui.assistant_new"), "New assistant"
    if request.method == "GET":
        return render_form(defaults(), {}, action=action, title=title)
    return _save(None, defaults(), action, title)


@bp.route("/assistants/<string:assistant_id>", methods=["GET", "POST"])
@page(Role.VIEWER)
def assistant_edit(assistant_id: str):
    row = assistants.get(viewer().org_id, assistant_id)
    action, title = url_for("ui.assistant_edit", assistant_id=row.id), f"Assistant {row.name}"
    if request.method == "GET":
        return render_form(assistants.view(row), {}, action=action, title=title, row=row)
    require(Role.MANAGER)
    return _save(row, assistants.view(row), action, title)


@bp.route("/assistants/<string:assistant_id>/delete", methods=["POST"])
@page(Role.MANAGER)
def assistant_delete(assistant_id: str):
    who = viewer()
    row = assistants.get(who.org_id, assistant_id)
    assistants.delete(row, secret_box())
    audit.record("assistant.deleted", organization_id=who.org_id, user_id=who.user.id, target_type="assistant",
                 target_id=assistant_id, ip=client_ip())
    flash(f"Assistant {row.name} deleted.", "success")
    return back("ui.assistants")


@bp.route("/ai-config", methods=["GET", "POST"])
@page(Role.VIEWER)
def ai_config():
    who = viewer()
    action, title = url_for("ui.ai_config"), "AI configuration"
    stored = assistants.default_view(who.org_id)
    if request.method == "GET":
        row = assistants.get_default(who.org_id)
        return render_form(stored, {}, action=action, title=title, row=row, is_default=True)
    require(Role.MANAGER)
    return _save(None, stored, action, title, is_default=True)


@bp.route("/ai-config/default", methods=["POST"])
@page(Role.ADMIN)
def ai_default():
    """Choose which assistant is the workspace default (a setting, so ADMIN as PUT /settings)."""
    who = viewer()
    row = assistants.get(who.org_id, text("assistantId"))
    update_settings(who.org_id, {"defaultAssistantId": row.id}, secret_box())
    audit.record("settings.updated", organization_id=who.org_id, user_id=who.user.id, ip=client_ip(),
                 fields=["defaultAssistantId"])
    flash(f"{row.name} now answers calls by default.", "success")
    return back("ui.assistants")
