"""The delivery engine in-process: outbox fan-out, retries with backoff, give-up, timeouts that delay nobody else,
leases that survive an abandoned attempt, redelivery. Real database, real dispatcher threads, real receivers."""
from __future__ import annotations

import datetime as dt
import random
import time

import pytest

from appliance import accounts, delivery, events, webhooks
from appliance.config import WebhooksConfig
from appliance.datadir import open_database
from appliance.security import SecretBox
from appliance.url_policy import UrlPolicy
from data.ai import Event
from data.base import utcnow
from data.db import database
from data.webhooks import Delivery, DeliveryAttempt
from jobs.delivery import Dispatcher
from tests.conftest import make_config
from tests.processes import wait_until
from tests.webhook_receiver import Receiver, verify_signature

FAST = {"timeout_seconds": 1.0, "retry_first_seconds": 0.05, "retry_factor": 2.0, "max_attempts": 4,
        "poll_seconds": 0.05, "concurrency": 8, "per_endpoint": 2}


class World:
    """A migrated data directory with two organizations, and a dispatcher to run against it."""

    def __init__(self, tmp_path, **settings):
        self.config = make_config(tmp_path, webhooks={**FAST, **settings})
        open_database(self.config)
        self.box = SecretBox(self.config.secret_key())
        self.policy = UrlPolicy.parse(self.config.webhooks.blocked_networks)
        with database.connection_context():
            self.org = self._org("one")
            self.other = self._org("two")
        self.dispatchers: list[Dispatcher] = []

    def _org(self, name: str) -> str:
        user = accounts.create_user(f"{name}@example.com", None, name)
        return accounts.create_organization(f"Org {name}", user).id

    def webhook(self, url: str, names=("call.ended",), org: str | None = None, **body) -> tuple[str, str]:
        with database.connection_context():
            row, secret = webhooks.create(org or self.org, {"url": url, "events": list(names), **body}, self.box,
                                          self.policy)
        return row.id, secret

    def emit(self, name: str = "call.ended", count: int = 1, org: str | None = None) -> list[str]:
        with database.connection_context(), database.atomic():
            return [events.emit(name, {"n": i}, org or self.org).id for i in range(count)]

    def dispatcher(self, policy: UrlPolicy | None = None) -> Dispatcher:
        made = Dispatcher(self.config.webhooks, self.box, policy or self.policy)
        made.start()
        self.dispatchers.append(made)
        return made

    def deliveries(self, **where) -> list[Delivery]:
        with database.connection_context():
            query = Delivery.select()
            for key, value in where.items():
                query = query.where(getattr(Delivery, key) == value)
            return list(query.order_by(Delivery.created_at))

    def attempts(self, delivery_id: str) -> list[DeliveryAttempt]:
        with database.connection_context():
            return list(DeliveryAttempt.select().where(DeliveryAttempt.delivery == delivery_id)
                        .order_by(DeliveryAttempt.number))

    def close(self):
        for made in self.dispatchers:
            made.stop(timeout=5)
        database.close()


@pytest.fixture
def world(tmp_path):
    made = World(tmp_path)
    yield made
    made.close()


def test_outbox_events_reach_their_subscribers_once(world):
    with Receiver() as ended, Receiver() as booked, Receiver() as foreign:
        ended_id, secret = world.webhook(ended.url)
        world.webhook(booked.url, ["appointment.booked"])
        world.webhook(foreign.url, org=world.other)
        sent = world.emit(count=3) + world.emit("appointment.booked")
        world.dispatcher()
        got = ended.wait_for(3, 10)
        assert len(booked.wait_for(1, 10)) == 1
        time.sleep(0.3)  # anything extra or misrouted would arrive within a few polls
        assert ended.count() == 3 and booked.count() == 1 and foreign.count() == 0
    assert sorted(r.headers["X-Webhook-Id"] for r in got) == sorted(sent[:3])
    assert all(verify_signature(secret, r.body, r.headers["X-Webhook-Signature"]) for r in got)
    assert {d.status for d in world.deliveries()} == {"delivered"} and len(world.deliveries()) == 4
    with database.connection_context():
        assert Event.select().where(Event.dispatched_at.is_null()).count() == 0


