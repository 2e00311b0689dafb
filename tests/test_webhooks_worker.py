"""A real ``callbox worker`` delivers a burst of 1,000 events, is SIGKILLed in the middle, and after a restart
every event has reached the receiver at least once: none lost."""
from __future__ import annotations

import os
import signal

import pytest

from appliance import accounts, events, webhooks
from appliance.cli import main
from appliance.config import load_config
from appliance.datadir import open_database
from appliance.security import SecretBox
from appliance.url_policy import UrlPolicy
from data.db import database
from data.webhooks import Delivery
from tests.processes import start_callbox, stop, wait_until
from tests.webhook_receiver import Receiver, verify_signature

pytestmark = pytest.mark.slow

BURST = 1000
# Short timeouts so a delivery held by the killed worker is due again within seconds (lease = 2 x timeout + 5).
WORKER_ENV = {"CALLBOX_WEBHOOKS_TIMEOUT_SECONDS": "2", "CALLBOX_WEBHOOKS_RETRY_FIRST_SECONDS": "1",
              "CALLBOX_WEBHOOKS_POLL_SECONDS": "0.05", "CALLBOX_LOG_LEVEL": "INFO"}


def _seed(data_dir, url: str) -> tuple[str, list[str]]:
    config = load_config(data_dir, env={})
    open_database(config)
    box = SecretBox(config.secret_key())
    with database.connection_context():
        user = accounts.create_user("burst@example.com", None, "Burst")
        org = accounts.create_organization("Burst Co", user).id
        _, secret = webhooks.create(org, {"url": url, "events": ["call.ended"]}, box,
                                    UrlPolicy.parse(config.webhooks.blocked_networks))
        with database.atomic():
            ids = [events.emit("call.ended", {"n": n}, org).id for n in range(BURST)]
    return secret, ids


def _undelivered() -> int:
    with database.connection_context():
        return Delivery.select().where(Delivery.status != "delivered").count()


def test_sigkill_mid_burst_loses_nothing(tmp_path):
    data_dir = tmp_path / "data"
    assert main(["init", "--data-dir", str(data_dir)]) == 0
    log = tmp_path / "worker.log"
    # A little slowness per request keeps the burst going for a few seconds, so the kill lands in its middle.
    with Receiver(delay=0.01) as receiver:
        secret, ids = _seed(data_dir, receiver.url)
        args = ["worker", "--data-dir", str(data_dir), "--workers", "2"]
        first = start_callbox(args, log, WORKER_ENV)
        try:
            wait_until(lambda: receiver.count() >= 150, 60, 0.01, "the first deliveries of the burst")
            os.kill(first.pid, signal.SIGKILL)
            first.wait(10)
            at_kill = receiver.count()
            assert at_kill < BURST, "the burst finished before the kill; nothing was tested"
            second = start_callbox(args, log, WORKER_ENV)
            try:
                wait_until(lambda: {r.headers["X-Webhook-Id"] for r in receiver.wait_for(0, 0)} >= set(ids), 90,
                           0.2, "every event of the burst to arrive")
                wait_until(lambda: _undelivered() == 0, 30, 0.2, "every delivery to be recorded")
            finally:
                assert stop(second, timeout=40) == 0
        finally:
            stop(first, timeout=5)
        got = receiver.wait_for(0, 0)
    assert at_kill < BURST <= len(got)
    assert all(verify_signature(secret, r.body, r.headers["X-Webhook-Signature"]) for r in got[:50])
    text = log.read_text()
    assert "Traceback" not in text and text.count("webhook dispatcher started") == 2
    database.close()
