"""The access matrix: each caller (every role, API keys of several roles, nobody) × each endpoint of issue 2.

Expected outcomes come from ``ENDPOINTS`` below (the lowest role each endpoint needs), not from the code under
test. One world (an organization with one member per role and three API keys) serves the whole module; every
case gets fresh tokens and fresh targets, so cases do not depend on each other.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable

import pytest
from flask import Flask

from appliance import accounts
from appliance.datadir import open_database
from appliance.roles import Role
from data.db import database
from data.models import Organization, User
from tests.conftest import make_config, new_account
from web.auth import PUBLIC

ROLES = ["OWNER", "ADMIN", "MANAGER", "AGENT", "VIEWER"]
KEY_ROLES = ["ADMIN", "MANAGER", "VIEWER"]
CALLERS = ROLES + [f"key:{r}" for r in KEY_ROLES] + ["anonymous"]
USER = "user"  # any signed-in user; an API key acts for the workspace, not a user, and is refused
PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


@dataclass
class World:
    app: Flask
    db: object
    org_id: str
    users: dict[str, str]
    keys: dict[str, str]
    login_email: str

    def fresh_user(self, role: str = "AGENT") -> str:
        """A new member to act on (no password: cheap)."""
        return new_account(self.app, role, self.org_id).user_id

    def tokens(self, user_id: str):
        from web.context import config, signer
        with self.app.app_context():
            return accounts.issue_tokens(User.get_by_id(user_id), self.org_id, signer(), config().auth)

    def headers(self, caller: str) -> dict:
        if caller == "anonymous":
            return {}
        if caller.startswith("key:"):
            return {"X-API-Key": self.keys[caller[4:]]}
        return {"Authorization": f"Bearer {self.tokens(self.users[caller]).access_token}"}

    def new_key_id(self) -> str:
        org = Organization.get_by_id(self.org_id)
        return accounts.create_api_key(org, "disposable", Role.VIEWER, None, Role.OWNER)[0].id

    def invite_token(self) -> str:
        from web.context import config
        with self.app.app_context():
            org = Organization.get_by_id(self.org_id)
            n = next(_seq)
            return accounts.invite(org, f"invitee{n}@example.com", "Invitee", Role.AGENT, None, Role.OWNER,
                                   config().auth)[1]


def unique_email() -> str:
    return f"rbac{next(_seq)}@example.com"


@dataclass(frozen=True)
class Endpoint:
    method: str
    rule: str
    needs: object
    status: int
    request: Callable[[World], tuple[str, dict | None]]

    @property
    def id(self) -> str:
        return f"{self.method} {self.rule}"


ENDPOINTS = [
    Endpoint("POST", "/api/v1/auth/signup", PUBLIC, 201, lambda w: ("/api/v1/auth/signup", {
        "email": unique_email(), "password": PASSWORD, "name": "New", "organizationName": "New Org"})),
    Endpoint("POST", "/api/v1/auth/register", Role.ADMIN, 201, lambda w: ("/api/v1/auth/register", {
        "email": unique_email(), "password": PASSWORD, "name": "Reg", "role": "AGENT"})),
    Endpoint("POST", "/api/v1/auth/login", PUBLIC, 200, lambda w: ("/api/v1/auth/login", {
        "email": w.login_email, "password": PASSWORD})),
    Endpoint("POST", "/api/v1/auth/refresh", PUBLIC, 200, lambda w: ("/api/v1/auth/refresh", {
        "refreshToken": w.tokens(w.users["VIEWER"]).refresh_token})),
    Endpoint("POST", "/api/v1/auth/logout", USER, 200, lambda w: ("/api/v1/auth/logout", None)),
    Endpoint("POST", "/api/v1/auth/accept-invite", PUBLIC, 200, lambda w: ("/api/v1/auth/accept-invite", {
        "token": w.invite_token(), "password": PASSWORD})),
    Endpoint("GET", "/api/v1/auth/me", USER, 200, lambda w: ("/api/v1/auth/me", None)),
    Endpoint("GET", "/api/v1/users/me", USER, 200, lambda w: ("/api/v1/users/me", None)),
    Endpoint("PATCH", "/api/v1/users/me", USER, 200, lambda w: ("/api/v1/users/me", {"language": "de"})),
    Endpoint("GET", "/api/v1/users", Role.ADMIN, 200, lambda w: ("/api/v1/users", None)),
    Endpoint("POST", "/api/v1/users", Role.ADMIN, 201, lambda w: ("/api/v1/users", {
        "email": unique_email(), "name": "Invited", "role": "VIEWER"})),
    Endpoint("GET", "/api/v1/users/<string:user_id>", Role.ADMIN, 200,
             lambda w: (f"/api/v1/users/{w.fresh_user()}", None)),
    Endpoint("PATCH", "/api/v1/users/<string:user_id>", Role.ADMIN, 200,
             lambda w: (f"/api/v1/users/{w.fresh_user()}", {"role": "VIEWER"})),
    Endpoint("DELETE", "/api/v1/users/<string:user_id>", Role.ADMIN, 200,
             lambda w: (f"/api/v1/users/{w.fresh_user()}", None)),
    Endpoint("GET", "/api/v1/workspaces", USER, 200, lambda w: ("/api/v1/workspaces", None)),
    Endpoint("POST", "/api/v1/workspaces", USER, 201, lambda w: ("/api/v1/workspaces", {"name": "Branch"})),
    Endpoint("GET", "/api/v1/api-keys", Role.ADMIN, 200, lambda w: ("/api/v1/api-keys", None)),
    Endpoint("POST", "/api/v1/api-keys", Role.ADMIN, 201, lambda w: ("/api/v1/api-keys", {
        "name": "made in the matrix", "role": "VIEWER"})),
    Endpoint("DELETE", "/api/v1/api-keys/<string:key_id>", Role.ADMIN, 200,
             lambda w: (f"/api/v1/api-keys/{w.new_key_id()}", None)),
    Endpoint("GET", "/api/v1/settings", Role.ADMIN, 200, lambda w: ("/api/v1/settings", None)),
    Endpoint("PUT", "/api/v1/settings", Role.ADMIN, 200, lambda w: ("/api/v1/settings", {
        "timezone": "Europe/Berlin"})),
    Endpoint("GET", "/api/v1/health", PUBLIC, 200, lambda w: ("/api/v1/health", None)),
    Endpoint("GET", "/api/health", PUBLIC, 200, lambda w: ("/api/health", None)),
]
ISSUE_BLUEPRINTS = ("auth.", "users.", "workspaces.", "settings.", "health.", "health_alias")


def expected_status(endpoint: Endpoint, caller: str) -> int:
    """What the table says this caller gets."""
    if endpoint.needs == PUBLIC:
        return endpoint.status
    if caller == "anonymous":
        return 401
    is_key = caller.startswith("key:")
    if endpoint.needs == USER:
        return 403 if is_key else endpoint.status
    role = Role(caller[4:] if is_key else caller)
    return endpoint.status if role.at_least(endpoint.needs) else 403


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    config = make_config(tmp_path_factory.mktemp("rbac"))
    db = open_database(config)
    from web import create_app

    app = create_app(config)
    owner = new_account(app, "OWNER")
    users = {"OWNER": owner.user_id}
    for role in ROLES[1:]:
        users[role] = new_account(app, role, owner.org_id).user_id
    org = Organization.get_by_id(owner.org_id)
    keys = {role: accounts.create_api_key(org, f"{role} key", Role(role), None, Role.OWNER)[1] for role in KEY_ROLES}
    login_email = new_account(app, "AGENT", owner.org_id, password=PASSWORD).email
    yield World(app, db, owner.org_id, users, keys, login_email)
    database.close()


@pytest.fixture
def bound(world):
    """The module's world, with the database handle bound to it again (other apps may have rebound it)."""
    database.initialize(world.db)
    return world


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_access_matrix(bound, endpoint, caller):
    path, body = endpoint.request(bound)
    client = bound.app.test_client()
    resp = client.open(path, method=endpoint.method, json=body, headers=bound.headers(caller))
    want = expected_status(endpoint, caller)
    assert resp.status_code == want, (caller, endpoint.id, resp.status_code, resp.json)
    assert resp.json["success"] is (want < 400)
    if want in (401, 403):
        assert resp.json["error"]["code"] == {401: "UNAUTHORIZED", 403: "FORBIDDEN"}[want]


