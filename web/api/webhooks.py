"""Outbound webhooks: endpoints, the event catalog, the delivery log, redelivery and test events.

Access (lowest role):
| endpoint                                          | role    | why                                                 |
|---------------------------------------------------|---------|-----------------------------------------------------|
| GET /webhooks/events, GET /webhooks, GET /{id}    | MANAGER | where the workspace's data goes; secrets never shown |
| GET /webhooks/{id}/deliveries                     | MANAGER | payloads carry call data (numbers, summaries)       |
| POST, PATCH, DELETE /webhooks, POST .../redeliver | ADMIN   | sending data out of the box is administration        |
| POST /webhooks/trigger                            | ADMIN   | sends a (test) event to every subscribed endpoint    |
"""
from __future__ import annotations

import json

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from appliance import audit, delivery, events, webhooks
from appliance.roles import Role
from appliance.url_policy import UrlPolicy
from data.ai import Event
from data.webhooks import DELIVERY_STATUSES, Delivery, DeliveryAttempt, Webhook
from web.api.common import Schema, UTCDateTime, envelope, page_args_schema, paginate
from web.auth import access, client_ip, current_principal
from web.context import config, secret_box

blp = Blueprint("webhooks", __name__, description="Outbound webhooks and their delivery log")

EVENT_FIELD = dict(validate=validate.OneOf(events.EVENTS))


class CatalogEntrySchema(Schema):
    event = fields.String(required=True)
    description = fields.String(required=True)


class WebhookSchema(Schema):
    id = fields.String(dump_only=True)
    url = fields.String(required=True, validate=validate.Length(min=1, max=2048),
                        metadata={"description": "http(s) URL; link-local and cloud-metadata addresses are refused"})
    events = fields.List(fields.String(**EVENT_FIELD), required=True,
                         validate=validate.Length(min=1, max=len(events.EVENTS)))
    secret = fields.String(validate=validate.Length(min=8, max=256),
                           metadata={"description": "signing secret; generated when absent and shown only in the "
                                                    "response that creates the webhook"})
    description = fields.String(validate=validate.Length(max=500))
    headers = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=64)),
                          values=fields.String(validate=validate.Length(max=2048)),
                          metadata={"description": "sent with every delivery; credentials are shown masked"})
    isActive = fields.Boolean()
    createdAt = UTCDateTime(dump_only=True)
    updatedAt = UTCDateTime(dump_only=True)


class WebhookPatchSchema(WebhookSchema):
    url = fields.String(validate=validate.Length(min=1, max=2048))
    events = fields.List(fields.String(**EVENT_FIELD), validate=validate.Length(min=1, max=len(events.EVENTS)))


class WebhookQuerySchema(page_args_schema(["createdAt", "url"])):
    event = fields.String(**EVENT_FIELD, metadata={"description": "only webhooks subscribed to this event"})
    isActive = fields.Boolean()


class AttemptSchema(Schema):
    number = fields.Integer(required=True)
    startedAt = UTCDateTime(required=True)
    success = fields.Boolean(required=True)
    statusCode = fields.Integer(allow_none=True)
    latencyMs = fields.Integer(required=True)
    error = fields.String(allow_none=True)
    responseExcerpt = fields.String(allow_none=True)
    nextRetryAt = UTCDateTime(allow_none=True)


class DeliverySchema(Schema):
    id = fields.String(required=True)
    webhookId = fields.String(required=True)
    eventId = fields.String(required=True)
    event = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(DELIVERY_STATUSES)})
    attempts = fields.Integer(required=True)
    lastStatusCode = fields.Integer(allow_none=True)
    lastError = fields.String(allow_none=True)
    lastLatencyMs = fields.Integer(allow_none=True)
    responseExcerpt = fields.String(allow_none=True)
    nextRetryAt = UTCDateTime(allow_none=True)
    deliveredAt = UTCDateTime(allow_none=True)
    createdAt = UTCDateTime()
    updatedAt = UTCDateTime()
    payload = fields.Dict(metadata={"description": "the body delivered: {id, event, timestamp, data}"})
    attemptLog = fields.List(fields.Nested(AttemptSchema))


