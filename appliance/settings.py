"""Workspace settings: plain values stored as JSON, secrets sealed at rest and never shown back."""
from __future__ import annotations

import copy
import json
from typing import Any

from appliance.security import SecretBox, mask
from data.base import utcnow
from data.models import OrgSettings

DEFAULTS: dict[str, Any] = {
    "timezone": "UTC",
    "locale": "en-US",
    "defaultRegion": "US",
    "recordingEnabled": True,
    "retentionDays": 365,
    "defaultAssistantId": None,
    "transferTarget": None,
    "sip": {"server": None, "port": 5060, "transport": "udp", "username": None, "password": None},
    "llm": {"endpoint": None, "model": None, "apiKey": None},
}

# Dotted paths of write-only values: stored sealed, shown masked.
SECRET_PATHS = ("sip.password", "llm.apiKey")


def _split(path: str) -> tuple[str, str]:
    section, _, key = path.partition(".")
    return section, key


def _merge(base: dict, changes: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _row(org_id: str) -> OrgSettings:
    row = OrgSettings.get_or_none(OrgSettings.organization == org_id)
    return row or OrgSettings(organization=org_id, data={}, secrets="")


def _secrets(row: OrgSettings, box: SecretBox) -> dict[str, str]:
    return json.loads(box.open(row.secrets)) if row.secrets else {}


def get_settings(org_id: str, box: SecretBox, *, reveal: bool = False) -> dict:
    """The workspace's settings over the defaults; secrets masked unless ``reveal`` (internal use only)."""
    row = _row(org_id)
    merged = _merge(DEFAULTS, row.data or {})
    sealed = _secrets(row, box)
    for path in SECRET_PATHS:
        section, key = _split(path)
        value = sealed.get(path)
        merged[section][key] = value if reveal else mask(value)
    return merged


def _apply_secrets(changes: dict, sealed: dict[str, str]) -> None:
    """Move secrets out of ``changes`` into ``sealed``: a value sets, null or "" clears, the mask keeps."""
    for path in SECRET_PATHS:
        section, key = _split(path)
        if not (isinstance(changes.get(section), dict) and key in changes[section]):
            continue
        value = changes[section].pop(key)
        if value == mask("set"):
            continue  # a client sent back what GET showed: the secret stays as it is
        if value:
            sealed[path] = value
        else:
            sealed.pop(path, None)


def update_settings(org_id: str, changes: dict, box: SecretBox) -> dict:
    """Apply a (partial) change; secrets given are sealed, secrets set to null are cleared."""
    existing = OrgSettings.get_or_none(OrgSettings.organization == org_id)
    row = existing or OrgSettings(organization=org_id, data={}, secrets="")
    sealed = _secrets(row, box)
    changes = copy.deepcopy(changes)
    _apply_secrets(changes, sealed)
    row.data = _merge(row.data or {}, changes)
    row.secrets = box.seal(json.dumps(sealed)) if sealed else ""
    row.updated_at = utcnow()
    row.save(force_insert=existing is None)
    return get_settings(org_id, box)
