"""Workspaces: the caller's organizations with their role, and creating one."""
from __future__ import annotations

import pytest

from appliance import accounts
from appliance.roles import Role
from data.models import Organization, User
from tests.conftest import assert_error

WORKSPACES = "/api/v1/workspaces"


def test_list_shows_each_workspace_with_the_callers_role(client, members):
    listed = client.get(WORKSPACES, headers=members["MANAGER"].headers).json["data"]
    assert len(listed) == 1
    assert listed[0]["id"] == members["MANAGER"].org_id
    assert listed[0]["role"] == "MANAGER" and listed[0]["isCurrent"] is True
    assert listed[0]["createdAt"].endswith("Z")


def test_create_makes_the_caller_owner_of_a_new_workspace(client, members):
    viewer = members["VIEWER"]
    resp = client.post(WORKSPACES, headers=viewer.headers, json={"name": " Night shift ", "industry": "clinic"})
    assert resp.status_code == 201
    created = resp.json["data"]
    assert created["id"].startswith("org_") and created["id"] != viewer.org_id
    assert (created["name"], created["industry"], created["role"]) == ("Night shift", "clinic", "OWNER")
    listed = {w["id"]: w["role"] for w in client.get(WORKSPACES, headers=viewer.headers).json["data"]}
    assert listed == {viewer.org_id: "VIEWER", created["id"]: "OWNER"}
    # the new workspace is the viewer's own: as its OWNER they may manage it, and nothing changed in the first
    there = {**viewer.headers, "X-Workspace-Id": created["id"]}
    assert client.get("/api/v1/users", headers=there).json["pagination"]["total"] == 1
    assert_error(client.get("/api/v1/users", headers=viewer.headers), 403, "FORBIDDEN")


def test_deactivated_workspaces_are_not_listed(client, members, make_account):
    other = make_account("OWNER")
    accounts.add_member(Organization.get_by_id(other.org_id), User.get_by_id(members["AGENT"].user_id), Role.AGENT)
    assert len(client.get(WORKSPACES, headers=members["AGENT"].headers).json["data"]) == 2
    assert client.patch(f"/api/v1/users/{members['AGENT'].user_id}", headers=other.headers,
                        json={"isActive": False}).status_code == 200
    listed = client.get(WORKSPACES, headers=members["AGENT"].headers).json["data"]
    assert [w["id"] for w in listed] == [members["AGENT"].org_id]


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 201}, {"name": "ok", "owner": "me"}])
def test_create_validation(client, owner, body):
    assert_error(client.post(WORKSPACES, headers=owner.headers, json=body), 422, "VALIDATION_ERROR")
    assert len(client.get(WORKSPACES, headers=owner.headers).json["data"]) == 1


def test_api_keys_have_no_workspaces_of_their_own(client, owner):
    key = client.post("/api/v1/api-keys", headers=owner.headers, json={"name": "k"}).json["data"]["key"]
    for method in ("get", "post"):
        resp = getattr(client, method)(WORKSPACES, headers={"X-API-Key": key}, json={"name": "x"} if method == "post"
                                       else None)
        assert "API key" in assert_error(resp, 403, "FORBIDDEN")["message"]
