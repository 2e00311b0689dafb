"""Phone numbers: SIP accounts on the PBX that the voice agent registers, and what a call to each one gets.

The SIP password is write-only: sealed with the data directory's key, opened only by the voice agent.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import phonenumbers
from peewee import IntegrityError

from appliance import business_hours
from appliance.errors import DuplicateEntry, NotFound, ValidationError
from appliance.security import SecretBox, mask
from data.ai import Assistant, PhoneNumber
from data.base import utcnow
from data.db import database
from data.models import OrgSettings

logger = logging.getLogger(__name__)

REGISTRATION_STATUSES = ("unregistered", "registering", "registered", "failed")
TRANSPORTS = ("udp", "tcp", "tls")
_COLUMNS = {"displayName": "display_name", "afterHoursAction": "after_hours_action",
            "afterHoursDestination": "after_hours_destination", "isActive": "is_active"}
_SIP_COLUMNS = {"server": "sip_server", "port": "sip_port", "username": "sip_username", "transport": "sip_transport"}


def org_region(org_id: str) -> str:
    """The workspace's default region for local numbers (ISO country code)."""
    row = OrgSettings.get_or_none(OrgSettings.organization == org_id)
    return ((row.data or {}).get("defaultRegion") if row else None) or "US"


def normalize_number(value: str, org_id: str, *, allow_extension: bool = False) -> str:
    """E.164 for a phone number (local numbers read in the workspace's region); short PBX extensions kept."""
    text = (value or "").strip()
    digits = text.replace(" ", "").replace("-", "")
    if allow_extension and digits.isdigit() and 2 <= len(digits) <= 6:
        return digits
    try:
        parsed = phonenumbers.parse(text, org_region(org_id))
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"{value!r} is not a phone number", {"number": [str(exc)]}) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise ValidationError(f"{value!r} is not a possible phone number", {"number": ["not possible"]})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def get(org_id: str, number_id: str) -> PhoneNumber:
    """One phone number of the organization; ``NotFound`` for another organization's."""
    row = PhoneNumber.get_or_none((PhoneNumber.id == number_id) & (PhoneNumber.organization == org_id))
    if row is None:
        raise NotFound("No phone number with this id")
    return row


def _apply_sip(row: PhoneNumber, sip: dict, box: SecretBox) -> None:
    for key, column in _SIP_COLUMNS.items():
        if key in sip:
            value = sip[key]
            setattr(row, column, value.strip() if isinstance(value, str) else value)
    if "password" in sip:
        row.sip_password = box.seal(sip["password"]) if sip["password"] else ""


def _apply(row: PhoneNumber, body: dict, box: SecretBox) -> None:
    if "number" in body:
        row.number = normalize_number(body["number"], row.organization_id, allow_extension=True)
    for key, column in _COLUMNS.items():
        if key in body:
            setattr(row, column, body[key].strip() if isinstance(body[key], str) else body[key])
    if "businessHours" in body:
        row.business_hours = business_hours.normalize(body["businessHours"])
    if "assistantId" in body:
        wanted = body["assistantId"]
        if wanted and Assistant.get_or_none((Assistant.id == wanted)
                                            & (Assistant.organization == row.organization_id)) is None:
            raise ValidationError("assistantId: no assistant with this id", {"assistantId": ["not found"]})
        row.assistant = wanted or None
    if "sip" in body:
        _apply_sip(row, body["sip"] or {}, box)
    if row.after_hours_action == "transfer" and not row.after_hours_destination and not (
            row.assistant_id and row.assistant.transfer_destination):
        raise ValidationError("afterHoursAction transfer needs afterHoursDestination (extension or SIP URI) "
                              "or an assistant with a transferDestination")


def _save(row: PhoneNumber, *, insert: bool) -> None:
    try:
        with database.atomic():
            row.save(force_insert=insert)
    except IntegrityError as exc:
        raise DuplicateEntry("This number is already set up in the workspace", {"number": ["duplicate"]}) from exc


def create(org_id: str, body: dict, box: SecretBox) -> PhoneNumber:
    """A new SIP account for a number; it stays ``unregistered`` until the voice agent registers it."""
    row = PhoneNumber(organization=org_id)
    _apply(row, body, box)
    _save(row, insert=True)
    logger.info("phone number %s added to %s", row.id, org_id)
    return row


def update(row: PhoneNumber, body: dict, box: SecretBox) -> PhoneNumber:
    """Change a number; SIP changes put it back to ``unregistered`` until the voice agent re-registers."""
    _apply(row, body, box)
    if "sip" in body or "number" in body or body.get("isActive") is False:
        row.registration_status, row.registration_error = "unregistered", None
    row.updated_at = utcnow()
    _save(row, insert=False)
    return row


def view(row: PhoneNumber) -> dict:
    """The API's picture of a number (the SIP password shown only as set or not)."""
    return {"id": row.id, "number": row.number, "displayName": row.display_name,
            "sip": {"server": row.sip_server, "port": row.sip_port, "username": row.sip_username,
                    "password": mask(row.sip_password), "transport": row.sip_transport},
            "assistantId": row.assistant_id, "businessHours": row.business_hours or {},
            "afterHoursAction": row.after_hours_action, "afterHoursDestination": row.after_hours_destination,
            "isActive": row.is_active, "registrationStatus": row.registration_status,
            "registrationError": row.registration_error, "registeredAt": row.registered_at,
            "createdAt": row.created_at, "updatedAt": row.updated_at}


# --- used by the voice agent -------------------------------------------------------------------------------------

def sip_password(row: PhoneNumber, box: SecretBox) -> str | None:
    """The plaintext SIP password, for registering (never for display)."""
    return box.open(row.sip_password) if row.sip_password else None


def set_registration(number_id: str, status: str, error: str | None = None) -> None:
    """Record the outcome of a SIP registration attempt."""
    if status not in REGISTRATION_STATUSES:
        raise ValueError(f"unknown registration status {status!r}")
    changes = {"registration_status": status, "registration_error": error}
    if status == "registered":
        changes["registered_at"] = utcnow()
    PhoneNumber.update(**changes).where(PhoneNumber.id == number_id).execute()


@dataclass(frozen=True)
class Route:
    """What an incoming call to a number gets right now."""

    action: str  # assistant | voicemail | transfer | hangup
    assistant_id: str | None
    destination: str | None = None


def route(row: PhoneNumber, when: dt.datetime | None = None) -> Route:
    """Decide by business hours (the number's, else its assistant's) what an incoming call gets."""
    assistant = row.assistant if row.assistant_id else None
    hours, action = row.business_hours, row.after_hours_action
    if not hours and assistant is not None:
        hours, action = assistant.business_hours, assistant.after_hours_action
    when = when or business_hours.local_now(row.organization_id)
    if business_hours.is_open(hours or {}, when) or action == "assistant":
        return Route("assistant" if assistant else "voicemail", row.assistant_id)
    destination = row.after_hours_destination or (assistant.transfer_destination if assistant else None)
    return Route(action, row.assistant_id, destination if action == "transfer" else None)