class DeliveryQuerySchema(page_args_schema(["createdAt", "updatedAt"])):
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))
    event = fields.String(**EVENT_FIELD)


class TriggerSchema(Schema):
    event = fields.String(required=True, **EVENT_FIELD)
    data = fields.Dict(load_default=dict)


class TriggeredDeliverySchema(Schema):
    id = fields.String(required=True)
    webhookId = fields.String(required=True)


class TriggerResultSchema(Schema):
    eventId = fields.String(required=True)
    event = fields.String(required=True)
    deliveries = fields.List(fields.Nested(TriggeredDeliverySchema), required=True)


def _policy() -> UrlPolicy:
    return UrlPolicy.parse(config().webhooks.blocked_networks)


def _org() -> str:
    return current_principal().organization.id


def _audit(action: str, target: str | None, **details) -> None:
    principal = current_principal()
    audit.record(action, organization_id=principal.organization.id, user_id=principal.user_id,
                 target_type="webhook", target_id=target, ip=client_ip(), **details)


def _kick(delivery_ids: list[str]) -> None:
    from jobs import delivery as delivery_jobs

    for delivery_id in delivery_ids:
        delivery_jobs.deliver(delivery_id)


def _attempt_view(row: DeliveryAttempt) -> dict:
    return {"number": row.number, "startedAt": row.started_at, "success": row.success,
            "statusCode": row.status_code, "latencyMs": row.latency_ms, "error": row.error,
            "responseExcerpt": row.response_excerpt, "nextRetryAt": row.next_retry_at}


def delivery_view(row: Delivery, attempts: list[DeliveryAttempt]) -> dict:
    """The API's picture of one delivery, with its payload and attempt log."""
    return {"id": row.id, "webhookId": row.webhook_id, "eventId": row.event_id, "event": row.event_type,
            "status": row.status, "attempts": row.attempts, "lastStatusCode": row.last_status_code,
            "lastError": row.last_error, "lastLatencyMs": row.last_latency_ms, "responseExcerpt": row.response_excerpt,
            "nextRetryAt": row.next_attempt_at if row.status == "pending" else None, "deliveredAt": row.delivered_at,
            "createdAt": row.created_at, "updatedAt": row.updated_at,
            "payload": json.loads(webhooks.payload(row.event)),
            "attemptLog": [_attempt_view(a) for a in attempts]}


def _views(rows: list[Delivery]) -> list[dict]:
    log: dict[str, list[DeliveryAttempt]] = {}
    if rows:
        for attempt in DeliveryAttempt.select().where(DeliveryAttempt.delivery.in_([r.id for r in rows])).order_by(
                DeliveryAttempt.number):
            log.setdefault(attempt.delivery_id, []).append(attempt)
    return [delivery_view(r, log.get(r.id, [])) for r in rows]


@blp.route("/webhooks/events")
class WebhookEvents(MethodView):
    @access(Role.MANAGER)
    @blp.response(200, envelope(CatalogEntrySchema, many=True))
    def get(self):
        """The event catalog: what a webhook may subscribe to."""
        return {"data": webhooks.catalog()}


@blp.route("/webhooks")
class Webhooks(MethodView):
    @access(Role.MANAGER)
    @blp.arguments(WebhookQuerySchema, location="query")
    @blp.response(200, envelope(WebhookSchema, many=True, paginated=True))
    def get(self, args):
        """Webhooks of the workspace (filters: event, isActive)."""
        query = webhooks.query(_org(), args.get("event"))
        if "isActive" in args:
            query = query.where(Webhook.is_active == args["isActive"])
        rows, page = paginate(query, args, {"createdAt": Webhook.created_at, "url": Webhook.url}, "createdAt")
        return {"data": [webhooks.view(r, secret_box()) for r in rows], "pagination": page}

    @access(Role.ADMIN)
    @blp.arguments(WebhookSchema)
    @blp.response(201, envelope(WebhookSchema))
    def post(self, body):
        """Add a webhook; the response shows its secret, the only time it is shown."""
        row, secret = webhooks.create(_org(), body, secret_box(), _policy())
        _audit("webhook.created", row.id)
        return {"data": webhooks.view(row, secret_box(), secret),
                "message": "Keep the secret: it signs every delivery and is not shown again"}


