"""Assistants: the AI personas that answer calls.

Access (lowest role):
| endpoint                      | role    | why                                                            |
|-------------------------------|---------|----------------------------------------------------------------|
| GET /assistants, GET /{id}    | VIEWER  | reading the configuration reveals no secret                    |
| POST, PATCH, DELETE           | MANAGER | changes what callers hear: a business decision, not an admin one |
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from appliance import assistants, audit
from appliance.business_hours import AFTER_HOURS_ACTIONS, DAYS
from appliance.roles import Role
from data.ai import Assistant
from web.api.common import Schema, UTCDateTime, envelope, page_args_schema, paginate
from web.auth import access, client_ip, current_principal
from web.context import secret_box

blp = Blueprint("assistants", __name__, description="AI assistants")

HHMM = validate.Regexp(r"^([01]?\d|2[0-3]):[0-5]\d$", error="use HH:MM (24-hour)")
LANGUAGE = validate.Regexp(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", error="use a language code such as en or en-US")
TONES = ["professional", "friendly", "casual", "formal"]
STYLES = ["concise", "balanced", "detailed"]


class DaySpanSchema(Schema):
    open = fields.String(required=True, validate=HHMM)
    close = fields.String(required=True, validate=HHMM)


BusinessHoursSchema = type("BusinessHoursSchema", (Schema,), {
    day: fields.Nested(DaySpanSchema, allow_none=True) for day in DAYS})
BusinessHoursSchema.__doc__ = "Opening hours per weekday in the workspace's time zone; a missing/null day is closed."


class VoiceSchema(Schema):
    engine = fields.String(validate=validate.OneOf(["piper"]))
    voiceId = fields.String(allow_none=True, validate=validate.Length(max=128))


class AsrSchema(Schema):
    engine = fields.String(validate=validate.OneOf(["vosk", "pocketsphinx"]))
    model = fields.String(allow_none=True, validate=validate.Length(max=128))


class TransferRulesSchema(Schema):
    confidenceThreshold = fields.Float(validate=validate.Range(min=0, max=100),
                                       metadata={"description": "percent; answers below it count as unsure"})
    maxDuration = fields.Integer(validate=validate.Range(min=0, max=86400),
                                 metadata={"description": "seconds; 0 = no limit"})
    transferOnRequest = fields.Boolean()
    languages = fields.List(fields.String(validate=LANGUAGE), validate=validate.Length(max=50),
                            metadata={"description": "languages served besides `language`; callers in any other "
                                                        "language are handed to a human"})
    lowConfidenceTurns = fields.Integer(validate=validate.Range(min=1, max=20))


class SafetyRulesSchema(Schema):
    forbiddenTopics = fields.List(fields.String(validate=validate.Length(min=1, max=100)),
                                  validate=validate.Length(max=100))
    requireDisclaimers = fields.Boolean()
    disclaimer = fields.String(validate=validate.Length(max=1000))


class AssistantSchema(Schema):
    id = fields.String(dump_only=True)
    organizationId = fields.String(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    language = fields.String(validate=LANGUAGE)
    voice = fields.Nested(VoiceSchema)
    asr = fields.Nested(AsrSchema)
    greetingMessage = fields.String(validate=validate.Length(max=1000))
    closingMessage = fields.String(validate=validate.Length(max=1000))
    tone = fields.String(validate=validate.OneOf(TONES))
    speakingStyle = fields.String(validate=validate.OneOf(STYLES))
    transferRules = fields.Nested(TransferRulesSchema)
    transferDestination = fields.String(allow_none=True, validate=validate.Length(max=200),
                                        metadata={"description": "SIP URI or extension a transfer goes to"})
    safetyRules = fields.Nested(SafetyRulesSchema)
    enableSentiment = fields.Boolean()
    enableIntent = fields.Boolean()
    bookingEnabled = fields.Boolean()
    businessHours = fields.Nested(BusinessHoursSchema)
    afterHoursAction = fields.String(validate=validate.OneOf(AFTER_HOURS_ACTIONS))
    appointmentDurationMinutes = fields.Integer(validate=validate.Range(min=5, max=480))
    isActive = fields.Boolean()
    createdAt = UTCDateTime(dump_only=True, allow_none=True)
    updatedAt = UTCDateTime(dump_only=True, allow_none=True)


class AssistantPatchSchema(AssistantSchema):
    name = fields.String(validate=validate.Length(min=1, max=100))


class AssistantQuerySchema(page_args_schema(["createdAt", "name"])):
    search = fields.String(validate=validate.Length(max=200))
    isActive = fields.Boolean()


def _audit(action: str, assistant_id: str) -> None:
    principal = current_principal()
    audit.record(action, organization_id=principal.organization.id, user_id=principal.user_id,
                 target_type="assistant", target_id=assistant_id, ip=client_ip())


@blp.route("/assistants")
class Assistants(MethodView):
    @access(Role.VIEWER)
    @blp.arguments(AssistantQuerySchema, location="query")
    @blp.response(200, envelope(AssistantSchema, many=True, paginated=True))
    def get(self, args):
        """Assistants of the workspace (filters: search, isActive)."""
        query = Assistant.select().where(Assistant.organization == current_principal().organization)
        if args.get("search"):
            query = query.where(Assistant.name.contains(args["search"].strip()))
        if "isActive" in args:
            query = query.where(Assistant.is_active == args["isActive"])
        rows, page = paginate(query, args, {"createdAt": Assistant.created_at, "name": Assistant.name}, "createdAt")
        return {"data": [assistants.view(r) for r in rows], "pagination": page}

    @access(Role.MANAGER)
    @blp.arguments(AssistantSchema)
    @blp.response(201, envelope(AssistantSchema))
    def post(self, body):
        """Create an assistant; fields left out take sensible defaults."""
        row = assistants.create(current_principal().organization.id, body)
        _audit("assistant.created", row.id)
        return {"data": assistants.view(row)}


@blp.route("/assistants/<string:assistant_id>")
class AssistantsById(MethodView):
    @access(Role.VIEWER)
    @blp.response(200, envelope(AssistantSchema))
    def get(self, assistant_id):
        """One assistant."""
        return {"data": assistants.view(assistants.get(current_principal().organization.id, assistant_id))}

    @access(Role.MANAGER)
    @blp.arguments(AssistantPatchSchema)
    @blp.response(200, envelope(AssistantSchema))
    def patch(self, body, assistant_id):
        """Change an assistant; nested rules are merged, businessHours replaced whole."""
        row = assistants.get(current_principal().organization.id, assistant_id)
        assistants.update(row, body)
        _audit("assistant.updated", row.id)
        return {"data": assistants.view(row)}

    @access(Role.MANAGER)
    @blp.response(200, envelope(None))
    def delete(self, assistant_id):
        """Delete an assistant; phone numbers that used it are left without one."""
        row = assistants.get(current_principal().organization.id, assistant_id)
        assistants.delete(row, secret_box())
        _audit("assistant.deleted", assistant_id)
        return {"data": None, "message": "Assistant deleted"}
