"""Users of a workspace: profile, list with filters and pages, invitations, roles, deactivation, removal."""
from __future__ import annotations

import pytest

from tests.conftest import assert_error

USERS = "/api/v1/users"


# -- own profile ---------------------------------------------------------------------------------------------------

def test_users_me_matches_auth_me(client, members):
    for account in members.values():
        me = client.get("/api/v1/users/me", headers=account.headers).json["data"]
        assert me == client.get("/api/v1/auth/me", headers=account.headers).json["data"]
        assert set(me) >= {"id", "email", "name", "role", "organizationId", "language", "notificationPrefs"}


def test_patch_me_changes_profile_fields(client, members):
    agent = members["AGENT"]
    resp = client.patch("/api/v1/users/me", headers=agent.headers, json={
        "name": "  Agent Smith ", "language": "de", "notificationPrefs": {"email": False, "missedCalls": True}})
    assert resp.status_code == 200
    data = client.get("/api/v1/users/me", headers=agent.headers).json["data"]
    assert (data["name"], data["language"]) == ("Agent Smith", "de")
    assert data["notificationPrefs"] == {"email": False, "missedCalls": True}
    assert data["role"] == "AGENT"


@pytest.mark.parametrize("body", [{"role": "OWNER"}, {"email": "new@example.com"}, {"name": ""}, {"language": "x"}])
def test_patch_me_refuses_fields_it_does_not_own(client, members, body):
    assert_error(client.patch("/api/v1/users/me", headers=members["AGENT"].headers, json=body), 422, "VALIDATION_ERROR")
    assert client.get("/api/v1/users/me", headers=members["AGENT"].headers).json["data"]["role"] == "AGENT"


# -- list: filters and pages ---------------------------------------------------------------------------------------

def test_list_filters_by_role_and_search(client, members):
    headers = members["OWNER"].headers
    agents = client.get(USERS, headers=headers, query_string={"role": "AGENT"}).json
    assert [u["id"] for u in agents["data"]] == [members["AGENT"].user_id]
    found = client.get(USERS, headers=headers, query_string={"search": members["VIEWER"].email.upper()}).json
    assert [u["id"] for u in found["data"]] == [members["VIEWER"].user_id]
    by_name = client.get(USERS, headers=headers, query_string={"search": "Manager"}).json
    assert [u["role"] for u in by_name["data"]] == ["MANAGER"]
    wildcard = client.get(USERS, headers=headers, query_string={"search": "%"}).json
    assert wildcard["data"] == [] and wildcard["pagination"]["total"] == 0


def test_list_pages(client, members):
    headers = members["OWNER"].headers
    args = {"limit": 2, "sortBy": "email", "order": "asc"}
    emails = sorted(a.email for a in members.values())
    pages = [client.get(USERS, headers=headers, query_string={**args, "page": p}).json for p in (1, 2, 3)]
    assert [u["email"] for page in pages for u in page["data"]] == emails
    assert pages[0]["pagination"] == {"page": 1, "limit": 2, "total": 5, "totalPages": 3, "hasNext": True,
                                      "hasPrev": False}
    assert pages[2]["pagination"]["hasNext"] is False and pages[2]["pagination"]["hasPrev"] is True
    beyond = client.get(USERS, headers=headers, query_string={**args, "page": 9}).json
    assert beyond["data"] == []
    assert beyond["pagination"] == {"page": 9, "limit": 2, "total": 5, "totalPages": 3, "hasNext": False,
                                    "hasPrev": True}


@pytest.mark.parametrize("query, field", [
    ({"page": 0}, "page"), ({"page": -1}, "page"), ({"limit": 1000}, "limit"), ({"limit": 0}, "limit"),
    ({"page": "two"}, "page"), ({"role": "KING"}, "role"), ({"sortBy": "password_hash"}, "sortBy"),
    ({"order": "sideways"}, "order"),
])
def test_list_refuses_bad_query(client, owner, query, field):
    error = assert_error(client.get(USERS, headers=owner.headers, query_string=query), 422, "VALIDATION_ERROR")
    assert field in error["details"]["query"]


# -- invitations ---------------------------------------------------------------------------------------------------

def test_invite_creates_a_member_without_password_and_a_link(client, owner):
    resp = client.post(USERS, headers=owner.headers, json={"email": "Nina@Example.com", "name": "Nina",
                                                           "role": "MANAGER"})
    assert resp.status_code == 201
    data = resp.json["data"]
    assert data["invitationSent"] is False and "/invite/" in data["inviteUrl"] and data["expiresAt"].endswith("Z")
    assert data["user"]["email"] == "nina@example.com" and data["user"]["hasPassword"] is False
    assert data["user"]["role"] == "MANAGER"
    listed = client.get(USERS, headers=owner.headers, query_string={"role": "MANAGER"}).json["data"]
    assert [u["email"] for u in listed] == ["nina@example.com"]


def test_invite_link_uses_the_public_url(app_with):
    client = app_with(web={"public_url": "https://callbox.example.net/"}).test_client()
    owner = client.post("/api/v1/auth/signup", json={"email": "o@example.com", "password": "correct-horse-battery",
                                                     "name": "O", "organizationName": "Org"}).json["data"]
    headers = {"Authorization": f"Bearer {owner['tokens']['accessToken']}"}
    url = client.post(USERS, headers=headers, json={"email": "n@example.com", "name": "N"}).json["data"]["inviteUrl"]
    assert url.startswith("https://callbox.example.net/invite/")


def test_invite_of_a_member_twice_conflicts(client, members):
    resp = client.post(USERS, headers=members["OWNER"].headers, json={"email": members["AGENT"].email, "name": "Again"})
    assert_error(resp, 409, "DUPLICATE_ENTRY")


