""""Try it": a conversation with an assistant in text, optionally spoken.

With JavaScript (static/try.js) the chat talks to ``POST /api/v1/ai/test`` with the session's CSRF header and can
play the spoken reply; without it the form posts here and the page shows the reply, continuing the same session.
AGENT and above, as the API (a test conversation can book real appointments).
"""
from __future__ import annotations

import logging

from flask import current_app, render_template, request

from appliance import assistants, brain
from appliance.errors import CallboxError
from appliance.roles import Role
from data.ai import Assistant
from web.api.ai import AiTestSchema
from web.context import secret_box
from web.ui.common import FormError, bp, load, page, text, viewer

logger = logging.getLogger(__name__)


def index_cache() -> brain.IndexCache:
    """The app's knowledge-index cache (the same one the API's ``/ai/test`` uses)."""
    return current_app.extensions.setdefault("callbox.knowledge_indexes", brain.IndexCache())


def _assistant_choices(org_id: str) -> list[Assistant]:
    return list(Assistant.select(Assistant.id, Assistant.name, Assistant.language)
                .where((Assistant.organization == org_id) & Assistant.is_active).order_by(Assistant.name))


def _turn(org, body: dict) -> dict:
    try:
        return brain.test_turn(org, body, secret_box(), index_cache())
    except CallboxError as exc:
        raise FormError({"userMessage": exc.message}) from exc


@bp.route("/try", methods=["GET", "POST"])
@page(Role.AGENT)
def try_it():
    who = viewer()
    chosen = request.values.get("assistant", "").strip()
    if not chosen:
        default = assistants.get_default(who.org_id)
        chosen = default.id if default else ""
    result, errors, said = None, {}, ""
    if request.method == "POST":
        said = request.form.get("userMessage", "")
        body = {"userMessage": said, "assistantId": chosen or None, "sessionId": text("sessionId") or None}
        try:
            result = _turn(who.organization, load(AiTestSchema, {k: v for k, v in body.items() if v is not None}))
        except FormError as exc:
            errors = exc.errors
    return render_template("ai/try.html", page_title="Try it", choices=_assistant_choices(who.org_id),
                           chosen=chosen, result=result, said=said, errors=errors), 422 if errors else 200
