"""Sign-up, register, sign-in, refresh rotation and reuse, sign-out, invitations, password change, token checks."""
from __future__ import annotations

import datetime as dt

import jwt
import pytest

from appliance.security import TokenSigner
from data.models import RefreshToken, User
from tests.conftest import assert_error

ME = "/api/v1/auth/me"
PASSWORD = "correct-horse-battery"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def signup_body(**changes) -> dict:
    body = {"email": "ada@example.com", "password": PASSWORD, "name": "Ada", "organizationName": "Ada's Dental"}
    body.update(changes)
    return body


# -- sign-up and register ----------------------------------------------------------------------------------------

def test_signup_creates_owner_organization_and_working_tokens(client):
    resp = client.post("/api/v1/auth/signup", json=signup_body(industry="dental"))
    assert resp.status_code == 201
    data = resp.json["data"]
    assert data["user"]["email"] == "ada@example.com" and data["user"]["role"] == "OWNER"
    assert data["organization"]["id"].startswith("org_") and data["organization"]["industry"] == "dental"
    assert data["user"]["organizationId"] == data["organization"]["id"]
    assert data["tokens"]["expiresIn"] == 3600
    me = client.get(ME, headers=bearer(data["tokens"]["accessToken"]))
    assert me.status_code == 200 and me.json["data"]["id"] == data["user"]["id"]


def test_signup_same_email_any_case_is_a_duplicate(client):
    assert client.post("/api/v1/auth/signup", json=signup_body()).status_code == 201
    resp = client.post("/api/v1/auth/signup", json=signup_body(email="ADA@Example.com"))
    assert assert_error(resp, 409, "DUPLICATE_ENTRY")["details"] == {"email": ["already registered"]}


@pytest.mark.parametrize("changes, field", [
    ({"password": "short"}, "password"),
    ({"password": "ada@example.com"}, "password"),
    ({"email": "not-an-email"}, "email"),
    ({"organizationName": ""}, "organizationName"),
    ({"name": None}, "name"),
    ({"surprise": 1}, "surprise"),
])
def test_signup_validation(client, changes, field):
    error = assert_error(client.post("/api/v1/auth/signup", json=signup_body(**changes)), 422, "VALIDATION_ERROR")
    assert field in str(error["details"]) and field in error["message"]
    assert User.select().count() == 0


def test_signup_can_be_disabled(app_with):
    client = app_with(web={"signup_enabled": False}).test_client()
    assert_error(client.post("/api/v1/auth/signup", json=signup_body()), 403, "FORBIDDEN")


def test_register_creates_a_member_who_can_sign_in(client, owner):
    resp = client.post("/api/v1/auth/register", headers=owner.headers, json={
        "email": "agent@example.com", "password": PASSWORD, "name": "Agent", "role": "AGENT"})
    assert resp.status_code == 201
    assert resp.json["data"]["user"]["role"] == "AGENT"
    assert resp.json["data"]["user"]["organizationId"] == owner.org_id
    login = client.post("/api/v1/auth/login", json={"email": "agent@example.com", "password": PASSWORD})
    assert login.status_code == 200 and login.json["data"]["user"]["organizationId"] == owner.org_id


def test_register_existing_email_conflicts(client, owner):
    resp = client.post("/api/v1/auth/register", headers=owner.headers, json={
        "email": owner.email, "password": PASSWORD, "name": "Again", "role": "AGENT"})
    assert_error(resp, 409, "DUPLICATE_ENTRY")


# -- sign-in ----------------------------------------------------------------------------------------------------

def test_login_returns_user_token_and_tokens(client, owner):
    resp = client.post("/api/v1/auth/login", json={"email": owner.email.upper(), "password": owner.password})
    assert resp.status_code == 200
    data = resp.json["data"]
    assert data["token"] == data["tokens"]["accessToken"]
    assert data["tokens"]["refreshToken"].startswith("rt_") and data["tokens"]["tokenType"] == "Bearer"
    assert data["user"]["role"] == "OWNER" and data["user"]["lastLoginAt"].endswith("Z")


@pytest.mark.parametrize("email", ["known", "nobody@example.com"])
def test_login_failure_does_not_say_which_part_was_wrong(client, owner, email):
    resp = client.post("/api/v1/auth/login", json={"email": owner.email if email == "known" else email,
                                                   "password": "wrong-password"})
    assert assert_error(resp, 401, "INVALID_CREDENTIALS")["message"] == "Wrong email or password"


def test_login_is_throttled_after_repeated_failures(app_with):
    client = app_with(auth={"login_max_failures": 3, "login_window_seconds": 600}).test_client()
    client.post("/api/v1/auth/signup", json=signup_body())
    for _ in range(3):
        assert client.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": "nope-nope"}
                           ).status_code == 401
    resp = client.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
    assert_error(resp, 429, "RATE_LIMIT_EXCEEDED")
    assert 590 <= int(resp.headers["Retry-After"]) <= 600
    other_ip = client.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert other_ip.status_code == 200


