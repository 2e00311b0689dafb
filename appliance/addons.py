"""Add-ons: optional features a workspace switches on or off (``GET /addons``, ``POST /addons/toggle``)."""
from __future__ import annotations

import logging

from appliance.security import SecretBox
from appliance.settings import get_settings, update_settings
from data.ai import AddonState
from data.base import utcnow

logger = logging.getLogger(__name__)

# addon → (default, description). call_recording is the workspace's recordingEnabled setting (one truth).
ADDONS: dict[str, tuple[bool, str]] = {
    "llm_analysis": (False, "Use the configured LLM endpoint to phrase answers (grounded in the knowledge base)"),
    "appointments_by_ai": (True, "Let assistants book and cancel appointments during calls"),
    "enhanced_caller_id": (False, "Look callers up among leads and past calls to greet them by name"),
    "call_recording": (True, "Record calls (the workspace's recordingEnabled setting)"),
    "sentiment": (True, "Score callers' sentiment in live calls and post-call analysis"),
}


def _stored(org_id: str) -> dict[str, bool]:
    return {row.addon_type: row.enabled for row in AddonState.select().where(AddonState.organization == org_id)}


def is_enabled(org_id: str, addon: str, box: SecretBox | None = None) -> bool:
    """Whether one add-on is on for the workspace."""
    if addon == "call_recording" and box is not None:
        return bool(get_settings(org_id, box)["recordingEnabled"])
    return _stored(org_id).get(addon, ADDONS[addon][0])


def llm_configured(org_id: str, box: SecretBox) -> bool:
    """Whether the workspace has an LLM endpoint and model set."""
    llm = get_settings(org_id, box)["llm"]
    return bool(llm.get("endpoint") and llm.get("model"))


def list_addons(org_id: str, box: SecretBox) -> list[dict]:
    """Every add-on with its state; ``available`` is false when it needs configuration first."""
    stored, settings = _stored(org_id), get_settings(org_id, box)
    llm_ready = bool(settings["llm"].get("endpoint") and settings["llm"].get("model"))
    result = []
    for addon, (default, description) in ADDONS.items():
        enabled = bool(settings["recordingEnabled"]) if addon == "call_recording" else stored.get(addon, default)
        available = llm_ready if addon == "llm_analysis" else True
        result.append({"addonType": addon, "enabled": enabled, "available": available, "description": description})
    return result


def toggle(org_id: str, addon: str, enabled: bool, box: SecretBox) -> None:
    """Switch an add-on on or off."""
    if addon == "call_recording":
        update_settings(org_id, {"recordingEnabled": enabled}, box)
        return
    AddonState.insert(organization=org_id, addon_type=addon, enabled=enabled, updated_at=utcnow()).on_conflict(
        conflict_target=[AddonState.organization, AddonState.addon_type],
        update={AddonState.enabled: enabled, AddonState.updated_at: utcnow()}).execute()
    logger.info("add-on %s %s in %s", addon, "enabled" if enabled else "disabled", org_id)
