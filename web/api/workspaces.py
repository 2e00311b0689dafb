"""Workspaces (organizations) of the caller, and API keys of the current one."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from appliance import accounts, audit
from appliance.errors import NotFound
from appliance.roles import Role
from data.models import ApiKey
from web.api.common import Schema, UTCDateTime, envelope, page_args_schema, paginate
from web.api.users import ROLE_FIELD, caller_user
from web.auth import access, client_ip, current_principal

blp = Blueprint("workspaces", __name__, description="Workspaces and API keys")


class WorkspaceSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    industry = fields.String(allow_none=True)
    role = fields.String(required=True)
    isCurrent = fields.Boolean()
    createdAt = UTCDateTime()


class WorkspaceCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    industry = fields.String(validate=validate.Length(max=100), allow_none=True)


class ApiKeySchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    prefix = fields.String(required=True)
    role = fields.String(required=True)
    createdAt = UTCDateTime()
    lastUsedAt = UTCDateTime(allow_none=True)
    key = fields.String(metadata={"description": "The key itself: shown only in the response that creates it"})


class ApiKeyCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(load_default=Role.ADMIN.value, **ROLE_FIELD)


ApiKeyQuerySchema = page_args_schema(["createdAt", "name"])


def workspace_view(membership, current_id: str) -> dict:
    org = membership.organization
    return {"id": org.id, "name": org.name, "industry": org.industry, "role": membership.role,
            "isCurrent": org.id == current_id, "createdAt": org.created_at}


def key_view(key: ApiKey, raw: str | None = None) -> dict:
    view = {"id": key.id, "name": key.name, "prefix": key.prefix, "role": key.role,
            "createdAt": key.created_at, "lastUsedAt": key.last_used_at}
    if raw:
        view["key"] = raw
    return view


@blp.route("/workspaces")
class Workspaces(MethodView):
    @access(Role.VIEWER)
    @blp.response(200, envelope(WorkspaceSchema, many=True))
    def get(self):
        """Your organizations and your role in each (switch with the X-Workspace-Id header)."""
        user, _ = caller_user()
        current = current_principal().organization.id
        return {"data": [workspace_view(m, current) for m in accounts.user_workspaces(user)]}

    @access(Role.VIEWER)
    @blp.arguments(WorkspaceCreateSchema)
    @blp.response(201, envelope(WorkspaceSchema))
    def post(self, body):
        """Create an organization; you become its OWNER."""
        user, _ = caller_user()
        org = accounts.create_organization(body["name"], user, body.get("industry"))
        membership = accounts.membership_of(user.id, org.id)
        return {"data": workspace_view(membership, current_principal().organization.id)}


@blp.route("/api-keys")
class ApiKeys(MethodView):
    @access(Role.ADMIN)
    @blp.arguments(ApiKeyQuerySchema, location="query")
    @blp.response(200, envelope(ApiKeySchema, many=True, paginated=True))
    def get(self, args):
        """API keys of the workspace (never the keys themselves)."""
        query = ApiKey.select().where(ApiKey.organization == current_principal().organization)
        rows, page = paginate(query, args, {"createdAt": ApiKey.created_at, "name": ApiKey.name}, "createdAt")
        return {"data": [key_view(k) for k in rows], "pagination": page}

    @access(Role.ADMIN)
    @blp.arguments(ApiKeyCreateSchema)
    @blp.response(201, envelope(ApiKeySchema))
    def post(self, body):
        """Create an API key; the key is shown in this response only."""
        principal = current_principal()
        key, raw = accounts.create_api_key(principal.organization, body["name"], Role(body["role"]),
                                           principal.user, principal.role)
        audit.record("api_key.created", organization_id=principal.organization.id, user_id=principal.user_id,
                     target_type="api_key", target_id=key.id, ip=client_ip())
        return {"data": key_view(key, raw), "message": "Store this key now: it is not shown again"}


@blp.route("/api-keys/<string:key_id>")
class ApiKeysById(MethodView):
    @access(Role.ADMIN)
    @blp.response(200, envelope(None))
    def delete(self, key_id):
        """Revoke an API key."""
        principal = current_principal()
        deleted = ApiKey.delete().where((ApiKey.id == key_id)
                                        & (ApiKey.organization == principal.organization)).execute()
        if not deleted:
            raise NotFound("API key not found")
        audit.record("api_key.deleted", organization_id=principal.organization.id, user_id=principal.user_id,
                     target_type="api_key", target_id=key_id, ip=client_ip())
        return {"data": None, "message": "API key revoked"}
