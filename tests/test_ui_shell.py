"""The UI shell: sign-in and its redirects, CSRF on every unsafe request, sessions, sign-up, invitations, the account
page, the workspace switcher, role-aware navigation, error pages, and pages the CSP can run."""
from __future__ import annotations

import re

import pytest

from appliance import accounts
from appliance.roles import Role
from data.models import Organization
from tests.conftest import assert_error
from tests.ui_helpers import (Browser, anonymous, assert_csp_clean, browser_for, field_error, location,  # noqa: F401
                              text_of)

PUBLIC = {"ui.login", "ui.signup", "ui.accept_invite", "ui.favicon", "ui.logout", "ui_assets.vendor"}


def _ui_rules(app, method: str):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("ui") and method in rule.methods and rule.endpoint not in PUBLIC:
            yield rule.rule.replace("<string:", "<").replace("<", "").replace(">", "x")


def test_every_page_needs_a_sign_in(app, anonymous):
    for path in _ui_rules(app, "GET"):
        resp = anonymous.get(path)
        assert resp.status_code == 302, path
        assert location(resp).startswith("/login?next="), (path, location(resp))


def test_every_form_post_needs_a_sign_in(app, anonymous):
    anonymous.get("/login")  # the session gets its CSRF token
    for path in _ui_rules(app, "POST"):
        resp = anonymous.post(path)
        assert resp.status_code == 302 and location(resp).startswith("/login"), path


def test_every_unsafe_request_needs_the_csrf_token(app, members, browser_for):
    owner = browser_for(members["OWNER"])
    for path in list(_ui_rules(app, "POST")) + ["/logout", "/login"]:
        for token in (None, "forged"):
            data = {} if token is None else {"csrf_token": token}
            resp = owner.post(path, data, csrf=False)
            assert resp.status_code == 400, path
            assert "form expired" in text_of(resp.get_data(as_text=True)), path
    assert owner.page("/").count("Dashboard")  # still signed in: nothing was done


def test_the_csrf_header_also_counts(members, browser_for):
    owner = browser_for(members["OWNER"])
    resp = owner.client.post("/settings/addons", data={"addonType": "sentiment", "enabled": "0"},
                             headers={"X-CSRF-Token": owner.csrf})
    assert resp.status_code == 303


def test_sign_in_follows_only_same_site_next(app, members):
    owner = members["OWNER"]
    for target, expected in [("/knowledge?search=x", "/knowledge?search=x"), ("https://evil.example/", "/"),
                             ("//evil.example/", "/"), ("/\\evil.example", "/"), ("javascript:alert(1)", "/")]:
        browser = Browser(app)
        page = browser.client.get(f"/login?next={target}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        resp = browser.client.post(f"/login?next={target}", data={"csrf_token": token, "email": owner.email,
                                                                    "password": owner.password})
        assert location(resp) == expected, target


def test_a_wrong_password_is_refused_and_throttled(app, members):
    owner, browser = members["OWNER"], Browser(app)
    browser.get("/login")
    for _ in range(5):
        resp = browser.post("/login", {"email": owner.email, "password": "wrong-password"})
        assert resp.status_code == 401 and "Wrong email or password" in resp.get_data(as_text=True)
    resp = browser.post("/login", {"email": owner.email, "password": owner.password})
    assert resp.status_code == 401 and "Too many failed sign-ins" in resp.get_data(as_text=True)


def test_sign_in_starts_a_fresh_session(app, members):
    owner, browser = members["OWNER"], Browser(app)
    browser.get("/login")
    before = browser.csrf
    browser.sign_in(owner.email, owner.password)
    assert browser.csrf and browser.csrf != before  # no session fixation


def test_sign_out_needs_post_and_ends_the_session(members, browser_for):
    owner = browser_for(members["OWNER"])
    assert owner.get("/logout").status_code == 405
    resp = owner.post("/logout")
    assert resp.status_code == 303 and location(resp) == "/login"
    assert owner.get("/").status_code == 302


