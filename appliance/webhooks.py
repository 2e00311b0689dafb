"""Webhooks: outbound endpoints (CRUD, secrets, custom headers, signing) and inbound endpoints (``/hooks/{token}``).

Outbound: each delivery is ``POST url`` with the body ``{"id", "event", "timestamp", "data"}`` and
``X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>``, so the seed document's verification
snippet works unchanged. Secrets (and custom headers, which often carry credentials) are sealed at rest.

Inbound: a sender signs ``"{X-Webhook-Timestamp}.{raw body}"`` with the endpoint's secret. The timestamp must
be within five minutes of now and each signature is accepted once, so a captured request cannot be replayed:
inside the window its signature is already recorded, outside it the timestamp is stale.
"""
from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import re
from typing import Any, Callable

from peewee import OP, Expression, IntegrityError, Value

from appliance import events
from appliance.errors import (BadRequest, Conflict, DuplicateEntry, NotFound, PayloadTooLarge, Unauthorized,
                              ValidationError)
from appliance.security import SecretBox, hmac_sha256_hex, mask, random_token
from appliance.url_policy import UrlPolicy, check_url
from data.ai import Event
from data.base import isoformat, utcnow
from data.db import database
from data.webhooks import InboundEvent, InboundWebhook, Webhook

logger = logging.getLogger(__name__)

CATALOG = {
    "call.started": "A call began ringing (inbound or outbound)",
    "call.answered": "A call was answered by the assistant or an agent",
    "call.ended": "A call ended; the CDR is final",
    "call.transferred": "A call was transferred to a person or another number",
    "call.recording.available": "A call's recording is stored and can be fetched",
    "call.transcript.available": "A call's transcript is ready",
    "recording.uploaded": "An audio file was uploaded or imported",
    "transcription.completed": "A transcription finished",
    "transcription.failed": "A transcription failed",
    "contact.created": "A contact was created",
    "contact.updated": "A contact was changed",
    "lead.updated": "A lead's status or details changed",
    "campaign.completed": "A campaign called all of its leads",
    "appointment.booked": "An appointment was booked by the AI or by staff",
    "voicemail.received": "A caller left a voicemail",
}
SECRET_PREFIX = "whsec_"
REPLAY_WINDOW = dt.timedelta(minutes=5)
MAX_INBOUND_BYTES = 1024 * 1024
MAX_HEADERS = 20
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")
_RESERVED = {"host", "content-type", "content-length", "transfer-encoding", "connection", "user-agent"}
_SENSITIVE = re.compile(r"auth|token|key|secret|password|cookie|signature", re.IGNORECASE)
_COLUMNS = {"description": "description", "isActive": "is_active"}


def catalog() -> list[dict]:
    """The events a webhook may subscribe to, with what each means."""
    return [{"event": name, "description": CATALOG[name]} for name in events.EVENTS]


def new_secret() -> str:
    """A signing secret for an endpoint that was not given one."""
    return SECRET_PREFIX + random_token(24)


def sign(secret: str, body: bytes) -> str:
    """The ``X-Webhook-Signature`` value of a body."""
    return "sha256=" + hmac_sha256_hex(secret, body)


def payload(event: Event) -> bytes:
    """The raw body delivered for an event (the same bytes on every attempt)."""
    document = {"id": event.id, "event": event.event, "timestamp": isoformat(event.created_at), "data": event.data}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# -- custom headers ---------------------------------------------------------------------------------------------

def _check_headers(headers: dict[str, Any]) -> dict[str, str]:
    if len(headers) > MAX_HEADERS:
        raise ValidationError(f"headers: at most {MAX_HEADERS}", {"headers": ["too many"]})
    clean = {}
    for name, value in headers.items():
        if not _HEADER_NAME.match(name) or name.lower() in _RESERVED or name.lower().startswith("x-webhook-"):
            raise ValidationError(f"headers: {name!r} cannot be set", {"headers": {name: ["not allowed"]}})
        if not isinstance(value, str) or len(value) > 2048 or any(c in value for c in "\r\n\0"):
            raise ValidationError(f"headers: the value of {name!r} is not valid", {"headers": {name: ["invalid"]}})
        clean[name] = value
    return clean


def open_headers(row: Webhook, box: SecretBox) -> dict[str, str]:
    """The custom headers of a webhook in plain text (for delivery)."""
    return json.loads(box.open(row.headers)) if row.headers else {}


def _masked_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: (mask(v) or "") if _SENSITIVE.search(k) else v for k, v in headers.items()}


def _set_headers(row: Webhook, wanted: dict[str, Any], box: SecretBox) -> None:
    current = open_headers(row, box) if row.headers else {}
    # A masked value sent back unchanged (a UI round trip) keeps the stored one.
    merged = {k: (current.get(k, "") if v == mask("x") else v) for k, v in (wanted or {}).items()}
    clean = _check_headers(merged)
    row.headers = box.seal(json.dumps(clean)) if clean else ""


