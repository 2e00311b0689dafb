"""Webhook delivery in the worker: a dispatcher thread, a bounded pool of senders, and Huey tasks around them.

The dispatcher polls the events outbox and the due deliveries every ``[webhooks] poll_seconds`` (and at once
when a sender finishes or a task kicks it), claims what is due in batches and hands each attempt to a bounded
thread pool. At most ``per_endpoint`` attempts run against one webhook; one that timed out or answered slowly
gets one at a time and no claims held in advance until it answers promptly again, so a slow or dead receiver
holds a few threads at most and never delays the others. Claims are leases in the database (see
``appliance.delivery``): if the worker dies mid-burst, the next one picks everything up when they run out.

Huey's part: the consumer's startup hook starts the dispatcher; ``sweep`` (every minute) restarts it if its
thread died and otherwise nudges it; ``deliver`` and ``dispatch`` are kicks the web process sends after a
redelivery or a test event. In a process without a dispatcher (tests, immediate mode) they deliver in place.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from huey import crontab
from peewee import DatabaseError

from appliance import delivery
from appliance.config import Config, WebhooksConfig
from appliance.security import SecretBox
from appliance.url_policy import ConnectionPool, UrlPolicy
from jobs import runtime
from jobs.queue import huey

logger = logging.getLogger(__name__)


PREFETCH = 4
"""A healthy endpoint's deliveries are claimed up to this many rounds of ``per_endpoint`` sends ahead."""


@dataclass
class _Endpoint:
    """What the dispatcher knows of one webhook: sends running, claims waiting, whether it answers slowly."""

    inflight: int = 0
    queue: deque = field(default_factory=deque)
    slow: bool = False


class Dispatcher:
    """Claims due deliveries in batches and runs their attempts on a bounded pool, fairly across webhooks."""

    def __init__(self, settings: WebhooksConfig, box: SecretBox, policy: UrlPolicy):
        self.settings, self._box, self._policy = settings, box, policy
        self._lease = delivery.lease_seconds(settings)
        self._lock = threading.Lock()
        self._endpoints: defaultdict[str, _Endpoint] = defaultdict(_Endpoint)
        self._running = 0
        self._ready: set[str] = set()
        self._wake, self._stop = threading.Event(), threading.Event()
        self._scan_now = True
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._http = ConnectionPool(per_host=settings.per_endpoint)

    @classmethod
    def for_config(cls, config: Config) -> "Dispatcher":
        """A dispatcher with the configuration's settings, key and URL policy."""
        return cls(config.webhooks, SecretBox(config.secret_key()), UrlPolicy.parse(config.webhooks.blocked_networks))

    def start(self) -> None:
        """Start the pool and the polling thread."""
        self._stop.clear()
        self._pool = ThreadPoolExecutor(max_workers=max(1, self.settings.concurrency),
                                        thread_name_prefix="webhook-send")
        self._thread = threading.Thread(target=self._run, name="webhook-dispatcher", daemon=True)
        self._thread.start()
        logger.info("webhook dispatcher started (%d senders, %d per endpoint)", self.settings.concurrency,
                    self.settings.per_endpoint)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop claiming, let running attempts finish (bounded by their timeout), give back unsent claims."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._http.close()
        with self._lock:
            unsent = [held for ep in self._endpoints.values() for held in ep.queue]
            self._endpoints.clear()
        if unsent:
            with delivery.connection():
                delivery.release(unsent)
        logger.info("webhook dispatcher stopped")

    def alive(self) -> bool:
        """Whether the polling thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def kick(self) -> None:
        """Look for new events and due deliveries now rather than at the next poll."""
        self._scan_now = True
        self._wake.set()

    def inflight(self) -> int:
        """Attempts running right now."""
        with self._lock:
            return self._running

    def _cap(self, ep: _Endpoint) -> int:
        return 1 if ep.slow else self.settings.per_endpoint

    def _room(self, webhook_id: str) -> int:
        """How many more claims to take for a webhook now (none while enough are queued)."""
        with self._lock:
            ep, cap = self._endpoints[webhook_id], self._cap(self._endpoints[webhook_id])
            if ep.slow:
                return cap - ep.inflight - len(ep.queue)
            return 0 if len(ep.queue) >= cap else cap * PREFETCH - ep.inflight - len(ep.queue)

    def _start_queued(self, webhook_id: str) -> int:
        started = 0
        while True:
            with self._lock:
                ep = self._endpoints[webhook_id]
                if not ep.queue or ep.inflight >= self._cap(ep) or self._running >= self.settings.concurrency:
                    return started
                held = ep.queue.popleft()
                if time.monotonic() - held.claimed_at > self._lease - self.settings.timeout_seconds:
                    continue  # waited too long: its lease may end mid-send; it is due again soon
                ep.inflight += 1
                self._running += 1
            self._pool.submit(self._send, held)
            started += 1

    def run_once(self, full: bool = True) -> int:
        """One round: fan out (when ``full``), claim what is due, start what capacity allows; returns starts."""
        with delivery.connection():
            more = full and delivery.fan_out() >= delivery.FAN_OUT_BATCH
            due = set(delivery.due_webhooks()) if full else set()
            with self._lock:
                queued = {w for w, ep in self._endpoints.items() if ep.queue}
                candidates, self._ready = self._ready | due | queued, set()
            started = 0
            for webhook_id in candidates:
                room = self._room(webhook_id)
                claims = delivery.claim(webhook_id, room, self._lease) if room > 0 else []
                with self._lock:
                    self._endpoints[webhook_id].queue.extend(claims)
                started += self._start_queued(webhook_id)
        if more:
            self.kick()
        return started

    def _settle(self, webhook_id: str, result) -> list[delivery.Claim]:
        """Book a finished send; returns claims to give back when the endpoint just turned slow."""
        with self._lock:
            ep = self._endpoints[webhook_id]
            ep.inflight -= 1
            self._running -= 1
            self._ready.add(webhook_id)
            if result is not None and result.ok and result.latency_ms < self.settings.timeout_seconds * 500:
                ep.slow = False
            elif result is not None and (result.timed_out or result.ok) and not ep.slow:
                ep.slow = True  # timed out or answered late: one send at a time, nothing held in advance
                unsent, ep.queue = list(ep.queue), deque()
                return unsent
        return []

    def _send(self, held: delivery.Claim) -> None:
        webhook_id, result = held.delivery.webhook_id, None
        try:
            result = delivery.attempt(held, self.settings, self._box, self._policy, self._http)
        except Exception:  # one broken attempt must not kill a sender thread; its lease makes it due again
            logger.exception("delivery %s: attempt failed unexpectedly", held.delivery.id)
        finally:
            unsent = self._settle(webhook_id, result)
            if unsent:
                with delivery.connection():
                    delivery.release(unsent)
            self._wake.set()

    def _run(self) -> None:
        next_scan = 0.0
        while not self._stop.is_set():
            full = self._scan_now or time.monotonic() >= next_scan
            if full:
                self._scan_now, next_scan = False, time.monotonic() + self.settings.poll_seconds
            self._wake.clear()
            try:
                self.run_once(full)
            except DatabaseError as exc:  # a locked or unreachable database: try again at the next poll
                logger.warning("webhook dispatcher: database error: %s", exc)
            except Exception:  # never let the loop die silently; the sweeper restarts it if it does
                logger.exception("webhook dispatcher round failed")
            self._wake.wait(max(0.0, next_scan - time.monotonic()))


class _ProcessDispatcher:
    """The dispatcher of this worker process: started by the consumer, absent everywhere else."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._dispatcher: Dispatcher | None = None

    def get(self) -> Dispatcher | None:
        return self._dispatcher

    def ensure_running(self, config: Config) -> Dispatcher:
        """Start the dispatcher, or restart it if its thread died."""
        with self._lock:
            if self._dispatcher is None or not self._dispatcher.alive():
                if self._dispatcher is not None:
                    logger.warning("webhook dispatcher thread was not running; restarting it")
                    self._dispatcher.stop(timeout=1)
                self._dispatcher = Dispatcher.for_config(config)
                self._dispatcher.start()
            return self._dispatcher

    def stop(self) -> None:
        with self._lock:
            if self._dispatcher is not None:
                self._dispatcher.stop()
                self._dispatcher = None