def test_successful_login_resets_the_failure_count(app_with):
    client = app_with(auth={"login_max_failures": 2}).test_client()
    client.post("/api/v1/auth/signup", json=signup_body())
    for _ in range(3):
        client.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": "nope-nope"})
        assert client.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
                           ).status_code == 200


# -- refresh rotation and reuse ---------------------------------------------------------------------------------

def refresh(client, token: str):
    return client.post("/api/v1/auth/refresh", json={"refreshToken": token})


def test_refresh_rotates_the_refresh_token(client, owner):
    first = refresh(client, owner.refresh)
    assert first.status_code == 200
    tokens = first.json["data"]["tokens"]
    assert tokens["refreshToken"] != owner.refresh and first.json["data"]["token"] == tokens["accessToken"]
    assert client.get(ME, headers=bearer(tokens["accessToken"])).status_code == 200
    second = refresh(client, tokens["refreshToken"])
    assert second.status_code == 200


def test_reused_refresh_token_revokes_the_whole_family(client, owner, accounts_api):
    other_session = accounts_api.login(owner.email, owner.password)
    rotated = refresh(client, owner.refresh).json["data"]["tokens"]
    error = assert_error(refresh(client, owner.refresh), 401, "UNAUTHORIZED")
    assert "already used" in error["message"]
    for access in (owner.token, rotated["accessToken"]):
        assert "revoked" in assert_error(client.get(ME, headers=bearer(access)), 401, "UNAUTHORIZED")["message"]
    assert_error(refresh(client, rotated["refreshToken"]), 401, "UNAUTHORIZED")
    assert client.get(ME, headers=other_session.headers).status_code == 200


@pytest.mark.parametrize("token", ["rt_unknown", "   ", "x" * 512])
def test_unknown_refresh_token_is_refused(client, owner, token):
    assert "not valid" in assert_error(refresh(client, token), 401, "UNAUTHORIZED")["message"]


@pytest.mark.parametrize("body", [{}, {"refreshToken": ""}, {"refreshToken": "x" * 513}, {"refreshToken": 5}])
def test_malformed_refresh_request_is_422(client, body):
    assert_error(client.post("/api/v1/auth/refresh", json=body), 422, "VALIDATION_ERROR")


def test_expired_refresh_token_is_refused(client, owner):
    RefreshToken.update(expires_at=dt.datetime(2000, 1, 1)).execute()
    assert "expired" in assert_error(refresh(client, owner.refresh), 401, "UNAUTHORIZED")["message"]


# -- sign-out -----------------------------------------------------------------------------------------------------

def test_logout_revokes_access_and_refresh_tokens_of_that_sign_in_only(client, owner, accounts_api):
    other_session = accounts_api.login(owner.email, owner.password)
    resp = client.post("/api/v1/auth/logout", headers=owner.headers)
    assert resp.status_code == 200 and resp.json["success"] is True
    assert_error(client.get(ME, headers=owner.headers), 401, "UNAUTHORIZED")
    assert_error(refresh(client, owner.refresh), 401, "UNAUTHORIZED")
    assert_error(client.post("/api/v1/auth/logout", headers=owner.headers), 401, "UNAUTHORIZED")
    assert client.get(ME, headers=other_session.headers).status_code == 200


def test_logout_and_me_with_an_api_key_are_refused_clearly(client, owner):
    key = client.post("/api/v1/api-keys", headers=owner.headers, json={"name": "ci"}).json["data"]["key"]
    for method, path in (("post", "/api/v1/auth/logout"), ("get", ME), ("get", "/api/v1/users/me")):
        error = assert_error(getattr(client, method)(path, headers={"X-API-Key": key}), 403, "FORBIDDEN")
        assert "API key" in error["message"] or "access token" in error["message"]


# -- invitations ------------------------------------------------------------------------------------------------

def invite(client, owner, email="new@example.com", role="AGENT") -> str:
    resp = client.post("/api/v1/users", headers=owner.headers, json={"email": email, "name": "New", "role": role})
    assert resp.status_code == 201, resp.json
    return resp.json["data"]["inviteUrl"].rsplit("/", 1)[1]


def accept(client, token, password=PASSWORD, **extra):
    return client.post("/api/v1/auth/accept-invite", json={"token": token, "password": password, **extra})


def test_accept_invite_sets_the_password_and_signs_in_once(client, owner):
    token = invite(client, owner)
    assert_error(client.post("/api/v1/auth/login", json={"email": "new@example.com", "password": PASSWORD}),
                 401, "INVALID_CREDENTIALS")
    assert_error(accept(client, token, password="short"), 422, "VALIDATION_ERROR")
    resp = accept(client, token, name="Newton")
    assert resp.status_code == 200
    data = resp.json["data"]
    assert data["user"]["name"] == "Newton" and data["user"]["role"] == "AGENT" and data["user"]["hasPassword"]
    assert client.get(ME, headers=bearer(data["token"])).json["data"]["organizationId"] == owner.org_id
    assert client.post("/api/v1/auth/login", json={"email": "new@example.com", "password": PASSWORD}
                       ).status_code == 200
    assert_error(accept(client, token), 404, "NOT_FOUND")


