"""Assistants and /ai/config: CRUD, validation, roles, tenancy."""
import pytest

API = "/api/v1"


def create(client, account, **fields):
    body = {"name": "Sunny", **fields}
    resp = client.post(f"{API}/assistants", headers=account.headers, json=body)
    assert resp.status_code == 201, resp.json
    return resp.json["data"]


def test_create_fills_defaults_and_reads_back(client, owner):
    made = create(client, owner, tone="friendly", businessHours={"monday": {"open": "9:00", "close": "17:30"}})
    assert made["id"].startswith("asst_")
    assert made["tone"] == "friendly" and made["speakingStyle"] == "balanced"
    assert made["voice"] == {"engine": "piper", "voiceId": "en_US-lessac-medium"}
    assert made["transferRules"]["confidenceThreshold"] == 60
    assert made["businessHours"] == {"monday": {"open": "09:00", "close": "17:30"}}
    got = client.get(f"{API}/assistants/{made['id']}", headers=owner.headers).json["data"]
    assert got == made


def test_patch_merges_rules_and_replaces_hours(client, owner):
    made = create(client, owner, businessHours={"monday": {"open": "09:00", "close": "17:00"},
                                                "tuesday": {"open": "09:00", "close": "17:00"}})
    resp = client.patch(f"{API}/assistants/{made['id']}", headers=owner.headers, json={
        "transferRules": {"confidenceThreshold": 75}, "safetyRules": {"forbiddenTopics": ["politics"]},
        "businessHours": {"friday": {"open": "10:00", "close": "12:00"}}, "bookingEnabled": False})
    assert resp.status_code == 200, resp.json
    data = resp.json["data"]
    assert data["transferRules"]["confidenceThreshold"] == 75
    assert data["transferRules"]["maxDuration"] == 600  # untouched keys survive the merge
    assert data["safetyRules"]["forbiddenTopics"] == ["politics"]
    assert data["businessHours"] == {"friday": {"open": "10:00", "close": "12:00"}}
    assert data["bookingEnabled"] is False
    assert data["name"] == "Sunny"


@pytest.mark.parametrize("body, field", [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "A", "tone": "sarcastic"}, "tone"),
    ({"name": "A", "businessHours": {"funday": {"open": "09:00", "close": "10:00"}}}, "funday"),
    ({"name": "A", "businessHours": {"monday": {"open": "18:00", "close": "09:00"}}}, "monday"),
    ({"name": "A", "businessHours": {"monday": {"open": "25:00", "close": "26:00"}}}, "monday"),
    ({"name": "A", "transferRules": {"confidenceThreshold": 150}}, "confidenceThreshold"),
    ({"name": "A", "afterHoursAction": "explode"}, "afterHoursAction"),
    ({"name": "A", "secretField": 1}, "secretField"),
    ({"name": "A", "voice": {"engine": "cloud-tts"}}, "engine"),
])
def test_validation_errors(client, owner, body, field):
    resp = client.post(f"{API}/assistants", headers=owner.headers, json=body)
    assert resp.status_code in (400, 422)
    assert resp.json["error"]["code"] == "VALIDATION_ERROR"
    assert field in str(resp.json["error"]), resp.json


def test_list_paginates_and_filters(client, owner):
    for name in ("Alpha", "Beta", "Gamma"):
        create(client, owner, name=name)
    resp = client.get(f"{API}/assistants?limit=2&sortBy=name&order=asc", headers=owner.headers)
    assert [a["name"] for a in resp.json["data"]] == ["Alpha", "Beta"]
    assert resp.json["pagination"]["total"] == 3 and resp.json["pagination"]["hasNext"] is True
    found = client.get(f"{API}/assistants?search=amm", headers=owner.headers).json["data"]
    assert [a["name"] for a in found] == ["Gamma"]


@pytest.mark.parametrize("role, can_write", [("OWNER", True), ("ADMIN", True), ("MANAGER", True),
                                             ("AGENT", False), ("VIEWER", False)])
def test_roles(client, team, role, can_write):
    account = team[role]
    existing = create(client, team["OWNER"])
    assert client.get(f"{API}/assistants", headers=account.headers).status_code == 200
    assert client.get(f"{API}/ai/config", headers=account.headers).status_code == 200
    writes = [client.post(f"{API}/assistants", headers=account.headers, json={"name": "X"}),
              client.patch(f"{API}/assistants/{existing['id']}", headers=account.headers, json={"tone": "casual"}),
              client.patch(f"{API}/ai/config", headers=account.headers, json={"tone": "casual"}),
              client.delete(f"{API}/assistants/{existing['id']}", headers=account.headers)]
    expected = [201, 200, 200, 200] if can_write else [403] * 4
    assert [r.status_code for r in writes] == expected


def test_other_organization_answers_404(client, owner, accounts_api):
    made = create(client, owner)
    stranger = accounts_api.signup(org="Other Co")
    url = f"{API}/assistants/{made['id']}"
    assert client.get(url, headers=stranger.headers).status_code == 404
    assert client.patch(url, headers=stranger.headers, json={"name": "Mine"}).status_code == 404
    assert client.delete(url, headers=stranger.headers).status_code == 404
    assert client.get(f"{API}/assistants", headers=stranger.headers).json["data"] == []
    assert client.get(url, headers=owner.headers).json["data"]["name"] == "Sunny"


def test_ai_config_creates_default_then_follows_settings(client, owner):
    empty = client.get(f"{API}/ai/config", headers=owner.headers).json["data"]
    assert empty["id"] is None and empty["greetingMessage"]
    resp = client.patch(f"{API}/ai/config", headers=owner.headers,
                        json={"name": "Front desk", "transferRules": {"confidenceThreshold": 80}})
    assert resp.status_code == 200, resp.json
    config = resp.json["data"]
    assert config["id"].startswith("asst_") and config["assistantName"] == "Front desk"
    settings = client.get(f"{API}/settings", headers=owner.headers).json["data"]
    assert settings["defaultAssistantId"] == config["id"]
    other = create(client, owner, name="Night shift")
    client.put(f"{API}/settings", headers=owner.headers, json={"defaultAssistantId": other["id"]})
    assert client.get(f"{API}/ai/config", headers=owner.headers).json["data"]["id"] == other["id"]
    client.delete(f"{API}/assistants/{other['id']}", headers=owner.headers)
    assert client.get(f"{API}/settings", headers=owner.headers).json["data"]["defaultAssistantId"] is None
    assert client.get(f"{API}/ai/config", headers=owner.headers).json["data"]["id"] == config["id"]
