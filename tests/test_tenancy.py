"""Organizations are sealed from each other: another one's resources answer 404; X-Workspace-Id switches among yours."""
from __future__ import annotations

import pytest

from appliance import accounts
from appliance.roles import Role
from data.models import Organization, User
from tests.conftest import assert_error


def join(user_id: str, org_id: str, role: Role) -> None:
    accounts.add_member(Organization.get_by_id(org_id), User.get_by_id(user_id), role)


@pytest.fixture
def two_orgs(client, make_account):
    """Organization A (owner + agent + API key) and organization B (owner + agent + API key)."""
    orgs = {}
    for name in ("A", "B"):
        owner = make_account("OWNER")
        agent = make_account("AGENT", owner.org_id)
        key = client.post("/api/v1/api-keys", headers=owner.headers, json={"name": f"{name} key"}).json["data"]
        orgs[name] = {"owner": owner, "agent": agent, "key": key}
    return orgs


FOREIGN_ROUTES = [
    ("get", "/api/v1/users/{user}", None),
    ("patch", "/api/v1/users/{user}", {"role": "VIEWER"}),
    ("patch", "/api/v1/users/{user}", {"isActive": False}),
    ("delete", "/api/v1/users/{user}", None),
    ("delete", "/api/v1/api-keys/{key}", None),
]


@pytest.mark.parametrize("method, template, body", FOREIGN_ROUTES)
@pytest.mark.parametrize("as_key", [False, True], ids=["token", "api-key"])
def test_another_organizations_ids_are_not_found(client, two_orgs, method, template, body, as_key):
    a, b = two_orgs["A"], two_orgs["B"]
    path = template.format(user=b["agent"].user_id, key=b["key"]["id"])
    headers = {"X-API-Key": a["key"]["key"]} if as_key else a["owner"].headers
    assert_error(getattr(client, method)(path, headers=headers, json=body), 404, "NOT_FOUND")
    # untouched: B still sees its member and key as they were
    member = client.get(f"/api/v1/users/{b['agent'].user_id}", headers=b["owner"].headers).json["data"]
    assert member["role"] == "AGENT" and member["isActive"] is True
    keys = client.get("/api/v1/api-keys", headers=b["owner"].headers).json["data"]
    assert [k["id"] for k in keys] == [b["key"]["id"]]
    assert client.get("/api/v1/auth/me", headers=b["agent"].headers).status_code == 200


def test_lists_hold_only_the_callers_organization(client, two_orgs):
    a, b = two_orgs["A"], two_orgs["B"]
    users = client.get("/api/v1/users", headers=a["owner"].headers).json["data"]
    assert {u["id"] for u in users} == {a["owner"].user_id, a["agent"].user_id}
    keys = client.get("/api/v1/api-keys", headers=a["owner"].headers).json["data"]
    assert [k["id"] for k in keys] == [a["key"]["id"]]
    assert client.get("/api/v1/users", headers=a["owner"].headers, query_string={"search": "example.com"}
                      ).json["pagination"]["total"] == 2
    assert b["owner"].user_id not in str(users)


def test_settings_are_per_organization(client, two_orgs):
    a, b = two_orgs["A"], two_orgs["B"]
    assert client.put("/api/v1/settings", headers=a["owner"].headers, json={"timezone": "Asia/Tokyo"}
                      ).status_code == 200
    assert client.get("/api/v1/settings", headers=b["owner"].headers).json["data"]["timezone"] == "UTC"
    assert client.get("/api/v1/settings", headers={"X-API-Key": a["key"]["key"]}
                      ).json["data"]["timezone"] == "Asia/Tokyo"


def test_workspace_header_switches_among_your_own(client, owner):
    second = client.post("/api/v1/workspaces", headers=owner.headers, json={"name": "Second site"}).json["data"]
    switched = {**owner.headers, "X-Workspace-Id": second["id"]}
    me = client.get("/api/v1/auth/me", headers=switched).json["data"]
    assert me["organizationId"] == second["id"] and me["role"] == "OWNER"
    invited = client.post("/api/v1/users", headers=switched, json={"email": "branch@example.com", "name": "B"})
    assert invited.status_code == 201
    in_second = client.get("/api/v1/users", headers=switched).json["data"]
    in_first = client.get("/api/v1/users", headers=owner.headers).json["data"]
    assert "branch@example.com" in {u["email"] for u in in_second}
    assert "branch@example.com" not in {u["email"] for u in in_first}
    listed = client.get("/api/v1/workspaces", headers=switched).json["data"]
    assert {w["id"]: w["isCurrent"] for w in listed} == {owner.org_id: False, second["id"]: True}


def test_workspace_header_takes_your_role_there(client, owner, make_account):
    other_owner = make_account("OWNER")
    join(owner.user_id, other_owner.org_id, Role.VIEWER)
    switched = {**owner.headers, "X-Workspace-Id": other_owner.org_id}
    assert client.get("/api/v1/auth/me", headers=switched).json["data"]["role"] == "VIEWER"
    assert_error(client.get("/api/v1/users", headers=switched), 403, "FORBIDDEN")
    assert client.get("/api/v1/users", headers=owner.headers).status_code == 200


@pytest.mark.parametrize("workspace", ["foreign", "made-up", "deactivated"])
def test_workspace_header_to_anything_else_is_refused(client, two_orgs, workspace):
    a, b = two_orgs["A"], two_orgs["B"]
    target = {"foreign": b["owner"].org_id, "made-up": "org_doesnotexist", "deactivated": b["owner"].org_id}[workspace]
    if workspace == "deactivated":
        join(a["agent"].user_id, target, Role.ADMIN)
        assert client.patch(f"/api/v1/users/{a['agent'].user_id}", headers=b["owner"].headers,
                            json={"isActive": False}).status_code == 200
    headers = {**a["agent"].headers, "X-Workspace-Id": target}
    assert_error(client.get("/api/v1/auth/me", headers=headers), 404, "NOT_FOUND")
    assert client.get("/api/v1/auth/me", headers=a["agent"].headers).status_code == 200


def test_api_key_cannot_switch_workspace(client, two_orgs):
    a, b = two_orgs["A"], two_orgs["B"]
    headers = {"X-API-Key": a["key"]["key"], "X-Workspace-Id": b["owner"].org_id}
    assert_error(client.get("/api/v1/users", headers=headers), 404, "NOT_FOUND")
    same = {"X-API-Key": a["key"]["key"], "X-Workspace-Id": a["owner"].org_id}
    assert client.get("/api/v1/users", headers=same).status_code == 200


def test_refresh_stays_in_the_organization_it_was_issued_for(client, two_orgs):
    b = two_orgs["B"]
    resp = client.post("/api/v1/auth/refresh", json={"refreshToken": b["agent"].refresh})
    token = resp.json["data"]["token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json["data"]
    assert me["organizationId"] == b["owner"].org_id