def test_expired_or_unknown_invite_is_not_found(client, owner):
    from data.models import Invitation

    token = invite(client, owner)
    Invitation.update(expires_at=dt.datetime(2000, 1, 1)).execute()
    assert_error(accept(client, token), 404, "NOT_FOUND")
    assert_error(accept(client, "made-up-token"), 404, "NOT_FOUND")


def test_invite_of_an_existing_account_needs_its_password(client, owner, accounts_api):
    other = accounts_api.signup(org="Other Org")
    token = invite(client, owner, email=other.email)
    resp = accept(client, token, password="attacker-chosen-password")
    assert_error(resp, 401, "INVALID_CREDENTIALS")
    assert client.post("/api/v1/auth/login", json={"email": other.email, "password": other.password}
                       ).status_code == 200
    resp = accept(client, token, password=other.password)
    assert resp.status_code == 200
    assert resp.json["data"]["user"]["organizationId"] == owner.org_id


def test_invite_of_a_removed_member_is_not_valid(client, owner, accounts_api):
    other = accounts_api.signup(org="Other Org")
    token = invite(client, owner, email=other.email)
    assert client.delete(f"/api/v1/users/{other.user_id}", headers=owner.headers).status_code == 200
    assert_error(accept(client, token, password=other.password), 404, "NOT_FOUND")


# -- password change --------------------------------------------------------------------------------------------

def test_password_change_revokes_every_session(client, owner, accounts_api):
    other_session = accounts_api.login(owner.email, owner.password)
    resp = client.patch("/api/v1/users/me", headers=owner.headers,
                        json={"password": "a-brand-new-secret", "currentPassword": owner.password})
    assert resp.status_code == 200 and "signed out" in resp.json["message"]
    for session in (owner, other_session):
        assert_error(client.get(ME, headers=session.headers), 401, "UNAUTHORIZED")
        assert_error(refresh(client, session.refresh), 401, "UNAUTHORIZED")
    assert_error(client.post("/api/v1/auth/login", json={"email": owner.email, "password": owner.password}),
                 401, "INVALID_CREDENTIALS")
    assert accounts_api.login(owner.email, "a-brand-new-secret").role == "OWNER"


@pytest.mark.parametrize("body, status, code", [
    ({"password": "a-brand-new-secret", "currentPassword": "wrong-password"}, 401, "INVALID_CREDENTIALS"),
    ({"password": "a-brand-new-secret"}, 422, "VALIDATION_ERROR"),
    ({"password": "short", "currentPassword": PASSWORD}, 422, "VALIDATION_ERROR"),
])
def test_password_change_refusals_keep_the_old_password(client, owner, accounts_api, body, status, code):
    assert_error(client.patch("/api/v1/users/me", headers=owner.headers, json=body), status, code)
    assert client.get(ME, headers=owner.headers).status_code == 200
    assert accounts_api.login(owner.email, owner.password).user_id == owner.user_id


# -- access tokens ----------------------------------------------------------------------------------------------

def _claims(app, owner) -> dict:
    with app.app_context():
        from web.context import signer
        return jwt.decode(owner.token, signer()._key, algorithms=["HS256"])


def _tampered(token: str) -> str:
    head, payload, sig = token.split(".")
    return ".".join([head, payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB"), sig])


@pytest.mark.parametrize("case", ["none", "basic", "empty-bearer", "garbage", "tampered", "other-key", "alg-none",
                                  "refresh-typ", "api-key-unknown"])
def test_bad_credentials_are_401(client, app, owner, case):
    claims = _claims(app, owner)
    headers = {
        "none": {},
        "basic": {"Authorization": "Basic b3duZXI6cGFzc3dvcmQ="},
        "empty-bearer": {"Authorization": "Bearer "},
        "garbage": bearer("not.a.jwt"),
        "tampered": bearer(_tampered(owner.token)),
        "other-key": bearer(TokenSigner(b"another data directory's key", 3600).issue(owner.user_id, owner.org_id)[0]),
        "alg-none": bearer(jwt.encode(claims, None, algorithm="none")),
        "refresh-typ": bearer(jwt.encode({**claims, "typ": "refresh"}, _signing_key(app), algorithm="HS256")),
        "api-key-unknown": {"X-API-Key": "cbk_not-a-real-key"},
    }[case]
    assert_error(client.get(ME, headers=headers), 401, "UNAUTHORIZED")
    assert client.get(ME, headers=owner.headers).status_code == 200


def _signing_key(app) -> bytes:
    return app.extensions["callbox.signer"]._key


def test_expired_access_token_is_401_and_refresh_still_works(app_with):
    # A zero lifetime makes the token expire within the second it is issued: no sleeping.
    client = app_with(auth={"access_ttl_seconds": 0}).test_client()
    data = client.post("/api/v1/auth/signup", json=signup_body()).json["data"]
    assert data["tokens"]["expiresIn"] == 0
    error = assert_error(client.get(ME, headers=bearer(data["tokens"]["accessToken"])), 401, "UNAUTHORIZED")
    assert "expired" in error["message"]
    assert refresh(client, data["tokens"]["refreshToken"]).status_code == 200


def test_401_names_the_bearer_scheme(client):
    resp = client.get(ME)
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