@pytest.mark.parametrize("body", [{"email": "bad", "name": "X"}, {"name": "X"}, {"email": "a@example.com"},
                                  {"email": "a@example.com", "name": "X", "role": "ROOT"}])
def test_invite_validation(client, owner, body):
    assert_error(client.post(USERS, headers=owner.headers, json=body), 422, "VALIDATION_ERROR")


# -- roles ---------------------------------------------------------------------------------------------------------

def member_url(account) -> str:
    return f"{USERS}/{account.user_id}"


def test_admin_changes_roles_below_owner(client, members):
    resp = client.patch(member_url(members["VIEWER"]), headers=members["ADMIN"].headers, json={"role": "MANAGER"})
    assert resp.status_code == 200 and resp.json["data"]["role"] == "MANAGER"
    assert client.get("/api/v1/auth/me", headers=members["VIEWER"].headers).json["data"]["role"] == "MANAGER"


@pytest.mark.parametrize("how", ["patch", "register", "invite", "api-key"])
def test_admin_cannot_grant_owner(client, members, how):
    admin = members["ADMIN"].headers
    resp = {
        "patch": lambda: client.patch(member_url(members["AGENT"]), headers=admin, json={"role": "OWNER"}),
        "register": lambda: client.post("/api/v1/auth/register", headers=admin, json={
            "email": "boss@example.com", "password": "correct-horse-battery", "name": "Boss", "role": "OWNER"}),
        "invite": lambda: client.post(USERS, headers=admin, json={"email": "boss@example.com", "name": "B",
                                                                  "role": "OWNER"}),
        "api-key": lambda: client.post("/api/v1/api-keys", headers=admin, json={"name": "k", "role": "OWNER"}),
    }[how]()
    assert "OWNER" not in assert_error(resp, 403, "FORBIDDEN")["message"] or "higher" in resp.json["error"]["message"]
    owners = client.get(USERS, headers=admin, query_string={"role": "OWNER"}).json["data"]
    assert [u["id"] for u in owners] == [members["OWNER"].user_id]


@pytest.mark.parametrize("body", [{"role": "AGENT"}, {"isActive": False}])
def test_admin_cannot_touch_an_owner(client, members, body):
    assert_error(client.patch(member_url(members["OWNER"]), headers=members["ADMIN"].headers, json=body), 403, "FORBIDDEN")
    assert_error(client.delete(member_url(members["OWNER"]), headers=members["ADMIN"].headers), 403, "FORBIDDEN")


@pytest.mark.parametrize("action", ["demote", "deactivate", "delete"])
def test_the_last_owner_stays(client, members, action):
    owner = members["OWNER"]
    send = {"demote": lambda: client.patch(member_url(owner), headers=owner.headers, json={"role": "ADMIN"}),
            "deactivate": lambda: client.patch(member_url(owner), headers=owner.headers, json={"isActive": False}),
            "delete": lambda: client.delete(member_url(owner), headers=owner.headers)}[action]
    assert "OWNER" in assert_error(send(), 409, "CONFLICT")["message"]
    assert client.get("/api/v1/auth/me", headers=owner.headers).json["data"]["role"] == "OWNER"
    # with a second owner the same change is allowed
    assert client.patch(member_url(members["ADMIN"]), headers=owner.headers, json={"role": "OWNER"}).status_code == 200
    assert send().status_code == 200


def test_empty_member_patch_is_422(client, members):
    assert_error(client.patch(member_url(members["AGENT"]), headers=members["OWNER"].headers, json={}), 422,
                 "VALIDATION_ERROR")


# -- deactivation and removal ---------------------------------------------------------------------------------------

def test_deactivated_member_is_locked_out_until_reactivated(client, members, accounts_api):
    agent, owner = members["AGENT"], members["OWNER"]
    resp = client.patch(member_url(agent), headers=owner.headers, json={"isActive": False})
    assert resp.status_code == 200 and resp.json["data"]["isActive"] is False
    assert_error(client.get("/api/v1/auth/me", headers=agent.headers), 401, "UNAUTHORIZED")
    assert_error(client.post("/api/v1/auth/refresh", json={"refreshToken": agent.refresh}), 401, "UNAUTHORIZED")
    assert_error(client.post("/api/v1/auth/login", json={"email": agent.email, "password": agent.password}), 401,
                 "INVALID_CREDENTIALS")
    assert client.patch(member_url(agent), headers=owner.headers, json={"isActive": True}).status_code == 200
    again = accounts_api.login(agent.email, agent.password)
    assert client.get("/api/v1/auth/me", headers=again.headers).status_code == 200


def test_removed_member_is_gone(client, members):
    agent, owner = members["AGENT"], members["OWNER"]
    assert client.delete(member_url(agent), headers=owner.headers).status_code == 200
    assert_error(client.get(member_url(agent), headers=owner.headers), 404, "NOT_FOUND")
    assert_error(client.get("/api/v1/auth/me", headers=agent.headers), 401, "UNAUTHORIZED")
    assert_error(client.delete(member_url(agent), headers=owner.headers), 404, "NOT_FOUND")


def test_member_changes_are_audited(client, members):
    from data.models import AuditLog

    client.patch(member_url(members["AGENT"]), headers=members["OWNER"].headers, json={"role": "VIEWER"})
    entry = AuditLog.get(AuditLog.action == "user.updated")
    assert (entry.user_id, entry.target_id, entry.details) == (members["OWNER"].user_id, members["AGENT"].user_id,
                                                               {"role": "VIEWER"})
