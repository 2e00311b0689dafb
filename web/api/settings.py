"""Workspace settings (secrets are write-only: shown masked)."""
from __future__ import annotations

import zoneinfo

import phonenumbers
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError as SchemaError, fields, validate

from appliance import audit
from appliance.roles import Role
from appliance.settings import get_settings, update_settings
from web.api.common import Schema, envelope
from web.auth import access, client_ip, current_principal
from web.context import secret_box

blp = Blueprint("settings", __name__, description="Workspace settings")


def _timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise SchemaError("not a known IANA time zone (e.g. Europe/Berlin)") from exc


def _region(value: str) -> None:
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise SchemaError("not an ISO 3166 country code with a phone numbering plan (e.g. US, DE)")


class SipSettingsSchema(Schema):
    server = fields.String(allow_none=True, validate=validate.Length(max=253))
    port = fields.Integer(validate=validate.Range(min=1, max=65535))
    transport = fields.String(validate=validate.OneOf(["udp", "tcp", "tls"]))
    username = fields.String(allow_none=True, validate=validate.Length(max=128))
    password = fields.String(allow_none=True, validate=validate.Length(max=256),
                             metadata={"description": "write-only: shown masked"})


class LlmSettingsSchema(Schema):
    endpoint = fields.Url(allow_none=True, schemes={"http", "https"}, require_tld=False)
    model = fields.String(allow_none=True, validate=validate.Length(max=200))
    apiKey = fields.String(allow_none=True, validate=validate.Length(max=512),
                           metadata={"description": "write-only: shown masked"})


class SettingsSchema(Schema):
    timezone = fields.String(validate=_timezone)
    locale = fields.String(validate=validate.Regexp(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"))
    defaultRegion = fields.String(validate=_region)
    recordingEnabled = fields.Boolean()
    retentionDays = fields.Integer(validate=validate.Range(min=1, max=36500))
    defaultAssistantId = fields.String(allow_none=True, validate=validate.Length(max=64))
    transferTarget = fields.String(allow_none=True, validate=validate.Length(max=200))
    sip = fields.Nested(SipSettingsSchema)
    llm = fields.Nested(LlmSettingsSchema)


@blp.route("/settings")
class Settings(MethodView):
    @access(Role.ADMIN)
    @blp.response(200, envelope(SettingsSchema))
    def get(self):
        """The workspace's settings (secrets masked)."""
        return {"data": get_settings(current_principal().organization.id, secret_box())}

    @access(Role.ADMIN)
    @blp.arguments(SettingsSchema)
    @blp.response(200, envelope(SettingsSchema))
    def put(self, body):
        """Change settings; fields left out keep their value, a secret set to null is cleared."""
        principal = current_principal()
        result = update_settings(principal.organization.id, body, secret_box())
        audit.record("settings.updated", organization_id=principal.organization.id, user_id=principal.user_id,
                     ip=client_ip(), fields=sorted(body))
        return {"data": result}
