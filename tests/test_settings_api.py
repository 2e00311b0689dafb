"""Workspace settings: partial updates, validation, and write-only secrets sealed at rest."""
from __future__ import annotations

import sqlite3

import pytest

from appliance.settings import DEFAULTS, get_settings
from tests.conftest import assert_error

SETTINGS = "/api/v1/settings"
SIP_PASSWORD = "sip-Pa55-word-plain"
LLM_KEY = "sk-local-llm-key-plain"


def put(client, owner, body):
    return client.put(SETTINGS, headers=owner.headers, json=body)


def stored_row(config, org_id: str) -> tuple[str, str]:
    """The raw columns, read straight from the SQLite file."""
    with sqlite3.connect(config.data_dir / "callbox.db") as conn:
        return conn.execute("SELECT data, secrets FROM org_settings WHERE organization_id = ?", (org_id,)).fetchone()


def revealed(app, org_id: str) -> dict:
    with app.app_context():
        return get_settings(org_id, app.extensions["callbox.box"], reveal=True)


def test_defaults_until_changed(client, owner):
    data = client.get(SETTINGS, headers=owner.headers).json["data"]
    assert data == DEFAULTS


def test_put_is_partial_and_merges_sections(client, owner):
    assert put(client, owner, {"timezone": "Europe/Berlin", "sip": {"server": "pbx.local", "port": 5080}}
               ).status_code == 200
    data = put(client, owner, {"retentionDays": 90, "sip": {"transport": "tcp"}}).json["data"]
    assert (data["timezone"], data["retentionDays"], data["locale"]) == ("Europe/Berlin", 90, "en-US")
    assert data["sip"] == {"server": "pbx.local", "port": 5080, "transport": "tcp", "username": None,
                           "password": None}
    assert client.get(SETTINGS, headers=owner.headers).json["data"] == data


def test_secrets_are_write_only_and_sealed_at_rest(client, app, config, owner):
    data = put(client, owner, {"sip": {"username": "1001", "password": SIP_PASSWORD},
                               "llm": {"endpoint": "http://127.0.0.1:8081/v1", "apiKey": LLM_KEY}}).json["data"]
    assert data["sip"]["password"] == "********" and data["llm"]["apiKey"] == "********"
    shown = client.get(SETTINGS, headers=owner.headers).get_data(as_text=True)
    assert SIP_PASSWORD not in shown and LLM_KEY not in shown and '"password":"********"' in shown
    plain, sealed = stored_row(config, owner.org_id)
    assert "1001" in plain and SIP_PASSWORD not in plain and LLM_KEY not in plain
    assert sealed and SIP_PASSWORD not in sealed and LLM_KEY not in sealed
    assert revealed(app, owner.org_id)["sip"]["password"] == SIP_PASSWORD


def test_sending_the_mask_back_keeps_the_secret(client, app, owner):
    put(client, owner, {"sip": {"password": SIP_PASSWORD}})
    shown = client.get(SETTINGS, headers=owner.headers).json["data"]
    assert put(client, owner, {**shown, "timezone": "Asia/Tokyo"}).status_code == 200
    assert revealed(app, owner.org_id)["sip"]["password"] == SIP_PASSWORD


@pytest.mark.parametrize("cleared", [None, ""])
def test_a_secret_set_to_null_is_cleared(client, app, config, owner, cleared):
    put(client, owner, {"sip": {"password": SIP_PASSWORD}})
    data = put(client, owner, {"sip": {"password": cleared}}).json["data"]
    assert data["sip"]["password"] is None
    assert revealed(app, owner.org_id)["sip"]["password"] is None
    assert stored_row(config, owner.org_id)[1] == ""


def test_leaving_a_secret_out_keeps_it(client, app, owner):
    put(client, owner, {"llm": {"apiKey": LLM_KEY}})
    put(client, owner, {"llm": {"model": "llama-3"}})
    assert revealed(app, owner.org_id)["llm"] == {"endpoint": None, "model": "llama-3", "apiKey": LLM_KEY}


@pytest.mark.parametrize("body, field", [
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone"),
    ({"defaultRegion": "XX"}, "defaultRegion"),
    ({"defaultRegion": "Germany"}, "defaultRegion"),
    ({"locale": "english"}, "locale"),
    ({"retentionDays": 0}, "retentionDays"),
    ({"recordingEnabled": "maybe"}, "recordingEnabled"),
    ({"sip": {"port": 70000}}, "sip"),
    ({"sip": {"transport": "carrier-pigeon"}}, "sip"),
    ({"sip": None}, "sip"),
    ({"llm": {"endpoint": "ftp://example.com"}}, "llm"),
    ({"theme": "dark"}, "theme"),
])
def test_invalid_settings_are_refused_and_nothing_changes(client, owner, body, field):
    error = assert_error(put(client, owner, body), 422, "VALIDATION_ERROR")
    assert field in error["details"]["json"]
    assert client.get(SETTINGS, headers=owner.headers).json["data"] == DEFAULTS


@pytest.mark.parametrize("timezone, region", [("America/Sao_Paulo", "BR"), ("Asia/Kolkata", "IN"), ("UTC", "DE")])
def test_valid_timezones_and_regions(client, owner, timezone, region):
    data = put(client, owner, {"timezone": timezone, "defaultRegion": region}).json["data"]
    assert (data["timezone"], data["defaultRegion"]) == (timezone, region)


def test_changes_are_audited_without_secrets(client, owner):
    from data.models import AuditLog

    put(client, owner, {"sip": {"password": SIP_PASSWORD}, "timezone": "UTC"})
    entry = AuditLog.get(AuditLog.action == "settings.updated")
    assert entry.details == {"fields": ["sip", "timezone"]} and SIP_PASSWORD not in str(entry.details)
