"""Users and roles, invitations and API keys in the browser (ADMIN pages)."""
from __future__ import annotations

import re

import pytest

from data.models import ApiKey, Membership
from tests.ui_helpers import Browser, browser_for, field_error, text_of  # noqa: F401


@pytest.mark.parametrize("role, status", [("OWNER", 200), ("ADMIN", 200), ("MANAGER", 403), ("AGENT", 403),
                                          ("VIEWER", 403)])
def test_users_and_keys_are_admin_pages(members, browser_for, role, status):
    browser = browser_for(members[role])
    browser.page("/users", status)
    browser.page("/api-keys", status)
    if status == 403:  # the server refuses the actions too, not only the pages
        assert browser.post("/users/invite", {"email": "x@example.com", "name": "X"}).status_code == 403
        assert browser.post("/api-keys", {"name": "sneaky"}).status_code == 403
        assert browser.post(f"/users/{members['VIEWER'].user_id}", {"role": "OWNER"}).status_code == 403


def test_invite_shows_the_link_once_and_it_works(app, members, browser_for):
    admin = browser_for(members["ADMIN"])
    resp = admin.post("/users/invite", {"email": "Nia@Example.com", "name": "Nia <b>", "role": "MANAGER"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 201 and "Invitation for Nia &lt;b&gt;" in page
    link = re.search(r'id="invite-link" type="text" readonly value="([^"]+)"', page).group(1)
    assert "Invited" in text_of(page) and link not in admin.page("/users")  # shown in that response only
    with admin.client.session_transaction() as session:
        assert link not in str(dict(session))  # not kept in the session cookie either
    newcomer, path = Browser(app), link.replace("http://localhost", "")
    newcomer.page(path)
    assert newcomer.post(path, {"password": "welcome-aboard"}).status_code == 303
    assert "Manager" in newcomer.page("/account")


def test_invite_errors_sit_next_to_the_fields(members, browser_for):
    admin = browser_for(members["ADMIN"])
    page = admin.post("/users/invite", {"email": "bad", "name": "", "role": "AGENT"}).get_data(as_text=True)
    assert field_error(page, "email") == "Not a valid email address." and field_error(page, "name")
    resp = admin.post("/users/invite", {"email": members["AGENT"].email, "name": "Again", "role": "AGENT"})
    assert resp.status_code == 409 and "already a member" in field_error(resp.get_data(as_text=True), "email")
    resp = admin.post("/users/invite", {"email": "boss@example.com", "name": "Boss", "role": "OWNER"})
    assert resp.status_code == 403 and "higher than your own" in field_error(resp.get_data(as_text=True), "email")


def test_roles_are_changed_and_members_deactivated(app, members, browser_for):
    admin = browser_for(members["ADMIN"])
    agent_id = members["AGENT"].user_id
    assert admin.post(f"/users/{agent_id}", {"action": "role", "role": "MANAGER"}).status_code == 303
    assert admin.post(f"/users/{agent_id}", {"action": "deactivate"}).status_code == 303
    with app.app_context():
        member = Membership.get((Membership.user == agent_id) & (Membership.organization == members["ADMIN"].org_id))
    assert member.role == "MANAGER" and not member.is_active
    page = admin.page("/users")
    assert "Deactivated" in page and "Member updated." in text_of(page)


def test_an_admin_cannot_touch_an_owner_and_the_last_owner_stays(members, browser_for):
    admin, owner = browser_for(members["ADMIN"]), browser_for(members["OWNER"])
    owner_id = members["OWNER"].user_id
    admin.post(f"/users/{owner_id}", {"action": "role", "role": "VIEWER"})
    assert "higher than your own" in text_of(admin.page("/users"))
    owner.post(f"/users/{owner_id}", {"action": "role", "role": "ADMIN"})
    assert "keeps at least one active OWNER" in text_of(owner.page("/users"))
    assert owner.post("/users/usr_nobody", {"action": "role", "role": "AGENT"}).status_code == 404


def test_remove_a_member(app, members, browser_for):
    owner = browser_for(members["OWNER"])
    assert owner.post(f"/users/{members['VIEWER'].user_id}/remove").status_code == 303
    assert members["VIEWER"].email not in owner.page("/users")


def test_an_api_key_is_shown_once_and_works(client, members, browser_for):
    admin = browser_for(members["ADMIN"])
    resp = admin.post("/api-keys", {"name": "CRM <sync>", "role": "AGENT"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 201 and "CRM &lt;sync&gt;" in page
    key = re.search(r'id="new-key" type="text" readonly value="([^"]+)"', page).group(1)
    assert key.startswith("cbk_") and key not in admin.page("/api-keys")
    assert client.get("/api/v1/knowledge", headers={"X-API-Key": key}).status_code == 200
    key_id = ApiKey.get(ApiKey.name == "CRM <sync>").id
    assert admin.post(f"/api-keys/{key_id}/revoke").status_code == 303
    assert client.get("/api/v1/knowledge", headers={"X-API-Key": key}).status_code == 401
    assert admin.post(f"/api-keys/{key_id}/revoke").status_code == 404


def test_api_key_form_errors(members, browser_for):
    admin = browser_for(members["ADMIN"])
    resp = admin.post("/api-keys", {"name": "", "role": "AGENT"})
    assert resp.status_code == 422 and field_error(resp.get_data(as_text=True), "name")
    resp = admin.post("/api-keys", {"name": "root", "role": "OWNER"})
    assert resp.status_code == 422 and "higher than your own" in field_error(resp.get_data(as_text=True), "role")


def test_keys_of_another_workspace_cannot_be_revoked(app, members, browser_for, make_account, client):
    stranger = make_account("OWNER")
    made = client.post("/api/v1/api-keys", headers=stranger.headers, json={"name": "theirs"}).json["data"]
    assert browser_for(members["OWNER"]).post(f"/api-keys/{made['id']}/revoke").status_code == 404
    assert ApiKey.get_or_none(ApiKey.id == made["id"]) is not None
