"""Schemathesis against the generated OpenAPI document: no 5xx, every response matches its documented schema.

Runs in-process over WSGI as a signed-in OWNER, derandomized, with a bounded number of examples per operation,
so the run is repeatable and stays well under two minutes. Each operation gets its own Hypothesis run through
schemathesis' ``as_strategy`` (its pytest ``from_fixture`` loader does not work with pytest 9.2), and every
operation is reported, not only the first that fails.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from appliance import accounts
from data.models import User
from web.context import config as app_config, signer

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 20
# Error statuses count as conforming through each operation's documented "default" error response.
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
LOGOUT = "/api/v1/auth/logout"
# Issue 2's resources (flask-smorest tags each operation with its blueprint); later issues add their own.
TAGS = ["auth", "users", "workspaces", "settings", "health", "calls"]
PATH_PARAM = re.compile(r"{(\w+)}")
RUN_SETTINGS = settings(max_examples=MAX_EXAMPLES, deadline=dt.timedelta(seconds=5), derandomize=True,
                        database=None, suppress_health_check=list(HealthCheck), print_blob=False)


def fresh_headers(app, owner) -> dict:
    """A new access token for the owner: logout revokes the one it is called with."""
    with app.app_context():
        user = User.get_by_id(owner.user_id)
        tokens = accounts.issue_tokens(user, owner.org_id, signer(), app_config().auth)
    return {"Authorization": f"Bearer {tokens.access_token}"}


def run_operation(strategy, app, owner) -> int:
    """One bounded, derandomized Hypothesis run; raises on the first failing case, returns the cases sent."""
    sent = []

    @RUN_SETTINGS
    @given(case=strategy)
    def check(case):
        headers = fresh_headers(app, owner) if case.path == LOGOUT else owner.headers
        case.call_and_validate(headers=headers, checks=CHECKS)
        sent.append(case.path)

    check()
    return len(sent)


def load_operations(app) -> list:
    """This issue's operations of the document the app serves (calls made through the schema go to the same app)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app).include(tag=TAGS)
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 22, "the document lost operations"
    return found


def describe(exc: BaseException) -> str:
    """The readable part of a failure (a schemathesis failure group says little by itself)."""
    if isinstance(exc, FailureGroup):
        return "\n".join(str(failure) for failure in exc.exceptions)
    return str(exc)


def run_all(operations, app, owner, strategy_for, *, may_be_empty: bool = False) -> None:
    """Run every operation; report all failures together."""
    failures = []
    for operation in operations:
        strategy = strategy_for(operation)
        if strategy is None:
            continue
        try:
            assert run_operation(strategy, app, owner) > 0, "no case was generated"
        except Unsatisfiable:
            if not may_be_empty:  # negative mode: an operation without inputs has nothing to get wrong
                failures.append(f"{operation.label}: no case could be generated")
        except (Exception, FailureGroup) as exc:  # per operation: one run reports every broken operation
            failures.append(f"{operation.label}: {describe(exc)}")
    assert not failures, "\n\n".join(failures)


@pytest.fixture
def known_ids(client, owner, accounts_api) -> dict:
    """Real resources for the path parameters, so id routes are exercised beyond 404."""
    member = accounts_api.member(owner, "AGENT")
    resp = client.post("/api/v1/api-keys", headers=owner.headers, json={"name": "fuzzing"})
    assert resp.status_code == 201, resp.json
    call = client.post("/api/v1/calls", headers=owner.headers, json={
        "direction": "inbound", "fromNumber": "+12025550143", "toNumber": "+12025550100",
        "startedAt": "2026-11-02T09:30:00Z", "endedAt": "2026-11-02T09:30:42Z", "status": "completed"})
    assert call.status_code == 201, call.json
    call_id = call.json["data"]["id"]
    tagged = client.post(f"/api/v1/calls/{call_id}/tags", headers=owner.headers, json={"tag": "vip"})
    assert tagged.status_code in (200, 201), tagged.json
    return {"user_id": member.user_id, "key_id": resp.json["data"]["id"], "call_id": call_id, "tag": "vip"}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_every_operation_conforms(app, owner, mode):
    run_all(load_operations(app), app, owner, lambda operation: operation.as_strategy(mode),
            may_be_empty=mode is GenerationMode.NEGATIVE)


def test_id_routes_conform_with_real_ids(app, owner, known_ids):
    def strategy_for(operation):
        names = PATH_PARAM.findall(operation.path)
        if not names:
            return None
        assert set(names) <= set(known_ids), f"add a real id for {operation.label} to known_ids"
        return operation.as_strategy(GenerationMode.POSITIVE, path_parameters={n: known_ids[n] for n in names})

    run_all(load_operations(app), app, owner, strategy_for)
