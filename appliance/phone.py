"""Phone numbers as Callbox stores them: E.164 (``+12125550142``), read with Google's ``phonenumbers``.

Local numbers are read in the workspace's ``defaultRegion`` (an ISO country code from its settings). Short digit
strings are PBX extensions and stay as they are. Numbers typed by people (the API) are checked strictly; caller
ids arriving on a live call are taken leniently, because a call must be recorded whatever the PBX sent.
"""
from __future__ import annotations

import logging
import re

import phonenumbers

from appliance.errors import ValidationError
from appliance.settings import DEFAULTS
from data.models import OrgSettings

logger = logging.getLogger(__name__)

EXTENSION = re.compile(r"^\d{2,6}$")
_SIP_URI = re.compile(r"^(?:sips?|tel):([^@;>]+)", re.IGNORECASE)
_PUNCTUATION = re.compile(r"[\s().\-/]")
ANONYMOUS = "anonymous"


def default_region(org_id: str) -> str:
    """The workspace's region for local numbers (settings ``defaultRegion``, else the settings default)."""
    row = OrgSettings.get_or_none(OrgSettings.organization == org_id)
    region = ((row.data or {}).get("defaultRegion") if row else None) or DEFAULTS["defaultRegion"]
    return str(region).upper()


def _strip(value: str) -> str:
    text = (value or "").strip().strip("<>").strip()
    match = _SIP_URI.match(text)
    return match.group(1) if match else text


def is_extension(value: str) -> bool:
    """Whether ``value`` is a short PBX extension rather than a phone number."""
    return bool(EXTENSION.match(_PUNCTUATION.sub("", value or "")))


def to_e164(value: str, region: str, *, field: str = "number") -> str:
    """E.164 for a phone number, or the extension itself; ``ValidationError`` naming ``field`` otherwise."""
    text = _strip(value)
    if is_extension(text):
        return _PUNCTUATION.sub("", text)
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"{field}: {value!r} is not a phone number", {field: [str(exc)]}) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise ValidationError(f"{field}: {value!r} is not a possible phone number", {field: ["not possible"]})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def lenient(value: str | None, region: str) -> str:
    """E.164 when the value reads as a number; else the cleaned text (``anonymous`` for nothing at all)."""
    text = _strip(value or "")
    if not text:
        return ANONYMOUS
    try:
        return to_e164(text, region)
    except ValidationError:
        return text[:64]


def exact_number(term: str, region: str) -> str | None:
    """The E.164 form of a search term that is a complete, valid phone number (an index lookup), else None."""
    try:
        parsed = phonenumbers.parse(_strip(term), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
