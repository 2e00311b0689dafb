"""API keys: shown once, stored hashed, act with their role in their workspace, revocable."""
from __future__ import annotations

import hashlib

import pytest

from data.models import ApiKey
from tests.conftest import assert_error

KEYS = "/api/v1/api-keys"


def create(client, account, **body):
    resp = client.post(KEYS, headers=account.headers, json={"name": "Zapier", **body})
    assert resp.status_code == 201, resp.json
    return resp.json


def test_key_is_shown_once_and_stored_only_as_a_hash(client, owner):
    created = create(client, owner, role="MANAGER")
    key = created["data"]["key"]
    assert key.startswith("cbk_") and len(key) > 30 and "not shown again" in created["message"]
    assert created["data"]["prefix"] == key[:10] and created["data"]["role"] == "MANAGER"
    listed = client.get(KEYS, headers=owner.headers).json
    assert [k["id"] for k in listed["data"]] == [created["data"]["id"]] and "key" not in listed["data"][0]
    row = ApiKey.get_by_id(created["data"]["id"])
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(list(ApiKey.select().dicts()))


def test_key_acts_with_its_role_and_records_its_use(client, owner):
    viewer_key = create(client, owner, role="VIEWER")["data"]
    admin_key = create(client, owner)["data"]
    assert admin_key["role"] == "ADMIN"  # the default
    assert client.get("/api/v1/users", headers={"X-API-Key": admin_key["key"]}).status_code == 200
    assert_error(client.get("/api/v1/users", headers={"X-API-Key": viewer_key["key"]}), 403, "FORBIDDEN")
    used = {k["id"]: k["lastUsedAt"] for k in client.get(KEYS, headers=owner.headers).json["data"]}
    assert used[admin_key["id"]] is not None and used[admin_key["id"]].endswith("Z")


def test_deleted_key_stops_working(client, owner):
    key = create(client, owner)["data"]
    resp = client.delete(f"{KEYS}/{key['id']}", headers=owner.headers)
    assert resp.status_code == 200 and resp.json["data"] is None
    assert_error(client.get("/api/v1/users", headers={"X-API-Key": key["key"]}), 401, "UNAUTHORIZED")
    assert_error(client.delete(f"{KEYS}/{key['id']}", headers=owner.headers), 404, "NOT_FOUND")
    assert client.get(KEYS, headers=owner.headers).json["data"] == []


def test_a_key_cannot_make_a_stronger_key(client, owner):
    admin_key = create(client, owner)["data"]["key"]
    resp = client.post(KEYS, headers={"X-API-Key": admin_key}, json={"name": "escalate", "role": "OWNER"})
    assert_error(resp, 403, "FORBIDDEN")
    weaker = client.post(KEYS, headers={"X-API-Key": admin_key}, json={"name": "weaker", "role": "AGENT"})
    assert weaker.status_code == 201


def test_list_pages(client, owner):
    for n in range(3):
        create(client, owner, name=f"key {n}")
    page = client.get(KEYS, headers=owner.headers, query_string={"limit": 2, "sortBy": "name", "order": "asc"}).json
    assert [k["name"] for k in page["data"]] == ["key 0", "key 1"]
    assert page["pagination"]["total"] == 3 and page["pagination"]["hasNext"] is True


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "k", "role": "ROOT"}, {"name": "k", "key": "mine"}])
def test_create_validation(client, owner, body):
    assert_error(client.post(KEYS, headers=owner.headers, json=body), 422, "VALIDATION_ERROR")
    assert ApiKey.select().count() == 0
