"""Assistants: the AI personas that answer calls, and the workspace's default one (``/ai/config``)."""
from __future__ import annotations

import copy
import logging
from typing import Any

from appliance import business_hours
from appliance.errors import NotFound, ValidationError
from appliance.security import SecretBox
from appliance.settings import update_settings
from data.ai import Assistant
from data.base import utcnow
from data.db import database
from data.models import OrgSettings

logger = logging.getLogger(__name__)

DEFAULT_VOICE = {"engine": "piper", "voiceId": "en_US-lessac-medium"}
DEFAULT_ASR = {"engine": "vosk", "model": None}
DEFAULT_TRANSFER_RULES = {
    "confidenceThreshold": 60,  # percent, as the API shows confidence
    "maxDuration": 600,  # seconds of call before a human takes over
    "transferOnRequest": True,
    "languages": [],  # served besides `language`; other languages go to a human
    "lowConfidenceTurns": 2,  # how many unsure turns in a row before a transfer
}
DEFAULT_SAFETY_RULES = {
    "forbiddenTopics": [],
    "requireDisclaimers": False,
    "disclaimer": "I'm not able to advise on that over the phone. I can connect you with a member of our team.",
}
DEFAULT_GREETING = "Hello! Thanks for calling. How can I help you today?"
DEFAULT_CLOSING = "Thank you for calling. Goodbye!"

# API field → (column, default); nested dicts are merged on PATCH, everything else replaced.
FIELDS: dict[str, tuple[str, Any]] = {
    "name": ("name", "Assistant"),
    "language": ("language", "en"),
    "voice": ("voice", DEFAULT_VOICE),
    "asr": ("asr", DEFAULT_ASR),
    "greetingMessage": ("greeting_message", DEFAULT_GREETING),
    "closingMessage": ("closing_message", DEFAULT_CLOSING),
    "tone": ("tone", "professional"),
    "speakingStyle": ("speaking_style", "balanced"),
    "transferRules": ("transfer_rules", DEFAULT_TRANSFER_RULES),
    "transferDestination": ("transfer_destination", None),
    "safetyRules": ("safety_rules", DEFAULT_SAFETY_RULES),
    "enableSentiment": ("enable_sentiment", True),
    "enableIntent": ("enable_intent", True),
    "bookingEnabled": ("booking_enabled", True),
    "businessHours": ("business_hours", {}),
    "afterHoursAction": ("after_hours_action", "assistant"),
    "appointmentDurationMinutes": ("appointment_minutes", 30),
    "isActive": ("is_active", True),
}
MERGED = ("voice", "asr", "transferRules", "safetyRules")


def _apply(row: Assistant, body: dict) -> None:
    for key, value in body.items():
        column, default = FIELDS[key]
        if key in MERGED:
            value = {**copy.deepcopy(default), **(getattr(row, column) or {}), **(value or {})}
        elif key == "businessHours":
            value = business_hours.normalize(value)
        elif isinstance(value, str) and key != "greetingMessage":
            value = value.strip()
        setattr(row, column, value)
    if not row.name:
        raise ValidationError("name must not be blank", {"name": ["blank"]})


def view(row: Assistant) -> dict:
    """The API's picture of an assistant (nested rules completed with their defaults)."""
    data: dict[str, Any] = {"id": row.id}
    for key, (column, default) in FIELDS.items():
        value = getattr(row, column)
        if key in MERGED:
            value = {**copy.deepcopy(default), **(value or {})}
        data[key] = value
    data.update(organizationId=row.organization_id, createdAt=row.created_at, updatedAt=row.updated_at)
    return data


def create(org_id: str, body: dict) -> Assistant:
    """A new assistant: given fields over the defaults."""
    row = Assistant(organization=org_id)
    for key, (column, default) in FIELDS.items():
        setattr(row, column, copy.deepcopy(default))
    _apply(row, body)
    row.save(force_insert=True)
    logger.info("assistant %s created in %s", row.id, org_id)
    return row


def update(row: Assistant, body: dict) -> Assistant:
    """Change some fields; nested rules are merged, business hours replaced."""
    _apply(row, body)
    row.updated_at = utcnow()
    row.save()
    return row


def get(org_id: str, assistant_id: str) -> Assistant:
    """One assistant of the organization; ``NotFound`` for another organization's."""
    row = Assistant.get_or_none((Assistant.id == assistant_id) & (Assistant.organization == org_id))
    if row is None:
        raise NotFound("No assistant with this id")
    return row


def _default_id(org_id: str) -> str | None:
    row = OrgSettings.get_or_none(OrgSettings.organization == org_id)
    return (row.data or {}).get("defaultAssistantId") if row else None


def get_default(org_id: str) -> Assistant | None:
    """The workspace default: the one named in settings, else the oldest active assistant."""
    chosen = _default_id(org_id)
    if chosen:
        row = Assistant.get_or_none((Assistant.id == chosen) & (Assistant.organization == org_id))
        if row is not None:
            return row
    return (Assistant.select().where((Assistant.organization == org_id) & Assistant.is_active)
            .order_by(Assistant.created_at, Assistant.id).first())


def default_view(org_id: str) -> dict:
    """``/ai/config``: the default assistant, or the defaults (``id`` null) when there is none yet."""
    row = get_default(org_id)
    if row is not None:
        return view(row)
    data = {key: copy.deepcopy(default) for key, (_column, default) in FIELDS.items()}
    data.update(id=None, organizationId=org_id, createdAt=None, updatedAt=None)
    return data


def update_default(org_id: str, body: dict, box: SecretBox) -> Assistant:
    """``PATCH /ai/config``: change the default assistant, creating (and recording) it when there is none."""
    with database.atomic():
        row = get_default(org_id)
        if row is None:
            row = create(org_id, body)
        else:
            update(row, body)
        if _default_id(org_id) != row.id:
            update_settings(org_id, {"defaultAssistantId": row.id}, box)
    return row


def delete(row: Assistant, box: SecretBox) -> None:
    """Remove an assistant (phone numbers using it keep working with no assistant); forget it as default."""
    with database.atomic():
        if _default_id(row.organization_id) == row.id:
            update_settings(row.organization_id, {"defaultAssistantId": None}, box)
        row.delete_instance()
    logger.info("assistant %s deleted", row.id)
