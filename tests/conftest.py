"""Shared fixtures: a real data directory with a real SQLite file, the app, a client, and signed-in users."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

pytest_plugins = ["tests.sipp.harness"]

from appliance import accounts
from appliance.config import load_config
from appliance.datadir import create_data_dir, open_database
from appliance.roles import Role
from data.db import database

_seq = itertools.count(1)


def make_config(tmp_path, **overrides):
    root = tmp_path / "data"
    create_data_dir(root)
    base = {"ratelimit": {"per_user": "100000/hour", "per_ip": "100000/hour"}}
    base.update(overrides)
    return load_config(root, env={}, testing=True, **base)


@pytest.fixture
def config(tmp_path):
    return make_config(tmp_path)


@pytest.fixture
def app(config):
    from web import create_app

    open_database(config)
    application = create_app(config)
    yield application
    database.close()


@pytest.fixture
def client(app):
    return app.test_client()


@dataclass
class Account:
    """A signed-in user of one organization, with headers ready to use."""

    user_id: str
    org_id: str
    email: str
    password: str
    role: str
    token: str
    refresh: str

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


class Accounts:
    """Makes organizations and users through the real API and domain services."""

    def __init__(self, client):
        self.client = client

    def signup(self, name: str = "Owner", org: str = "Acme Dental") -> Account:
        n = next(_seq)
        email, password = f"owner{n}@example.com", "correct-horse-battery"
        resp = self.client.post("/api/v1/auth/signup", json={
            "email": email, "password": password, "name": name, "organizationName": org})
        assert resp.status_code == 201, resp.json
        data = resp.json["data"]
        return Account(data["user"]["id"], data["organization"]["id"], email, password, "OWNER",
                       data["tokens"]["accessToken"], data["tokens"]["refreshToken"])

    def member(self, owner: Account, role: str) -> Account:
        n = next(_seq)
        email, password = f"{role.lower()}{n}@example.com", "correct-horse-battery"
        resp = self.client.post("/api/v1/auth/register", headers=owner.headers, json={
            "email": email, "password": password, "name": f"{role.title()} {n}", "role": role})
        assert resp.status_code == 201, resp.json
        return self.login(email, password, role)

    def login(self, email: str, password: str, role: str = "") -> Account:
        resp = self.client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert resp.status_code == 200, resp.json
        data = resp.json["data"]
        return Account(data["user"]["id"], data["user"]["organizationId"], email, password,
                       role or data["user"]["role"], data["tokens"]["accessToken"], data["tokens"]["refreshToken"])


@pytest.fixture
def accounts_api(client):
    return Accounts(client)


@pytest.fixture
def owner(accounts_api):
    return accounts_api.signup()


@pytest.fixture
def team(accounts_api, owner):
    """One account per role in the same organization."""
    members = {"OWNER": owner}
    for role in ("ADMIN", "MANAGER", "AGENT", "VIEWER"):
        members[role] = accounts_api.member(owner, role)
    return members


# -- helpers for the auth, users, workspaces, settings and health suites ------------------------------------------

def assert_error(resp, status: int, code: str) -> dict:
    """The response is the error envelope with this status and code (JSON, never HTML, never a traceback)."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.mimetype == "application/json", resp.mimetype
    text = resp.get_data(as_text=True)
    assert "<html" not in text.lower() and "Traceback" not in text
    body = resp.json
    assert body["success"] is False and set(body) == {"success", "error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def new_account(app, role: str = "OWNER", org_id: str | None = None, password: str | None = None) -> Account:
    """A user made through the domain services (no HTTP, so no rate-limit budget) with fresh tokens.

    Without ``org_id`` the user gets a new organization (as its OWNER, whatever ``role`` says)."""
    from data.models import Organization
    from web.context import config as app_config, signer

    n = next(_seq)
    email = f"{role.lower()}{n}@example.com"
    with app.app_context():
        user = accounts.create_user(email, password, f"{role.title()} {n}")
        if org_id is None:
            org_id, role = accounts.create_organization(f"Org {n}", user).id, "OWNER"
        else:
            accounts.add_member(Organization.get_by_id(org_id), user, Role(role))
        tokens = accounts.issue_tokens(user, org_id, signer(), app_config().auth)
    return Account(user.id, org_id, email, password or "", role, tokens.access_token, tokens.refresh_token)


@pytest.fixture
def make_account(app):
    """``make_account(role, org_id=None, password=None)``: an account made without HTTP."""
    return lambda role="OWNER", org_id=None, password=None: new_account(app, role, org_id, password)


@pytest.fixture
def app_with(tmp_path):
    """``app_with(**config_overrides)``: a dedicated app (use it instead of ``app``, never beside it)."""
    from web import create_app

    built = []

    def build(migrate: bool = True, **overrides):
        config = make_config(tmp_path, **overrides)
        if migrate:
            open_database(config)
        built.append(create_app(config))
        return built[-1]

    yield build
    if built:
        database.close()


@pytest.fixture
def members(make_account):
    """Like ``team`` (one account per role in one organization, all with a password) but made without HTTP."""
    owner = make_account("OWNER", password="correct-horse-battery")
    found = {"OWNER": owner}
    for role in ("ADMIN", "MANAGER", "AGENT", "VIEWER"):
        found[role] = make_account(role, owner.org_id, password="correct-horse-battery")
    return found
