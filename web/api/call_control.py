"""Control of live calls: place a call now, hang up, transfer. The voice process does the work (queue ``voice``).

Access (lowest role):
| endpoint                          | role  | why                                                           |
|-----------------------------------|-------|---------------------------------------------------------------|
| POST /calls/dial                  | AGENT | agents place calls for the workspace (click-to-call, callbacks) |
| POST /calls/{id}/hangup, transfer | AGENT | agents take over or end the calls they watch live              |
"""
from __future__ import annotations

import logging

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from appliance import calls
from appliance.errors import Conflict, ValidationError
from appliance.roles import Role
from data.ai import Assistant, PhoneNumber
from jobs import voice_tasks
from web.api.common import Schema, envelope
from web.auth import access, current_principal

logger = logging.getLogger(__name__)

blp = Blueprint("call_control", __name__, description="Call control: dial, hang up, transfer")

_TARGET = validate.Regexp(r"^(?:sips?:[^\s<>\"]+|\+?[0-9*#]{2,32})$",
                          error="must be a phone number, an extension or a SIP URI")


class DialSchema(Schema):
    to = fields.String(required=True, validate=_TARGET, metadata={"description": "number, extension or SIP URI"})
    assistantId = fields.String(allow_none=True, validate=validate.Length(max=64))
    agentId = fields.String(allow_none=True, validate=validate.Length(max=64))
    campaignId = fields.String(allow_none=True, validate=validate.Length(max=64))
    leadId = fields.String(allow_none=True, validate=validate.Length(max=64))
    phoneNumberId = fields.String(allow_none=True, validate=validate.Length(max=64),
                                  metadata={"description": "the workspace number to call from (default: its first)"})


class TransferSchema(Schema):
    to = fields.String(required=True, validate=_TARGET, metadata={"description": "extension, number or SIP URI"})


class AcceptedSchema(Schema):
    callId = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "queued: the voice agent acts on it shortly"})


def _owned(model, org_id: str, value: str | None, name: str) -> None:
    if value and model.get_or_none((model.id == value) & (model.organization == org_id)) is None:
        raise ValidationError(f"{name}: not found in this workspace", {name: ["not found"]})


def _caller_id(org_id: str, phone_number_id: str | None) -> str:
    query = PhoneNumber.select().where((PhoneNumber.organization == org_id) & PhoneNumber.is_active)
    if phone_number_id:
        query = query.where(PhoneNumber.id == phone_number_id)
    row = query.order_by(PhoneNumber.created_at).first()
    return row.number if row else "anonymous"


@blp.route("/calls/dial")
class Dial(MethodView):
    @access(Role.AGENT)
    @blp.arguments(DialSchema)
    @blp.response(202, envelope(AcceptedSchema))
    def post(self, body):
        """Place a call now: the record is opened at once and the voice agent dials (202 with its id)."""
        org_id = current_principal().organization.id
        _owned(Assistant, org_id, body.get("assistantId"), "assistantId")
        _owned(PhoneNumber, org_id, body.get("phoneNumberId"), "phoneNumberId")
        call_id = calls.start_call(org_id, direction="outbound", to_number=body["to"],
                                   from_number=_caller_id(org_id, body.get("phoneNumberId")),
                                   assistant_id=body.get("assistantId"), phone_number_id=body.get("phoneNumberId"),
                                   agent_id=body.get("agentId"), campaign_id=body.get("campaignId"),
                                   lead_id=body.get("leadId"))
        voice_tasks.originate(call_id, org_id, body["to"], assistant_id=body.get("assistantId"),
                              phone_number_id=body.get("phoneNumberId"))
        return {"data": {"callId": call_id, "status": "queued"}, "message": "Dialing"}


def _live(call_id: str):
    record = calls.get(current_principal().organization.id, call_id)  # another workspace's call is a 404
    if not record.is_live:
        raise Conflict("The call has already ended")
    return record


@blp.route("/calls/<string:call_id>/hangup")
class Hangup(MethodView):
    @access(Role.AGENT)
    @blp.response(202, envelope(AcceptedSchema))
    def post(self, call_id):
        """Hang up a live call."""
        record = _live(call_id)
        voice_tasks.hangup(record.id)
        return {"data": {"callId": record.id, "status": "queued"}, "message": "Hanging up"}


@blp.route("/calls/<string:call_id>/transfer")
class Transfer(MethodView):
    @access(Role.AGENT)
    @blp.arguments(TransferSchema)
    @blp.response(202, envelope(AcceptedSchema))
    def post(self, body, call_id):
        """Transfer a live call to an extension, a number or a SIP URI."""
        record = _live(call_id)
        voice_tasks.transfer(record.id, body["to"])
        return {"data": {"callId": record.id, "status": "queued"}, "message": "Transferring"}
