"""Rate limits: one budget per user or API key, another per address for anonymous callers; headers everywhere."""
from __future__ import annotations

import time

import pytest

from appliance.errors import ConfigError
from tests.conftest import assert_error, make_config, new_account

LIMITS = {"per_user": "5/hour", "per_ip": "3/hour"}
ME = "/api/v1/auth/me"
OTHER_IP = {"REMOTE_ADDR": "127.0.0.2"}


@pytest.fixture
def config(tmp_path):
    return make_config(tmp_path, ratelimit=LIMITS)


def budget(resp) -> tuple[int, int, int]:
    headers = resp.headers
    return int(headers["X-RateLimit-Limit"]), int(headers["X-RateLimit-Remaining"]), int(headers["X-RateLimit-Reset"])


def test_every_kind_of_response_carries_the_headers(client, app):
    account = new_account(app)
    responses = [
        client.get(ME, headers={"Authorization": f"Bearer {account.token}"}),  # 200
        client.get("/api/v1/users/usr_nope", headers={"Authorization": f"Bearer {account.token}"}),  # 404
        client.put(ME, headers={"Authorization": f"Bearer {account.token}"}),  # 405
        client.get("/api/v1/nope", headers={"Authorization": f"Bearer {account.token}"}),  # 404, no route
        client.post("/api/v1/auth/login", json={}),  # 422, anonymous
    ]
    assert [r.status_code for r in responses] == [200, 404, 405, 404, 422]
    assert [budget(r)[:2] for r in responses] == [(5, 4), (5, 3), (5, 2), (5, 1), (3, 2)]
    for resp in responses:
        assert time.time() < budget(resp)[2] <= time.time() + 3601  # whole seconds, rounded up
        assert "Retry-After" not in resp.headers


def test_anonymous_callers_are_limited_per_address(client):
    for remaining in (2, 1, 0):
        resp = client.get(ME)
        assert resp.status_code == 401 and budget(resp)[1] == remaining
    over = client.get(ME)
    error = assert_error(over, 429, "RATE_LIMIT_EXCEEDED")
    assert "3 per 1 hour" in error["message"]
    assert budget(over)[:2] == (3, 0)
    assert 0 < int(over.headers["Retry-After"]) <= 3601
    assert client.get(ME, environ_base=OTHER_IP).status_code == 401  # another address has its own budget


def test_a_signed_in_user_has_their_own_budget(client, app):
    alice, bob = new_account(app), new_account(app)
    for _ in range(3):
        client.get(ME)
    assert_error(client.get(ME), 429, "RATE_LIMIT_EXCEEDED")  # the address is spent...
    alice_headers = {"Authorization": f"Bearer {alice.token}"}
    for remaining in (4, 3, 2, 1, 0):  # ...but Alice, from the same address, is counted on her own
        resp = client.get(ME, headers=alice_headers)
        assert resp.status_code == 200 and budget(resp)[:2] == (5, remaining)
    assert_error(client.get(ME, headers=alice_headers), 429, "RATE_LIMIT_EXCEEDED")
    bob_resp = client.get(ME, headers={"Authorization": f"Bearer {bob.token}"})
    assert bob_resp.status_code == 200 and budget(bob_resp)[1] == 4


def test_the_budget_is_shared_across_endpoints(client, app):
    headers = {"Authorization": f"Bearer {new_account(app).token}"}
    paths = ["/api/v1/auth/me", "/api/v1/users", "/api/v1/settings", "/api/v1/workspaces", "/api/v1/api-keys"]
    assert [budget(client.get(p, headers=headers))[1] for p in paths] == [4, 3, 2, 1, 0]
    assert_error(client.get("/api/v1/users/me", headers=headers), 429, "RATE_LIMIT_EXCEEDED")


def test_an_api_key_is_counted_apart_from_its_creator(client, app):
    owner = new_account(app)
    headers = {"Authorization": f"Bearer {owner.token}"}
    key = client.post("/api/v1/api-keys", headers=headers, json={"name": "k"}).json["data"]["key"]
    for _ in range(4):
        client.get("/api/v1/users", headers=headers)
    assert_error(client.get("/api/v1/users", headers=headers), 429, "RATE_LIMIT_EXCEEDED")
    resp = client.get("/api/v1/users", headers={"X-API-Key": key})
    assert resp.status_code == 200 and budget(resp)[1] == 4


def test_bad_tokens_count_against_the_address(client):
    for _ in range(3):
        client.get(ME, headers={"Authorization": "Bearer forged"})
    assert_error(client.get(ME, headers={"Authorization": "Bearer forged"}), 429, "RATE_LIMIT_EXCEEDED")


def test_health_and_docs_are_not_charged_but_show_the_budget(client):
    for _ in range(5):
        for path in ("/api/v1/health", "/api/health", "/api/v1/openapi.json"):
            resp = client.get(path)
            assert resp.status_code == 200 and budget(resp)[:2] == (3, 3)
    assert budget(client.get(ME))[1] == 2


def test_the_ui_is_not_metered(client):
    resp = client.get("/login")
    assert "X-RateLimit-Limit" not in resp.headers


def test_limits_can_be_switched_off(app_with):
    client = app_with(ratelimit={**LIMITS, "enabled": False}).test_client()
    for _ in range(5):
        resp = client.get(ME)
        assert resp.status_code == 401 and "X-RateLimit-Limit" not in resp.headers


@pytest.mark.parametrize("section", [{"per_user": "lots"}, {"per_ip": "5 per fortnight"},
                                     {"storage_url": "carrier-pigeon://coop"}])
def test_bad_limit_settings_are_a_config_error(app_with, section):
    with pytest.raises(ConfigError, match="ratelimit"):
        app_with(ratelimit=section)
