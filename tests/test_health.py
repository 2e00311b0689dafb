"""Health: 200 healthy with its parts; 503 in the error envelope (with the report) when the database is broken."""
from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from data.models import Heartbeat
from tests.conftest import assert_error

HEALTH = "/api/v1/health"


def test_healthy(client):
    resp = client.get(HEALTH)
    assert resp.status_code == 200
    body = resp.json
    assert body["success"] is True
    data = body["data"]
    assert data["status"] == "healthy" and data["db"] == {"status": "ok"} and data["queue"]["status"] == "ok"
    assert data["worker"]["status"] == "not_running" and data["voice"]["status"] == "not_running"
    assert isinstance(data["uptime"], int) and data["uptime"] >= 0 and data["version"]


def test_alias_answers_the_same(client):
    first, alias = client.get(HEALTH).json["data"], client.get("/api/health").json["data"]
    assert {k: v for k, v in first.items() if k != "uptime"} == {k: v for k, v in alias.items() if k != "uptime"}


def test_worker_heartbeat_is_reported(client, app):
    with app.app_context():
        Heartbeat.beat("worker", pid=1234)
    assert client.get(HEALTH).json["data"]["worker"]["status"] == "ok"
    Heartbeat.update(at=dt.datetime(2000, 1, 1)).execute()
    worker = client.get(HEALTH).json["data"]["worker"]
    assert worker == {"status": "stale", "lastHeartbeat": "2000-01-01T00:00:00Z"}


def unhealthy(resp) -> dict:
    """The 503 answer: the error envelope plus the health report in ``data``."""
    assert resp.status_code == 503 and resp.mimetype == "application/json"
    body = resp.json
    assert body["success"] is False and body["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert "db" in body["error"]["message"]
    assert body["data"]["status"] == "unhealthy" and body["data"]["db"]["status"] == "error"
    return body["data"]


def run_sql(config, sql: str) -> None:
    with sqlite3.connect(config.data_dir / "callbox.db") as conn:
        conn.execute(sql)


@pytest.mark.parametrize("path", [HEALTH, "/api/health"])
def test_dropped_table_is_unhealthy(client, config, path):
    run_sql(config, "DROP TABLE heartbeats")
    data = unhealthy(client.get(path))
    assert data["db"]["error"] == "missing tables: heartbeats"
    assert data["worker"]["status"] == "error"


def test_unmigrated_schema_is_unhealthy(client, config):
    run_sql(config, "DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)")
    assert "schema at version" in unhealthy(client.get(HEALTH))["db"]["error"]


def test_unreachable_database_is_unhealthy_and_other_endpoints_say_503(app_with, tmp_path):
    app = app_with(migrate=False, database={"url": f"sqlite:///{tmp_path / 'no-such-dir' / 'callbox.db'}"})
    client = app.test_client()
    data = unhealthy(client.get(HEALTH))
    assert data["db"]["error"] == "OperationalError" and "no-such-dir" not in str(data)
    token = app.extensions["callbox.signer"].issue("usr_x", "org_x")[0]
    resp = client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
    assert_error(resp, 503, "SERVICE_UNAVAILABLE")
    assert resp.headers["Retry-After"] == "30"