def test_fan_out_twice_makes_no_second_delivery(world):
    world.webhook("http://127.0.0.1:9/x")
    world.emit(count=5)
    with database.connection_context():
        assert delivery.fan_out() == 5
        Event.update(dispatched_at=None).execute()  # as if the first run's mark was lost
        assert delivery.fan_out() == 5
        assert delivery.fan_out() == 0
    assert len(world.deliveries()) == 5


def test_a_receiver_failing_twice_gets_retries_with_growing_delays(world):
    with Receiver(fail_first=2, fail_status=500) as receiver:
        world.webhook(receiver.url)
        world.emit()
        world.dispatcher()
        got = receiver.wait_for(3, 10)
        wait_until(lambda: world.deliveries(status="delivered"), 5, 0.02, "the delivery to be recorded")
    [row] = world.deliveries()
    assert row.attempts == 3 and row.last_status_code == 200 and row.delivered_at and row.next_attempt_at is None
    log = world.attempts(row.id)
    assert [(a.number, a.success, a.status_code) for a in log] == [(1, False, 500), (2, False, 500), (3, True, 200)]
    assert log[0].next_retry_at and log[1].next_retry_at and log[2].next_retry_at is None
    gaps = [b.at - a.at for a, b in zip(got, got[1:])]
    assert gaps[0] >= 0.05 * 0.8 and gaps[1] >= 0.1 * 0.8, gaps
    assert len({r.body for r in got}) == 1 and [r.headers["X-Webhook-Attempt"] for r in got] == ["1", "2", "3"]


def test_a_delivery_that_never_succeeds_is_marked_failed_after_max_attempts(world):
    with Receiver(status=503) as receiver:
        world.webhook(receiver.url)
        world.emit()
        world.dispatcher()
        wait_until(lambda: world.deliveries(status="failed"), 10, 0.02, "the delivery to fail")
        time.sleep(0.5)
        assert receiver.count() == 4
    [row] = world.deliveries()
    assert row.attempts == 4 and row.next_attempt_at is None and row.last_error == "HTTP 503"
    assert [a.success for a in world.attempts(row.id)] == [False] * 4


def test_a_hanging_receiver_times_out_and_delays_no_one_else(world):
    with Receiver(delay=30) as hanging, Receiver() as healthy:
        world.webhook(hanging.url)
        world.webhook(healthy.url)
        world.emit(count=6)
        started = time.monotonic()
        world.dispatcher()
        assert len(healthy.wait_for(6, 5)) == 6
        healthy_done = time.monotonic() - started
        assert healthy_done < 0.5, f"the healthy receiver waited {healthy_done:.2f} s behind the hanging one"
        time.sleep(0.3)  # several polls, still before the first timeout
        assert hanging.count() == 2  # per_endpoint: a hanging receiver holds two senders at most
        hanging_id = hanging.wait_for(1, 2)[0].headers["X-Webhook-Delivery"]
        wait_until(lambda: world.attempts(hanging_id), 5, 0.05, "the timeout to be recorded")
    attempt = world.attempts(hanging_id)[0]
    assert attempt.success is False and attempt.status_code is None and attempt.error == "timed out after 1 s"
    assert 900 <= attempt.latency_ms < 2500


def test_an_abandoned_claim_is_retaken_after_its_lease_and_the_late_result_is_ignored(world):
    with Receiver() as receiver:
        world.webhook(receiver.url)
        world.emit()
        with database.connection_context():
            delivery.fan_out()
            [row] = world.deliveries()
            [stale] = delivery.claim(row.webhook_id, 5, lease_for=60)  # a worker that then dies
            assert delivery.claim(row.webhook_id, 5, lease_for=60) == []  # held: nobody else takes it
            # The lease runs out (moved back in time instead of waiting a minute).
            Delivery.update(next_attempt_at=utcnow() - dt.timedelta(seconds=1)).execute()
        world.dispatcher()
        receiver.wait_for(1, 10)
        wait_until(lambda: world.deliveries(status="delivered"), 5, 0.02, "the retaken delivery")
        with database.connection_context():
            late = delivery.send(stale, world.config.webhooks, world.box, world.policy)
            assert delivery.record(stale, late, world.config.webhooks, utcnow()) == "delivered"
        assert receiver.count() == 2  # at least once: the late sender did reach the receiver
    [done] = world.deliveries()
    assert done.status == "delivered" and done.attempts == 1 and done.lease is None
    assert len(world.attempts(done.id)) == 1  # the late attempt had the same number: logged once