def test_a_password_change_elsewhere_ends_this_session(app, members, browser_for):
    owner = members["OWNER"]
    first, second = browser_for(owner), browser_for(owner)
    resp = second.post("/account", {"action": "password", "current_password": owner.password,
                                    "new_password": "a-brand-new-secret", "confirm_password": "a-brand-new-secret"})
    assert resp.status_code == 303
    assert second.get("/").status_code == 200  # the browser that changed it stays in
    assert first.get("/").status_code == 302  # every other session is out
    Browser(app).sign_in(owner.email, "a-brand-new-secret")


def test_password_change_errors_sit_next_to_their_fields(members, browser_for):
    owner = browser_for(members["OWNER"])
    page = owner.post("/account", {"action": "password", "current_password": "nope-nope",
                                   "new_password": "another-secret", "confirm_password": "another-secret"})
    assert page.status_code == 422
    assert field_error(page.get_data(as_text=True), "current_password") == "That is not your current password"
    page = owner.post("/account", {"action": "password", "current_password": members["OWNER"].password,
                                   "new_password": "short", "confirm_password": "short"}).get_data(as_text=True)
    assert "at least 8 characters" in field_error(page, "new_password")
    page = owner.post("/account", {"action": "password", "current_password": members["OWNER"].password,
                                   "new_password": "long-enough-1", "confirm_password": "long-enough-2"})
    assert field_error(page.get_data(as_text=True), "confirm_password") == "The two new passwords differ"


def test_profile_name_is_saved_and_escaped(members, browser_for):
    agent = browser_for(members["AGENT"])
    hostile = '<script>alert("x")</script>'
    assert agent.post("/account", {"action": "profile", "name": hostile, "language": "de"}).status_code == 303
    page = agent.page("/account")
    assert hostile not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert field_error(agent.post("/account", {"action": "profile", "name": " "}).get_data(as_text=True),
                       "name").startswith("Enter your name")


def test_a_removed_member_is_signed_out(app, members, browser_for):
    agent = browser_for(members["AGENT"])
    with app.app_context():
        accounts.remove_member(members["OWNER"].org_id, members["AGENT"].user_id, Role.OWNER)
    resp = agent.get("/")
    assert resp.status_code == 302 and location(resp).startswith("/login")


def test_signup_makes_a_workspace_and_signs_in(anonymous):
    anonymous.get("/signup")
    resp = anonymous.post("/signup", {"name": "Ana", "email": "ana@example.com", "organizationName": "Ana's Cafe",
                                      "password": "espresso-please", "confirm": "espresso-please"})
    assert resp.status_code == 303
    page = anonymous.page("/")
    assert "Ana&#39;s Cafe" in page and "Welcome to Callbox, Ana" in text_of(page)


def test_signup_errors_sit_next_to_their_fields(anonymous, members):
    anonymous.get("/signup")
    page = anonymous.post("/signup", {"name": "", "email": "not-an-email", "organizationName": "X",
                                      "password": "espresso-please", "confirm": "other"}).get_data(as_text=True)
    assert field_error(page, "email") == "Not a valid email address."
    assert field_error(page, "name")
    page = anonymous.post("/signup", {"name": "A", "email": members["OWNER"].email, "organizationName": "X",
                                      "password": "espresso-please", "confirm": "espresso-please"})
    assert page.status_code == 422 and "already exists" in field_error(page.get_data(as_text=True), "email")


def test_signup_can_be_switched_off(app_with):
    browser = Browser(app_with(web={"signup_enabled": False}))
    resp = browser.get("/signup")
    assert resp.status_code == 403 and resp.mimetype == "text/html"
    assert "Create an account" not in browser.page("/login")


def test_an_invitation_link_from_the_api_works_in_the_browser(app, client, owner):
    resp = client.post("/api/v1/users", headers=owner.headers,
                       json={"email": "new@example.com", "name": "Newbie", "role": "AGENT"})
    path = resp.json["data"]["inviteUrl"].replace("http://localhost", "")
    browser = Browser(app)
    assert "Accept your invitation" in browser.page(path)
    page = browser.post(path, {"password": "short"})
    assert page.status_code == 422 and "at least 8" in field_error(page.get_data(as_text=True), "password")
    assert browser.post(path, {"password": "a-good-password", "name": "New Person"}).status_code == 303
    assert "New Person" in browser.page("/")
    assert browser.post("/logout").status_code == 303
    browser.get("/login")
    used = browser.post(path, {"password": "a-good-password"})
    assert used.status_code == 404 and "not valid any more" in text_of(used.get_data(as_text=True))


