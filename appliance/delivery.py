"""Webhook delivery: the events outbox fanned out to subscribed webhooks, each delivery tried until a 2xx.

Everything that must survive a crash lives in the database. Fan-out turns undispatched events into delivery
rows (one per event and subscribed webhook, unique, so running it twice changes nothing) and marks the events
dispatched in the same transaction. A worker *claims* a due delivery by moving its ``next_attempt_at`` to the
end of a lease and stamping a lease token; it records the attempt and the next state only while it still holds
that lease. A worker killed mid-attempt therefore leaves the delivery due again once the lease ends: delivery
is at least once, never lost. Retries back off exponentially with jitter (first within a minute, at least
eight tries over about a day by default), then the delivery is marked failed.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
import secrets
import time
from dataclasses import dataclass, field

from peewee import JOIN

from appliance import events, webhooks
from appliance.config import WebhooksConfig
from appliance.errors import NotFound, ValidationError
from appliance.security import SecretBox
from appliance.url_policy import ConnectionPool, HttpResult, UrlPolicy, post
from data.ai import Event
from data.base import utcnow
from data.db import database
from data.webhooks import Delivery, DeliveryAttempt, Webhook

logger = logging.getLogger(__name__)

FAN_OUT_BATCH = 500
USER_AGENT = "Callbox-Webhooks/1"
JITTER = 0.2


def lease_seconds(settings: WebhooksConfig) -> float:
    """How long a claim holds a delivery: a wait behind one attempt, its own attempt and the name lookup."""
    return settings.timeout_seconds * 3 + 5


def retry_delay(cycle_attempt: int, settings: WebhooksConfig, rng: random.Random | None = None) -> float:
    """Seconds before the retry that follows try ``cycle_attempt`` (1-based): exponential, +-20 % jitter."""
    nominal = settings.retry_first_seconds * settings.retry_factor ** (cycle_attempt - 1)
    return nominal * (rng or random).uniform(1 - JITTER, 1 + JITTER)


def schedule(settings: WebhooksConfig) -> list[float]:
    """The nominal delays between tries (without jitter): ``max_attempts - 1`` of them."""
    return [settings.retry_first_seconds * settings.retry_factor ** n for n in range(settings.max_attempts - 1)]


@contextlib.contextmanager
def connection():
    """A database connection for this thread: the open one if any (a web request's), else one for the block."""
    if database.is_closed():
        with database.connection_context():
            yield
    else:
        yield


# -- fan-out ---------------------------------------------------------------------------------------------------

def _subscribers(org_ids: set[str]) -> dict[str, list[Webhook]]:
    found: dict[str, list[Webhook]] = {}
    for hook in Webhook.select(Webhook.id, Webhook.organization, Webhook.events).where(
            Webhook.organization.in_(list(org_ids)) & Webhook.is_active):
        found.setdefault(hook.organization_id, []).append(hook)
    return found


def _delivery_rows(event: Event, hooks: list[Webhook], now: dt.datetime) -> list[dict]:
    return [{"id": Delivery.id.default(), "organization": event.organization_id, "webhook": hook.id,
             "event": event.id, "event_type": event.event, "next_attempt_at": now, "created_at": now,
             "updated_at": now} for hook in hooks if event.event in hook.events]


def fan_out(limit: int = FAN_OUT_BATCH) -> int:
    """Turn up to ``limit`` undispatched events into deliveries; returns how many events were dispatched."""
    pending = list(Event.select(Event.id, Event.organization, Event.event).where(Event.dispatched_at.is_null())
                   .order_by(Event.created_at, Event.id).limit(limit))
    if not pending:
        return 0
    hooks, now = _subscribers({e.organization_id for e in pending}), utcnow()
    rows = [row for e in pending for row in _delivery_rows(e, hooks.get(e.organization_id, []), now)]
    with database.atomic():
        for start in range(0, len(rows), 100):
            Delivery.insert_many(rows[start:start + 100]).on_conflict_ignore().execute()
        Event.update(dispatched_at=now).where(Event.id.in_([e.id for e in pending])
                                              & Event.dispatched_at.is_null()).execute()
    logger.debug("fanned out %d event(s) into %d delivery(ies)", len(pending), len(rows))
    return len(pending)


def fan_out_event(event: Event) -> list[Delivery]:
    """Deliveries of one event, made now (in the caller's transaction) and the event marked dispatched."""
    now = utcnow()
    rows = _delivery_rows(event, _subscribers({event.organization_id}).get(event.organization_id, []), now)
    if rows:
        Delivery.insert_many(rows).on_conflict_ignore().execute()
    Event.update(dispatched_at=now).where(Event.id == event.id).execute()
    return list(Delivery.select().where(Delivery.event == event.id))


def trigger(org_id: str, event: str, data: dict) -> tuple[Event, list[Delivery]]:
    """A test event to every active webhook of the organization subscribed to it: the event and its deliveries."""
    if event not in webhooks.CATALOG:
        raise ValidationError(f"event: {event!r} is not in the catalog", {"event": ["unknown event"]})
    with database.atomic():
        row = events.emit(event, data, org_id)
        # Fanned out here, not by the worker: a test event is for webhooks only, not for CRM integrations.
        made = fan_out_event(row)
    return row, made


# -- claiming --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    """A delivery this worker holds the lease of, with what it needs to send it."""

    delivery: Delivery
    lease: str
    claimed_at: float = field(default_factory=time.monotonic)


def due_webhooks(limit: int = 1000) -> list[str]:
    """Active webhooks that have deliveries due now."""
    query = (Delivery.select(Delivery.webhook).distinct().join(Webhook)
             .where((Delivery.status == "pending") & (Delivery.next_attempt_at <= utcnow()) & Webhook.is_active)
             .limit(limit))
    return [row.webhook_id for row in query]


def _take(ids: list[str], lease_for: float) -> list[Claim]:
    if not ids:
        return []
    now, token = utcnow(), secrets.token_hex(8)
    Delivery.update(lease=token, next_attempt_at=now + dt.timedelta(seconds=lease_for)).where(
        Delivery.id.in_(ids) & (Delivery.status == "pending") & (Delivery.next_attempt_at <= now)).execute()
    rows = (Delivery.select(Delivery, Webhook, Event).join(Webhook).switch(Delivery).join(Event, JOIN.INNER)
            .where(Delivery.id.in_(ids) & (Delivery.lease == token)).order_by(Delivery.next_attempt_at))
    return [Claim(row, token) for row in rows]


def claim(webhook_id: str, count: int, lease_for: float) -> list[Claim]:
    """Claim up to ``count`` due deliveries of one webhook, oldest due first."""
    ids = [r.id for r in Delivery.select(Delivery.id).where(
        (Delivery.webhook == webhook_id) & (Delivery.status == "pending") & (Delivery.next_attempt_at <= utcnow()))
        .order_by(Delivery.next_attempt_at).limit(count)]
    return _take(ids, lease_for)


def release(claims: list[Claim]) -> None:
    """Give claims back unsent: due again at once, for whichever worker looks next."""
    by_lease: dict[str, list[str]] = {}
    for held in claims:
        by_lease.setdefault(held.lease, []).append(held.delivery.id)
    for lease, ids in by_lease.items():
        Delivery.update(lease=None, next_attempt_at=utcnow()).where(
            Delivery.id.in_(ids) & (Delivery.lease == lease)).execute()


def claim_ids(ids: list[str], lease_for: float) -> list[Claim]:
    """Claim these deliveries if they are due (for a manual redelivery run in place)."""
    return _take(ids, lease_for)


# -- one attempt -----------------------------------------------------------------------------------------------

def request_headers(held: Claim, body: bytes, secret: str, custom: dict[str, str]) -> dict[str, str]:
    """The headers of one attempt: the custom ones, then the contract's (which custom ones cannot override)."""
    delivery = held.delivery
    return {**custom, "Content-Type": "application/json", "User-Agent": USER_AGENT,
            "X-Webhook-Id": delivery.event_id, "X-Webhook-Event": delivery.event_type,
            "X-Webhook-Timestamp": str(int(utcnow().replace(tzinfo=dt.timezone.utc).timestamp())),
            "X-Webhook-Signature": webhooks.sign(secret, body), "X-Webhook-Delivery": delivery.id,
            "X-Webhook-Attempt": str(delivery.attempts + 1)}


def send(held: Claim, settings: WebhooksConfig, box: SecretBox, policy: UrlPolicy,
         pool: ConnectionPool | None = None) -> HttpResult:
    """POST the delivery's event to its webhook (no database access; the caller records the result)."""
    hook = held.delivery.webhook
    body = webhooks.payload(held.delivery.event)
    headers = request_headers(held, body, box.open(hook.secret), webhooks.open_headers(hook, box))
    return post(hook.url, body, headers, settings.timeout_seconds, policy, pool=pool)


def record(held: Claim, result: HttpResult, settings: WebhooksConfig, started: dt.datetime) -> str:
    """Log the attempt and move the delivery on (delivered, retry later, or failed); returns its status."""
    delivery, now = held.delivery, utcnow()
    cycle = delivery.cycle_attempts + 1
    status, next_at = "delivered", None
    if not result.ok:
        status = "failed" if cycle >= settings.max_attempts else "pending"
        next_at = now + dt.timedelta(seconds=retry_delay(cycle, settings)) if status == "pending" else None
    error = result.error or (None if result.ok else f"HTTP {result.status}")
    with database.atomic():
        moved = Delivery.update(
            status=status, attempts=Delivery.attempts + 1, cycle_attempts=cycle, next_attempt_at=next_at,
            lease=None, last_status_code=result.status, last_error=error, last_latency_ms=result.latency_ms,
            response_excerpt=result.excerpt, delivered_at=now if result.ok else Delivery.delivered_at,
            updated_at=now).where((Delivery.id == delivery.id) & (Delivery.lease == held.lease)).execute()
        if not moved and not Delivery.select().where(Delivery.id == delivery.id).exists():
            return "deleted"  # the webhook was removed while this attempt ran
        DeliveryAttempt.insert(delivery=delivery.id, number=delivery.attempts + 1, started_at=started,
                               success=result.ok, status_code=result.status, latency_ms=result.latency_ms,
                               error=error, response_excerpt=result.excerpt,
                               next_retry_at=next_at).on_conflict_ignore().execute()
    if not result.ok:
        logger.info("delivery %s to %s: attempt %d failed (%s)%s", delivery.id, delivery.webhook_id, cycle, error,
                    "; giving up" if status == "failed" else "")
    return status


def attempt(held: Claim, settings: WebhooksConfig, box: SecretBox, policy: UrlPolicy,
            pool: ConnectionPool | None = None) -> HttpResult:
    """Send one claimed delivery and record the outcome (the database is used before and after, not during)."""
    started = utcnow()
    result = send(held, settings, box, policy, pool)
    with connection():
        record(held, result, settings, started)
    return result


def run_due(settings: WebhooksConfig, box: SecretBox, policy: UrlPolicy, limit: int = 100) -> int:
    """Fan out and send what is due, one after another in this thread (no worker running); returns attempts."""
    fan_out()
    done = 0
    for webhook_id in due_webhooks():
        for held in claim(webhook_id, limit - done, lease_seconds(settings)):
            attempt(held, settings, box, policy)
            done += 1
        if done >= limit:
            break
    return done


# -- the delivery log ------------------------------------------------------------------------------------------

def get(webhook: Webhook, delivery_id: str) -> Delivery:
    """One delivery of this webhook; ``NotFound`` otherwise."""
    row = Delivery.get_or_none((Delivery.id == delivery_id) & (Delivery.webhook == webhook.id))
    if row is None:
        raise NotFound("No delivery with this id for this webhook")
    return row


def redeliver(row: Delivery) -> None:
    """Send a delivery again now with a fresh set of retries, whatever its state."""
    Delivery.update(status="pending", cycle_attempts=0, next_attempt_at=utcnow(), lease=None,
                    updated_at=utcnow()).where(Delivery.id == row.id).execute()
    logger.info("delivery %s queued for redelivery", row.id)