process_dispatcher = _ProcessDispatcher()


@huey.on_startup("webhook-dispatcher")
def start_dispatcher() -> None:
    """Consumer start (called by each worker thread; the first one starts it)."""
    process_dispatcher.ensure_running(runtime.config())


@huey.on_shutdown("webhook-dispatcher")
def stop_dispatcher() -> None:
    """Consumer stop: running attempts finish, nothing new is claimed."""
    process_dispatcher.stop()


def _in_place(ids: list[str] | None = None) -> int:
    config = runtime.config()
    settings, box = config.webhooks, SecretBox(config.secret_key())
    policy = UrlPolicy.parse(settings.blocked_networks)
    with delivery.connection():
        if ids is None:
            return delivery.run_due(settings, box, policy)
        held = delivery.claim_ids(ids, delivery.lease_seconds(settings))
    for claim in held:
        delivery.attempt(claim, settings, box, policy)
    return len(held)


@huey.periodic_task(crontab(minute="*"), expires=120)
def sweep() -> None:
    """Every minute, the safety net: the dispatcher runs (restarted if its thread died) and looks now."""
    process_dispatcher.ensure_running(runtime.config()).kick()


@huey.task()
def deliver(delivery_id: str) -> None:
    """Kick: a delivery was made due now (redelivery, test event). Idempotent: a claimed one is not sent twice."""
    dispatcher = process_dispatcher.get()
    if dispatcher is not None:
        dispatcher.kick()
    else:
        _in_place([delivery_id])


@huey.task()
def dispatch() -> None:
    """Kick: new events are in the outbox. Without a dispatcher in this process, deliver what is due here."""
    dispatcher = process_dispatcher.get()
    if dispatcher is not None:
        dispatcher.kick()
    else:
        _in_place()