def test_redelivery_starts_a_fresh_set_of_retries(world):
    with Receiver(fail_first=4, fail_status=500) as receiver:
        world.webhook(receiver.url)
        world.emit()
        made = world.dispatcher()
        wait_until(lambda: world.deliveries(status="failed"), 10, 0.02, "the delivery to fail")
        with database.connection_context():
            delivery.redeliver(world.deliveries()[0])
        made.kick()
        wait_until(lambda: world.deliveries(status="delivered"), 10, 0.02, "the redelivery")
        assert receiver.count() == 5
    [row] = world.deliveries()
    assert row.attempts == 5 and row.cycle_attempts == 1
    assert [a.success for a in world.attempts(row.id)] == [False] * 4 + [True]


def test_the_url_policy_is_applied_again_at_delivery_time(world):
    with Receiver() as receiver:
        world.webhook(receiver.url.replace("127.0.0.1", "localhost"))
        world.emit()
        world.dispatcher(policy=UrlPolicy.parse("127.0.0.0/8,::1/128"))  # loopback blocked after saving
        wait_until(lambda: world.deliveries()[0].attempts if world.deliveries() else 0, 5, 0.02, "an attempt")
        assert receiver.count() == 0
    [row] = world.deliveries()
    assert row.status == "pending" and row.last_error.startswith("refused by the URL policy: 127.0.0.1 is in")


def test_inactive_webhooks_and_other_events_get_nothing(world):
    with Receiver() as receiver:
        wid, _ = world.webhook(receiver.url, ["call.ended"], isActive=False)
        world.emit(count=2)
        world.emit("call.started")
        world.dispatcher()
        time.sleep(0.4)
        assert receiver.count() == 0
    assert world.deliveries() == []


def test_default_retry_schedule_first_within_a_minute_eight_tries_about_a_day():
    settings = WebhooksConfig()
    delays = delivery.schedule(settings)
    assert settings.max_attempts >= 8 and len(delays) == settings.max_attempts - 1
    assert delays[0] * 1.2 <= 60
    assert 18 * 3600 <= sum(delays) <= 30 * 3600, sum(delays) / 3600
    assert all(b > a for a, b in zip(delays, delays[1:]))
    rng = random.Random(7)
    samples = [delivery.retry_delay(1, settings, rng) for _ in range(500)]
    assert 0.8 * 30 <= min(samples) < 0.85 * 30 and 1.15 * 30 < max(samples) <= 1.2 * 30
    assert len({round(s, 3) for s in samples}) > 400  # jittered, not one value


def test_an_attempt_for_a_webhook_deleted_meanwhile_is_dropped_quietly(world):
    with Receiver() as receiver:
        wid, _ = world.webhook(receiver.url)
        world.emit()
        with database.connection_context():
            delivery.fan_out()
            [held] = delivery.claim(wid, 1, lease_for=60)
            delivery.get(held.delivery.webhook, held.delivery.id).webhook.delete_instance()
            result = delivery.send(held, world.config.webhooks, world.box, world.policy)
            assert result.ok and delivery.record(held, result, world.config.webhooks, utcnow()) == "deleted"
    assert world.deliveries() == []


def test_tasks_deliver_in_place_without_a_dispatcher_and_the_sweeper_revives_one(world):
    from jobs import delivery as tasks
    from jobs.queue import bind_queues

    bind_queues(world.config)  # immediate mode: tasks run here, as in the web process of the tests
    with Receiver() as receiver:
        world.webhook(receiver.url)
        world.emit(count=3)
        tasks.dispatch()
        assert receiver.count() == 3 and len(world.deliveries(status="delivered")) == 3
        try:
            tasks.sweep()
            first = tasks.process_dispatcher.get()
            assert first is not None and first.alive()
            first.stop(timeout=5)  # its thread is gone, as if it had died
            tasks.sweep()
            second = tasks.process_dispatcher.get()
            assert second is not first and second.alive()
            world.emit()
            tasks.dispatch()  # with a dispatcher in the process, a kick: it delivers within a poll
            assert len(receiver.wait_for(4, 5)) == 4
        finally:
            tasks.process_dispatcher.stop()
    assert tasks.process_dispatcher.get() is None