# -- outbound CRUD ----------------------------------------------------------------------------------------------

def get(org_id: str, webhook_id: str) -> Webhook:
    """One webhook of the organization; ``NotFound`` for another organization's."""
    row = Webhook.get_or_none((Webhook.id == webhook_id) & (Webhook.organization == org_id))
    if row is None:
        raise NotFound("No webhook with this id")
    return row


def query(org_id: str, event: str | None = None):
    """The organization's webhooks, optionally only those subscribed to ``event``."""
    found = Webhook.select().where(Webhook.organization == org_id)
    if event:
        if event not in CATALOG:
            raise ValidationError(f"event: {event!r} is not in the catalog", {"event": ["unknown event"]})
        # The list is stored as JSON text; a catalog name (no LIKE wildcards) appears quoted in it.
        found = found.where(Expression(Webhook.events, OP.ILIKE, Value(f'%"{event}"%', converter=False)))
    return found


def _check_events(names: list[str]) -> list[str]:
    unknown = [n for n in names if n not in CATALOG]
    if unknown or not names:
        message = f"events: {unknown[0]!r} is not in the catalog" if unknown else "events: name at least one"
        raise ValidationError(message, {"events": [message.removeprefix("events: ")]})
    return list(dict.fromkeys(names))


def _apply(row: Webhook, body: dict, box: SecretBox, policy: UrlPolicy) -> None:
    if "url" in body:
        check_url(body["url"], policy)
        row.url = body["url"].strip()
    if "events" in body:
        row.events = _check_events(body["events"])
    for key, column in _COLUMNS.items():
        if key in body:
            setattr(row, column, body[key].strip() if isinstance(body[key], str) else body[key])
    if "headers" in body:
        _set_headers(row, body["headers"] or {}, box)
    if body.get("secret"):
        row.secret = box.seal(body["secret"])


def create(org_id: str, body: dict, box: SecretBox, policy: UrlPolicy) -> tuple[Webhook, str]:
    """A new webhook and its secret in plain text (generated when not given; shown only this once)."""
    secret = body.get("secret") or new_secret()
    row = Webhook(organization=org_id)
    _apply(row, {**body, "secret": secret}, box, policy)
    row.save(force_insert=True)
    logger.info("webhook %s created in %s for %d event(s)", row.id, org_id, len(row.events))
    return row, secret


def update(row: Webhook, body: dict, box: SecretBox, policy: UrlPolicy) -> Webhook:
    """Change a webhook (a new ``secret`` replaces the old one at once)."""
    _apply(row, body, box, policy)
    row.updated_at = utcnow()
    row.save()
    return row


def view(row: Webhook, box: SecretBox, secret: str | None = None) -> dict:
    """The API's picture of a webhook: the secret only when just created, custom credentials masked."""
    return {"id": row.id, "url": row.url, "events": row.events, "description": row.description,
            "headers": _masked_headers(open_headers(row, box)), "isActive": row.is_active,
            "secret": secret or mask(row.secret), "createdAt": row.created_at, "updatedAt": row.updated_at}


# -- inbound endpoints -------------------------------------------------------------------------------------------

def get_inbound(org_id: str, hook_id: str) -> InboundWebhook:
    """One inbound endpoint of the organization; ``NotFound`` for another organization's."""
    row = InboundWebhook.get_or_none((InboundWebhook.id == hook_id) & (InboundWebhook.organization == org_id))
    if row is None:
        raise NotFound("No inbound webhook with this id")
    return row


def create_inbound(org_id: str, name: str, mapping: str, box: SecretBox) -> tuple[InboundWebhook, str]:
    """A new receive endpoint and its secret in plain text (shown only this once)."""
    if not name.strip():
        raise ValidationError("name: give the endpoint a name", {"name": ["blank"]})
    secret = new_secret()
    row = InboundWebhook.create(organization=org_id, name=name.strip(), token=random_token(24),
                                secret=box.seal(secret), mapping=mapping)
    logger.info("inbound webhook %s created in %s", row.id, org_id)
    return row, secret


def inbound_view(row: InboundWebhook, base_url: str, secret: str | None = None) -> dict:
    """The API's picture of an inbound endpoint."""
    return {"id": row.id, "name": row.name, "url": f"{base_url.rstrip('/')}/hooks/{row.token}",
            "path": f"/hooks/{row.token}", "mapping": row.mapping, "isActive": row.is_active,
            "secret": secret or mask(row.secret), "lastReceivedAt": row.last_received_at,
            "createdAt": row.created_at}


