"""Inbound webhooks: named receive endpoints, and ``POST /hooks/{token}`` where other systems post events in.

Access (lowest role):
| endpoint                                  | role    | why                                                      |
|-------------------------------------------|---------|----------------------------------------------------------|
| GET /inbound-webhooks, GET /{id}/events   | MANAGER | what other systems send in (payloads carry customer data) |
| POST, DELETE /inbound-webhooks            | ADMIN   | opening a door into the box is administration             |
| POST /hooks/{token} (outside /api/v1)     | public  | each request is signed with the endpoint's secret (HMAC) |
"""
from __future__ import annotations

from flask import Blueprint as FlaskBlueprint, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError as SchemaError, fields, validate

from appliance import audit, webhooks
from appliance.errors import PayloadTooLarge, ValidationError
from appliance.roles import Role
from data.webhooks import INBOUND_STATUSES, MAPPINGS, InboundEvent, InboundWebhook
from web.api.common import Schema, UTCDateTime, envelope, page_args_schema, paginate
from web.auth import PUBLIC, access, client_ip, current_principal
from web.context import config, secret_box

blp = Blueprint("inbound_webhooks", __name__, description="Inbound webhooks: endpoints other systems post to")
hooks_bp = FlaskBlueprint("hooks", __name__)


class InboundWebhookSchema(Schema):
    id = fields.String(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    mapping = fields.String(load_default="none", validate=validate.OneOf(MAPPINGS),
                            metadata={"description": "what a payload becomes: nothing (recorded only), a call "
                                                     "(the POST /calls shape) or a lead"})
    url = fields.String(dump_only=True)
    path = fields.String(dump_only=True)
    secret = fields.String(dump_only=True, metadata={"description": "shown only in the response that creates it"})
    isActive = fields.Boolean(dump_only=True)
    lastReceivedAt = UTCDateTime(dump_only=True, allow_none=True)
    createdAt = UTCDateTime(dump_only=True)


class InboundEventSchema(Schema):
    id = fields.String(required=True)
    hookId = fields.String(required=True)
    externalId = fields.String(allow_none=True)
    sentAt = UTCDateTime()
    receivedAt = UTCDateTime()
    status = fields.String(metadata={"enum": list(INBOUND_STATUSES)})
    mappedType = fields.String(allow_none=True)
    mappedId = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    payload = fields.Raw()


class InboundEventQuerySchema(page_args_schema(["receivedAt"])):
    status = fields.String(validate=validate.OneOf(INBOUND_STATUSES))


def _org() -> str:
    return current_principal().organization.id


def _base_url() -> str:
    return config().web.public_url.rstrip("/") or request.host_url.rstrip("/")


def _audit(action: str, target: str) -> None:
    principal = current_principal()
    audit.record(action, organization_id=principal.organization.id, user_id=principal.user_id,
                 target_type="inbound_webhook", target_id=target, ip=client_ip())


@blp.route("/inbound-webhooks")
class InboundWebhooks(MethodView):
    @access(Role.MANAGER)
    @blp.arguments(page_args_schema(["createdAt", "name"]), location="query")
    @blp.response(200, envelope(InboundWebhookSchema, many=True, paginated=True))
    def get(self, args):
        """Receive endpoints of the workspace (secrets masked)."""
        query = InboundWebhook.select().where(InboundWebhook.organization == _org())
        rows, page = paginate(query, args, {"createdAt": InboundWebhook.created_at, "name": InboundWebhook.name},
                              "createdAt")
        return {"data": [webhooks.inbound_view(r, _base_url()) for r in rows], "pagination": page}

    @access(Role.ADMIN)
    @blp.arguments(InboundWebhookSchema)
    @blp.response(201, envelope(InboundWebhookSchema))
    def post(self, body):
        """Open a receive endpoint ``/hooks/{token}``; the response shows its secret, the only time it is shown."""
        row, secret = webhooks.create_inbound(_org(), body["name"], body["mapping"], secret_box())
        _audit("inbound_webhook.created", row.id)
        return {"data": webhooks.inbound_view(row, _base_url(), secret),
                "message": "Sign each request with this secret; it is not shown again"}


@blp.route("/inbound-webhooks/<string:hook_id>")
class InboundWebhooksById(MethodView):
    @access(Role.ADMIN)
    @blp.response(200, envelope(None))
    def delete(self, hook_id):
        """Close a receive endpoint (its URL answers 404 from now on) and drop what it received."""
        webhooks.get_inbound(_org(), hook_id).delete_instance()
        _audit("inbound_webhook.deleted", hook_id)
        return {"data": None, "message": "Inbound webhook deleted"}


@blp.route("/inbound-webhooks/<string:hook_id>/events")
class InboundWebhookEvents(MethodView):
    @access(Role.MANAGER)
    @blp.arguments(InboundEventQuerySchema, location="query")
    @blp.response(200, envelope(InboundEventSchema, many=True, paginated=True))
    def get(self, args, hook_id):
        """What an endpoint received: payloads, and what each became."""
        hook = webhooks.get_inbound(_org(), hook_id)
        query = InboundEvent.select().where(InboundEvent.hook == hook.id)
        if "status" in args:
            query = query.where(InboundEvent.status == args["status"])
        rows, page = paginate(query, args, {"receivedAt": InboundEvent.received_at}, "receivedAt")
        return {"data": [webhooks.inbound_event_view(r) for r in rows], "pagination": page}


def _call_mapper():
    """``POST /calls`` bodies become CDRs through the calls API's own schema and service (when present)."""
    try:
        from appliance import calls
        from web.api.calls_schemas import CallCreateSchema
    except ImportError:
        return None

    def to_call(org_id: str, document: dict) -> str:
        try:
            body = CallCreateSchema().load(document)
        except SchemaError as exc:
            raise ValidationError("the payload is not in the POST /calls shape", exc.messages) from exc
        return calls.create_external(org_id, body).id

    return to_call


def _mappers() -> dict:
    to_call = _call_mapper()
    return {"call": to_call} if to_call else {}


def _body() -> bytes:
    limit = webhooks.MAX_INBOUND_BYTES
    if (request.content_length or 0) > limit:
        raise PayloadTooLarge(f"An inbound webhook body may be at most {limit // 1024} KB")
    return request.stream.read(limit + 1)


@hooks_bp.route("/hooks/<string:token>", methods=["POST"])
@access(PUBLIC)
def receive(token: str):
    """An external system posts an event in; signed with the endpoint's secret, recorded, mapped where it fits."""
    row = webhooks.receive(token, request.headers, _body(), secret_box(), _mappers())
    return {"success": True, "data": {"id": row.id, "status": row.status, "mappedType": row.mapped_type,
                                      "mappedId": row.mapped_id, "error": row.error}}
