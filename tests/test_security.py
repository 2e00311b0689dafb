"""Security properties: secrets never at rest in clear nor in logs, headers, request ids, session + CSRF on the API."""
from __future__ import annotations

import hashlib
import logging
import re

import pytest

from data.models import AuditLog, Invitation, RefreshToken, User
from tests.conftest import assert_error

PASSWORD = "correct-horse-battery-staple"
SIP_SECRET = "sip-secret-in-clear-9f8e7d"


def database_bytes(config) -> bytes:
    """Everything SQLite holds on disk for the database (the file and its write-ahead log)."""
    files = [config.data_dir / name for name in ("callbox.db", "callbox.db-wal")]
    return b"".join(path.read_bytes() for path in files if path.exists())


@pytest.fixture
def secrets_in_play(client, caplog):
    """Sign up, sign in, refresh, make a key, invite, store a SIP password: every secret the API hands out."""
    caplog.set_level(logging.DEBUG)
    signup = client.post("/api/v1/auth/signup", json={"email": "sec@example.com", "password": PASSWORD,
                                                      "name": "Sec", "organizationName": "Sec Org"}).json["data"]
    headers = {"Authorization": f"Bearer {signup['tokens']['accessToken']}"}
    login = client.post("/api/v1/auth/login", json={"email": "sec@example.com", "password": PASSWORD}).json["data"]
    rotated = client.post("/api/v1/auth/refresh", json={"refreshToken": login["tokens"]["refreshToken"]}
                          ).json["data"]["tokens"]
    key = client.post("/api/v1/api-keys", headers=headers, json={"name": "k"}).json["data"]["key"]
    invite_url = client.post("/api/v1/users", headers=headers, json={"email": "inv@example.com", "name": "I"}
                             ).json["data"]["inviteUrl"]
    client.put("/api/v1/settings", headers=headers, json={"sip": {"password": SIP_SECRET}})
    return {"password": PASSWORD, "refresh": login["tokens"]["refreshToken"], "rotated": rotated["refreshToken"],
            "access": rotated["accessToken"], "key": key, "invite": invite_url.rsplit("/", 1)[1], "sip": SIP_SECRET}


def test_no_secret_is_stored_in_clear(config, secrets_in_play):
    stored = database_bytes(config)
    for name, value in secrets_in_play.items():
        assert value.encode() not in stored, name


def test_passwords_are_argon2id_and_tokens_are_hashed(secrets_in_play):
    user = User.get(User.email == "sec@example.com")
    assert user.password_hash.startswith("$argon2id$")
    assert RefreshToken.get_or_none(RefreshToken.token_hash == hashlib.sha256(
        secrets_in_play["rotated"].encode()).hexdigest()) is not None
    assert Invitation.get_or_none(Invitation.token_hash == hashlib.sha256(
        secrets_in_play["invite"].encode()).hexdigest()) is not None


def test_no_secret_reaches_the_logs_or_the_audit_log(caplog, secrets_in_play):
    audit = str(list(AuditLog.select().dicts()))
    for name, value in secrets_in_play.items():
        assert value not in caplog.text, name
        assert value not in audit, name


def test_api_responses_carry_security_headers(client, owner):
    for resp in (client.get("/api/v1/auth/me", headers=owner.headers), client.get("/api/v1/nope")):
        headers = resp.headers
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("sent, echoed", [("abc-123.X_y", True), ("x" * 65, False), ("bad id; Set-Cookie=a", False),
                                          ("", False)])
def test_request_id_is_echoed_only_when_safe(client, sent, echoed):
    resp = client.get("/api/v1/health", headers={"X-Request-Id": sent} if sent else {})
    got = resp.headers["X-Request-Id"]
    assert (got == sent) is echoed and re.fullmatch(r"[A-Za-z0-9._-]{1,64}", got)


def ui_sign_in(client, email: str, password: str) -> str:
    """Sign in through the browser form; the session's CSRF token."""
    page = client.get("/login").get_data(as_text=True)
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = client.post("/login", data={"csrf_token": form_token, "email": email, "password": password})
    assert resp.status_code == 302
    with client.session_transaction() as session:
        return session["csrf_token"]


def test_a_browser_session_needs_its_csrf_token_on_the_api(client, owner):
    csrf = ui_sign_in(client, owner.email, owner.password)
    error = assert_error(client.get("/api/v1/auth/me"), 401, "UNAUTHORIZED")
    assert "CSRF" in error["message"]
    assert_error(client.get("/api/v1/auth/me", headers={"X-CSRF-Token": "guess"}), 401, "UNAUTHORIZED")
    me = client.get("/api/v1/auth/me", headers={"X-CSRF-Token": csrf})
    assert me.status_code == 200 and me.json["data"]["id"] == owner.user_id


def test_token_of_a_deleted_user_is_refused(client, owner, make_account):
    other = make_account("AGENT", owner.org_id)
    assert client.delete(f"/api/v1/users/{other.user_id}", headers=owner.headers).status_code == 200
    assert User.get_or_none(User.id == other.user_id) is None
    assert_error(client.get("/api/v1/auth/me", headers=other.headers), 401, "UNAUTHORIZED")