def inbound_event_view(row) -> dict:
    """One received payload as the API shows it."""
    try:
        body: Any = json.loads(row.payload)
    except ValueError:
        body = row.payload
    return {"id": row.id, "hookId": row.hook_id, "externalId": row.external_id, "sentAt": row.sent_at,
            "receivedAt": row.received_at, "status": row.status, "mappedType": row.mapped_type,
            "mappedId": row.mapped_id, "error": row.error, "payload": body}


def parse_timestamp(value: str) -> dt.datetime:
    """``X-Webhook-Timestamp``: Unix seconds (or ISO 8601) → naive UTC; ``ValueError`` when neither."""
    text = (value or "").strip()
    if re.fullmatch(r"\d{9,11}(\.\d+)?", text):
        return dt.datetime.fromtimestamp(float(text), dt.timezone.utc).replace(tzinfo=None)
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("a timestamp needs a time zone")
    return parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)


# -- receiving at /hooks/{token} --------------------------------------------------------------------------------

def _verify(hook: InboundWebhook, headers, body: bytes, box: SecretBox) -> tuple[str, dt.datetime]:
    stamp, given = headers.get("X-Webhook-Timestamp", ""), headers.get("X-Webhook-Signature", "")
    if not stamp or not given:
        raise Unauthorized("Sign the request: X-Webhook-Timestamp and X-Webhook-Signature are required")
    expected = hmac_sha256_hex(box.open(hook.secret), stamp.encode("utf-8") + b"." + body)
    if not hmac.compare_digest(expected, given.strip().lower().removeprefix("sha256=")):
        raise Unauthorized("The signature does not match: sign '{X-Webhook-Timestamp}.{raw body}' "
                           "with HMAC-SHA256 and the endpoint's secret")
    try:
        sent_at = parse_timestamp(stamp)
    except ValueError as exc:
        raise Unauthorized("X-Webhook-Timestamp must be Unix seconds") from exc
    if abs(utcnow() - sent_at) > REPLAY_WINDOW:
        raise Unauthorized("X-Webhook-Timestamp is more than 5 minutes away from now: stale or replayed")
    return expected, sent_at


def _record(hook: InboundWebhook, signature: str, sent_at: dt.datetime, external_id: str | None,
            body: bytes) -> InboundEvent:
    try:
        with database.atomic():
            row = InboundEvent.create(organization=hook.organization_id, hook=hook, signature=signature,
                                      external_id=(external_id or "").strip()[:200] or None, sent_at=sent_at,
                                      payload=body.decode("utf-8", errors="replace"), status="unmapped")
            InboundWebhook.update(last_received_at=row.received_at).where(InboundWebhook.id == hook.id).execute()
    except IntegrityError as exc:
        raise DuplicateEntry("This request was already received: replay refused") from exc
    return row


Mapper = Callable[[str, dict], str]
"""Turns a payload into a resource of the organization (a CDR, a lead) and returns its id; raises
``ValidationError`` when the payload does not fit."""


def _apply_mapping(row: InboundEvent, hook: InboundWebhook, document: dict, mappers: dict[str, Mapper]) -> None:
    mapper = mappers.get(hook.mapping)
    if mapper is None:
        row.error = f"turning payloads into {hook.mapping}s is not available in this version"
        return
    # Either the resource's own shape, or our own webhook envelope {id, event, timestamp, data} around it.
    fields = document["data"] if isinstance(document.get("data"), dict) and "event" in document else document
    try:
        row.mapped_id = mapper(hook.organization_id, fields)
    except (ValidationError, Conflict) as exc:
        row.status, row.error = "failed", exc.message
        return
    row.status, row.mapped_type = "mapped", hook.mapping


def _map(row: InboundEvent, hook: InboundWebhook, mappers: dict[str, Mapper]) -> None:
    try:
        document = json.loads(row.payload)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        row.status, row.error = "invalid", "the body is not a JSON object"
        row.save()
        raise BadRequest("The body must be a JSON object (it was recorded as invalid)")
    if hook.mapping != "none":
        _apply_mapping(row, hook, document, mappers)
        row.save()


def receive(token: str, headers, body: bytes, box: SecretBox, mappers: dict[str, Mapper]) -> InboundEvent:
    """Check, record and map one request to ``/hooks/{token}``; raises the API error to answer otherwise."""
    hook = InboundWebhook.get_or_none((InboundWebhook.token == token) & InboundWebhook.is_active)
    if hook is None:
        raise NotFound("No inbound webhook at this address")
    if len(body) > MAX_INBOUND_BYTES:
        raise PayloadTooLarge(f"An inbound webhook body may be at most {MAX_INBOUND_BYTES // 1024} KB")
    signature, sent_at = _verify(hook, headers, body, box)
    row = _record(hook, signature, sent_at, headers.get("X-Webhook-Id"), body)
    _map(row, hook, mappers)
    logger.info("inbound webhook %s received %s (%s)", hook.id, row.id, row.status)
    return row