def test_the_workspace_switcher_moves_between_own_workspaces_only(app, members, browser_for, make_account):
    owner = members["OWNER"]
    with app.app_context():
        second = accounts.create_organization("Second Shop", accounts.User.get_by_id(owner.user_id))
        foreign = Organization.get_by_id(make_account("OWNER").org_id)
    browser = browser_for(owner)
    page = browser.page("/")
    assert 'id="workspace-switch"' in page and "Second Shop (Owner)" in page
    assert browser.post("/workspace", {"organization_id": second.id}).status_code == 303
    assert '<option value="%s" selected>' % second.id in browser.page("/")
    assert browser.post("/workspace", {"organization_id": foreign.id}).status_code == 404
    assert '<option value="%s" selected>' % second.id in browser.page("/")


def test_a_new_workspace_from_the_account_page(members, browser_for):
    owner = browser_for(members["VIEWER"])
    assert owner.post("/account", {"action": "workspace", "workspace_name": "Side Business"}).status_code == 303
    page = owner.page("/")
    assert "Side Business (Owner)" in page and ">Users<" in page  # the owner of the new one sees admin pages


NAV_BY_ROLE = {
    "VIEWER": {"Dashboard", "Calls", "Assistants", "Phone numbers"},
    "AGENT": {"Dashboard", "Calls", "Appointments", "Knowledge", "Try it", "Assistants", "Phone numbers"},
    "MANAGER": {"Dashboard", "Calls", "Appointments", "Knowledge", "Try it", "Assistants", "Phone numbers"},
    "ADMIN": {"Dashboard", "Calls", "Appointments", "Knowledge", "Try it", "Assistants", "Phone numbers", "Users",
              "API keys", "Settings"},
}


@pytest.mark.parametrize("role", list(NAV_BY_ROLE))
def test_navigation_shows_what_the_role_may_open(members, browser_for, role):
    page = browser_for(members[role]).page("/")
    nav = re.search(r'<nav id="site-nav".*?<ul>(.*?)</ul>', page, re.S).group(1)
    assert set(re.findall(r'<a href="[^"]+"(?: aria-current="page")?>([^<]+)</a>', nav)) == NAV_BY_ROLE[role]


def test_ui_errors_are_pages_and_api_errors_stay_json(client, members, browser_for):
    viewer = browser_for(members["VIEWER"])
    missing = viewer.get("/no/such/page")
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert "Page not found" in missing.get_data(as_text=True)
    refused = viewer.get("/users")
    assert refused.status_code == 403 and "Not allowed for your role" in refused.get_data(as_text=True)
    assert "needs the ADMIN role" in text_of(refused.get_data(as_text=True))
    wrong = viewer.client.put("/login", headers={"X-CSRF-Token": viewer.csrf})
    assert wrong.status_code == 405 and wrong.mimetype == "text/html"
    assert_error(client.get("/api/v1/no-such"), 404, "NOT_FOUND")
    assert client.post("/hooks/no-such-token", json={}).mimetype == "application/json"
    assert client.get("/calendar/guess.ics").mimetype == "application/json"


def test_a_crash_on_a_ui_path_is_a_friendly_500(app_with, caplog):
    app = app_with()

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret detail")

    resp = app.test_client().get("/boom")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 500 and resp.mimetype == "text/html"
    assert "Something went wrong" in body and "secret detail" not in body and "Traceback" not in body


def test_pages_carry_the_security_headers_and_no_inline_script(members, browser_for):
    owner = browser_for(members["OWNER"])
    for path in ("/", "/login", "/try", "/knowledge", "/settings", "/no-such-page"):
        resp = owner.get(path)
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert_csp_clean(resp.get_data(as_text=True))


def test_the_favicon_is_served(client):
    resp = client.get("/favicon.ico", follow_redirects=True)
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
