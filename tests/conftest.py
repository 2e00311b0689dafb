"""Shared fixtures: a real data directory with a real SQLite file, the app, a client, and signed-in users."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

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
