"""Workspace settings and add-ons in the browser: validation next to fields, write-only secrets, ADMIN only."""
from __future__ import annotations

import pytest

from appliance import addons
from appliance.settings import get_settings
from tests.ui_helpers import browser_for, field_error, text_of  # noqa: F401

FORM = {"timezone": "Europe/Berlin", "locale": "de-DE", "defaultRegion": "de", "recordingEnabled": "on",
        "retentionDays": "90", "defaultAssistantId": "", "transferTarget": "200", "sip.server": "pbx.local",
        "sip.port": "5060", "sip.transport": "udp", "sip.username": "callbox", "sip.password": "pbx-secret-1",
        "llm.endpoint": "", "llm.model": "", "llm.apiKey": ""}


def _stored(app, org_id):
    with app.app_context():
        return get_settings(org_id, app.extensions["callbox.box"], reveal=True)


def test_settings_are_saved_and_the_secret_never_shown(app, members, browser_for):
    admin = browser_for(members["ADMIN"])
    assert admin.post("/settings", FORM).status_code == 303
    stored = _stored(app, members["ADMIN"].org_id)
    assert stored["timezone"] == "Europe/Berlin" and stored["defaultRegion"] == "DE"
    assert stored["retentionDays"] == 90 and stored["sip"]["password"] == "pbx-secret-1"
    page = admin.page("/settings")
    assert "pbx-secret-1" not in page and "A password is set; leave blank to keep it." in page
    assert admin.post("/settings", {**FORM, "sip.password": "", "recordingEnabled": ""}).status_code == 303
    stored = _stored(app, members["ADMIN"].org_id)
    assert stored["sip"]["password"] == "pbx-secret-1" and stored["recordingEnabled"] is False  # blank keeps it
    admin.post("/settings", {**FORM, "sip.password": "", "sip.password.clear": "on"})
    assert _stored(app, members["ADMIN"].org_id)["sip"]["password"] is None


@pytest.mark.parametrize("field, value, message", [
    ("timezone", "Mars/Olympus", "not a known IANA time zone"),
    ("defaultRegion", "ZZ", "not an ISO 3166 country code"),
    ("retentionDays", "0", "Must be greater than or equal to 1"),
    ("sip.port", "99999", "Must be greater than or equal to 1 and less than or equal to 65535"),
    ("llm.endpoint", "ftp://nope", "Not a valid URL"),
    ("defaultAssistantId", "asst_elsewhere", "Choose one of this workspace's assistants"),
])
def test_bad_values_are_shown_next_to_their_field(app, members, browser_for, field, value, message):
    admin = browser_for(members["OWNER"])
    resp = admin.post("/settings", {**FORM, field: value})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and message in (field_error(page, field) or ""), field_error(page, field)
    assert "pbx-secret-1" not in page  # a refused form does not echo the secret typed
    assert _stored(app, members["OWNER"].org_id)["timezone"] == "UTC"  # nothing saved


def test_addons_are_switched(app, members, browser_for):
    admin = browser_for(members["ADMIN"])
    org = members["ADMIN"].org_id
    assert admin.post("/settings/addons", {"addonType": "sentiment", "enabled": "0"}).status_code == 303
    with app.app_context():
        assert addons.is_enabled(org, "sentiment") is False
    admin.post("/settings/addons", {"addonType": "llm_analysis", "enabled": "1"})
    assert "Set the LLM endpoint and model" in text_of(admin.page("/settings"))
    with app.app_context():
        assert addons.is_enabled(org, "llm_analysis") is False
    admin.post("/settings/addons", {"addonType": "warp_drive", "enabled": "1"})
    assert "Unknown add-on." in text_of(admin.page("/settings"))


@pytest.mark.parametrize("role", ["MANAGER", "AGENT", "VIEWER"])
def test_below_admin_the_settings_are_refused(app, members, browser_for, role):
    browser = browser_for(members[role])
    browser.page("/settings", 403)
    assert browser.post("/settings", FORM).status_code == 403
    assert browser.post("/settings/addons", {"addonType": "sentiment", "enabled": "0"}).status_code == 403
    assert _stored(app, members[role].org_id)["timezone"] == "UTC"
