"""``callbox worker``: a real consumer process beats for the health endpoint and runs enqueued tasks."""
from __future__ import annotations

import datetime as dt
import threading

import pytest

from appliance.cli import main
from appliance.config import load_config
from appliance.datadir import open_database
from data.base import utcnow
from data.db import database
from data.models import Heartbeat, LoginFailure, RevokedToken
from jobs import maintenance
from jobs.main import consumer_alive
from tests.processes import start_callbox, stop, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def data_dir(tmp_path):
    root = tmp_path / "data"
    assert main(["init", "--data-dir", str(root)]) == 0
    return root


def _beat():
    with database.connection_context():
        return Heartbeat.get_or_none(Heartbeat.component == "worker")


def test_worker_heartbeat_is_reported_healthy_and_tasks_run(data_dir, tmp_path):
    from web import create_app

    config = load_config(data_dir, env={})
    open_database(config)
    log = tmp_path / "worker.log"
    proc = start_callbox(["worker", "--data-dir", str(data_dir), "--workers", "2"], log)
    try:
        wait_until(_beat, 30, 0.2, "the worker's first heartbeat")
        app = create_app(config)  # bound to the real queue storage, like the web process
        health = app.test_client().get("/api/v1/health").json["data"]
        assert health["worker"]["status"] == "ok", health
        assert health["queue"]["status"] == "ok"

        with database.connection_context():
            RevokedToken.create(jti="expired-jti", expires_at=utcnow() - dt.timedelta(hours=2))
            RevokedToken.create(jti="live-jti", expires_at=utcnow() + dt.timedelta(hours=2))
            LoginFailure.create(email="x@example.com", ip="127.0.0.1", created_at=utcnow() - dt.timedelta(days=3))
        result = maintenance.purge_expired()  # enqueued into queue.db; only the worker process runs it
        assert result.get(blocking=True, timeout=30) == 2
        with database.connection_context():
            assert [t.jti for t in RevokedToken.select()] == ["live-jti"]
            assert LoginFailure.select().count() == 0

        assert stop(proc, timeout=40) == 0
        assert "Traceback" not in log.read_text()
    finally:
        stop(proc, timeout=5)
        database.close()


def test_heartbeat_task_and_thread_write_the_row(tmp_path):
    config = load_config(tmp_path, env={}, testing=True)
    (tmp_path / "secret.key").write_text("x" * 64)
    open_database(config)
    maintenance.heartbeat.call_local()
    first = _beat()
    assert first is not None and first.info["source"] == "task"

    alive = threading.Event()
    thread = maintenance.HeartbeatThread(1, alive.is_set, first_after=0)
    thread.start()
    try:
        alive.set()
        wait_until(lambda: _beat().info.get("source") == "consumer", 10, 0.1, "a beat from the thread")
    finally:
        thread.stop()
    database.close()


def test_heartbeat_thread_withholds_beats_when_consumer_threads_died(tmp_path):
    config = load_config(tmp_path, env={}, testing=True)
    open_database(config)
    thread = maintenance.HeartbeatThread(1, lambda: False, first_after=0)
    thread.start()
    try:
        thread._stop.wait(1.5)
    finally:
        thread.stop()
    assert _beat() is None
    database.close()


def test_consumer_alive_reflects_its_threads():
    from jobs.main import make_consumer

    consumer = make_consumer(1)
    assert consumer_alive(consumer) is False  # created, not started