@blp.route("/webhooks/<string:webhook_id>")
class WebhooksById(MethodView):
    @access(Role.MANAGER)
    @blp.response(200, envelope(WebhookSchema))
    def get(self, webhook_id):
        """One webhook (its secret masked)."""
        return {"data": webhooks.view(webhooks.get(_org(), webhook_id), secret_box())}

    @access(Role.ADMIN)
    @blp.arguments(WebhookPatchSchema)
    @blp.response(200, envelope(WebhookSchema))
    def patch(self, body, webhook_id):
        """Change a webhook: URL, events, headers, description, isActive, or a new secret."""
        row = webhooks.update(webhooks.get(_org(), webhook_id), body, secret_box(), _policy())
        _audit("webhook.updated", row.id, fields=sorted(body))
        return {"data": webhooks.view(row, secret_box())}

    @access(Role.ADMIN)
    @blp.response(200, envelope(None))
    def delete(self, webhook_id):
        """Remove a webhook and its delivery log."""
        webhooks.get(_org(), webhook_id).delete_instance()
        _audit("webhook.deleted", webhook_id)
        return {"data": None, "message": "Webhook deleted"}


@blp.route("/webhooks/<string:webhook_id>/deliveries")
class WebhookDeliveries(MethodView):
    @access(Role.MANAGER)
    @blp.arguments(DeliveryQuerySchema, location="query")
    @blp.response(200, envelope(DeliverySchema, many=True, paginated=True))
    def get(self, args, webhook_id):
        """The delivery log of a webhook: payloads, attempts, status codes, latency, next retry."""
        hook = webhooks.get(_org(), webhook_id)
        query = Delivery.select(Delivery, Event).join(Event).where(Delivery.webhook == hook.id)
        for key, column in (("status", Delivery.status), ("event", Delivery.event_type)):
            if key in args:
                query = query.where(column == args[key])
        rows, page = paginate(query, args, {"createdAt": Delivery.created_at, "updatedAt": Delivery.updated_at},
                              "createdAt")
        return {"data": _views(rows), "pagination": page}


@blp.route("/webhooks/<string:webhook_id>/deliveries/<string:delivery_id>/redeliver")
class WebhookRedeliver(MethodView):
    @access(Role.ADMIN)
    @blp.response(202, envelope(DeliverySchema))
    def post(self, webhook_id, delivery_id):
        """Send a delivery again now, with a fresh set of retries."""
        row = delivery.get(webhooks.get(_org(), webhook_id), delivery_id)
        delivery.redeliver(row)
        _audit("webhook.redelivered", webhook_id, deliveryId=delivery_id)
        _kick([row.id])
        row = Delivery.select(Delivery, Event).join(Event).where(Delivery.id == row.id).get()
        return {"data": _views([row])[0], "message": "Redelivery queued"}


@blp.route("/webhooks/trigger")
class WebhookTrigger(MethodView):
    @access(Role.ADMIN)
    @blp.arguments(TriggerSchema)
    @blp.response(202, envelope(TriggerResultSchema))
    def post(self, body):
        """Send a test event to every active webhook of the workspace subscribed to it."""
        event, made = delivery.trigger(_org(), body["event"], body["data"])
        _audit("webhook.triggered", None, event=body["event"], eventId=event.id)
        _kick([d.id for d in made])
        return {"data": {"eventId": event.id, "event": event.event,
                         "deliveries": [{"id": d.id, "webhookId": d.webhook_id} for d in made]},
                "message": f"Test event sent to {len(made)} webhook(s)"}
