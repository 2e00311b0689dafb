"""Phone numbers: SIP accounts on the PBX, their assistant, business hours and after-hours action.

Access (lowest role):
| endpoint                           | role    | why                                                              |
|------------------------------------|---------|------------------------------------------------------------------|
| GET /phone-numbers, GET /{id}      | VIEWER  | numbers and registration state are shown on the dashboard; the SIP password never is |
| POST, PATCH, DELETE                | ADMIN   | SIP credentials and PBX wiring are telephony administration      |
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from appliance import audit, phone_numbers
from appliance.business_hours import AFTER_HOURS_ACTIONS
from appliance.roles import Role
from data.ai import PhoneNumber
from web.api.assistants import BusinessHoursSchema
from web.api.common import Schema, UTCDateTime, envelope, page_args_schema, paginate
from web.auth import access, client_ip, current_principal
from web.context import secret_box

blp = Blueprint("phone_numbers", __name__, description="Phone numbers (SIP accounts)")


class SipAccountSchema(Schema):
    server = fields.String(allow_none=True, validate=validate.Length(max=253),
                           metadata={"description": "PBX host name or address"})
    port = fields.Integer(validate=validate.Range(min=1, max=65535))
    username = fields.String(allow_none=True, validate=validate.Length(max=128))
    password = fields.String(allow_none=True, validate=validate.Length(max=256),
                             metadata={"description": "write-only: shown masked; null clears it"})
    transport = fields.String(validate=validate.OneOf(phone_numbers.TRANSPORTS))


class PhoneNumberSchema(Schema):
    id = fields.String(dump_only=True)
    number = fields.String(required=True, validate=validate.Length(min=2, max=32),
                           metadata={"description": "stored as E.164 (or a short PBX extension)"})
    displayName = fields.String(validate=validate.Length(max=100))
    sip = fields.Nested(SipAccountSchema)
    assistantId = fields.String(allow_none=True, validate=validate.Length(max=64))
    businessHours = fields.Nested(BusinessHoursSchema)
    afterHoursAction = fields.String(validate=validate.OneOf(AFTER_HOURS_ACTIONS))
    afterHoursDestination = fields.String(allow_none=True, validate=validate.Length(max=200),
                                          metadata={"description": "where afterHoursAction=transfer goes"})
    isActive = fields.Boolean()
    registrationStatus = fields.String(dump_only=True, metadata={"enum": list(phone_numbers.REGISTRATION_STATUSES)})
    registrationError = fields.String(dump_only=True, allow_none=True)
    registeredAt = UTCDateTime(dump_only=True, allow_none=True)
    createdAt = UTCDateTime(dump_only=True)
    updatedAt = UTCDateTime(dump_only=True)


class PhoneNumberPatchSchema(PhoneNumberSchema):
    number = fields.String(validate=validate.Length(min=2, max=32))


class PhoneNumberQuerySchema(page_args_schema(["createdAt", "number", "displayName"])):
    assistantId = fields.String(validate=validate.Length(max=64))
    isActive = fields.Boolean()
    registrationStatus = fields.String(validate=validate.OneOf(phone_numbers.REGISTRATION_STATUSES))
    search = fields.String(validate=validate.Length(max=100))


def _audit(action: str, target: str) -> None:
    principal = current_principal()
    audit.record(action, organization_id=principal.organization.id, user_id=principal.user_id,
                 target_type="phone_number", target_id=target, ip=client_ip())


def _filtered(args: dict):
    query = PhoneNumber.select().where(PhoneNumber.organization == current_principal().organization)
    for key, column in (("assistantId", PhoneNumber.assistant), ("isActive", PhoneNumber.is_active),
                        ("registrationStatus", PhoneNumber.registration_status)):
        if key in args:
            query = query.where(column == args[key])
    if args.get("search"):
        term = args["search"].strip()
        query = query.where(PhoneNumber.number.contains(term) | PhoneNumber.display_name.contains(term))
    return query


SORTS = {"createdAt": PhoneNumber.created_at, "number": PhoneNumber.number, "displayName": PhoneNumber.display_name}


@blp.route("/phone-numbers")
class PhoneNumbers(MethodView):
    @access(Role.VIEWER)
    @blp.arguments(PhoneNumberQuerySchema, location="query")
    @blp.response(200, envelope(PhoneNumberSchema, many=True, paginated=True))
    def get(self, args):
        """Phone numbers of the workspace (filters: assistantId, isActive, registrationStatus, search)."""
        rows, page = paginate(_filtered(args), args, SORTS, "createdAt")
        return {"data": [phone_numbers.view(r) for r in rows], "pagination": page}

    @access(Role.ADMIN)
    @blp.arguments(PhoneNumberSchema)
    @blp.response(201, envelope(PhoneNumberSchema))
    def post(self, body):
        """Add a number (a SIP account on the PBX); the voice agent registers it."""
        row = phone_numbers.create(current_principal().organization.id, body, secret_box())
        _audit("phone_number.created", row.id)
        return {"data": phone_numbers.view(row)}


@blp.route("/phone-numbers/<string:number_id>")
class PhoneNumbersById(MethodView):
    @access(Role.VIEWER)
    @blp.response(200, envelope(PhoneNumberSchema))
    def get(self, number_id):
        """One phone number."""
        return {"data": phone_numbers.view(phone_numbers.get(current_principal().organization.id, number_id))}

    @access(Role.ADMIN)
    @blp.arguments(PhoneNumberPatchSchema)
    @blp.response(200, envelope(PhoneNumberSchema))
    def patch(self, body, number_id):
        """Change a number; SIP changes make the voice agent register it again."""
        row = phone_numbers.get(current_principal().organization.id, number_id)
        phone_numbers.update(row, body, secret_box())
        _audit("phone_number.updated", row.id)
        return {"data": phone_numbers.view(row)}

    @access(Role.ADMIN)
    @blp.response(200, envelope(None))
    def delete(self, number_id):
        """Remove a number; the voice agent unregisters it."""
        phone_numbers.get(current_principal().organization.id, number_id).delete_instance()
        _audit("phone_number.deleted", number_id)
        return {"data": None, "message": "Phone number deleted"}