def routes(app: Flask, prefix: str = "/api/") -> list[tuple[str, str, object]]:
    """Every (method, rule, view method) the app serves under ``prefix`` (docs and OpenAPI excluded)."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefix) or rule.endpoint.startswith("api-docs."):
            continue
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            target = getattr(view_class, method.lower(), None) if view_class else view
            found.append((method, rule.rule, target))
    return found


def undeclared(app: Flask) -> list[str]:
    """API endpoints whose view method declares no access rule."""
    return [f"{method} {rule}" for method, rule, target in routes(app)
            if getattr(target, "_callbox_access", None) not in (PUBLIC, *Role)]


def test_every_api_endpoint_declares_an_access_rule(bound):
    assert len(routes(bound.app)) >= len(ENDPOINTS)
    assert undeclared(bound.app) == []


def test_the_walk_catches_an_undeclared_endpoint():
    app = Flask("probe")
    app.add_url_rule("/api/v1/forgotten", "forgotten", lambda: "", methods=["GET", "POST"])
    assert undeclared(app) == ["GET /api/v1/forgotten", "POST /api/v1/forgotten"]


def test_the_matrix_covers_every_endpoint_of_this_issue(bound):
    served = {f"{method} {rule}" for method, rule, _ in routes(bound.app)
              if any(_endpoint_of(bound.app, rule).startswith(bp) for bp in ISSUE_BLUEPRINTS)}
    assert served == {e.id for e in ENDPOINTS}


def test_declared_rules_match_the_table(bound):
    declared = {f"{method} {rule}": getattr(target, "_callbox_access") for method, rule, target in routes(bound.app)}
    for endpoint in ENDPOINTS:
        want = Role.VIEWER if endpoint.needs == USER else endpoint.needs
        assert declared[endpoint.id] == want, endpoint.id


def _endpoint_of(app: Flask, rule: str) -> str:
    return next(r.endpoint for r in app.url_map.iter_rules() if r.rule == rule)
