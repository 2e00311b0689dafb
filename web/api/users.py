"""Users of a workspace: the caller's own profile, and (ADMIN) members, invitations, roles."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError as SchemaError, fields, validate, validates_schema

from appliance import accounts, audit
from appliance.errors import Forbidden
from appliance.roles import Role
from data.models import Membership, User
from web.api.common import Schema, UTCDateTime, envelope, page_args_schema, paginate
from web.auth import access, client_ip, current_principal
from web.context import config

blp = Blueprint("users", __name__, description="Users, roles and invitations")

ROLE_FIELD = dict(validate=validate.OneOf(Role.names()))


class UserSchema(Schema):
    id = fields.String(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": Role.names()})
    organizationId = fields.String(required=True)
    language = fields.String()
    notificationPrefs = fields.Dict()
    isActive = fields.Boolean()
    hasPassword = fields.Boolean()
    createdAt = UTCDateTime()
    lastLoginAt = UTCDateTime(allow_none=True)


def user_view(user: User, membership: Membership) -> dict:
    """The API's picture of a user within one organization."""
    return {"id": user.id, "email": user.email, "name": user.name, "role": membership.role,
            "organizationId": membership.organization_id, "language": user.language,
            "notificationPrefs": user.notification_prefs or {}, "isActive": membership.is_active,
            "hasPassword": user.password_hash is not None, "createdAt": user.created_at,
            "lastLoginAt": user.last_login_at}


def caller_user() -> tuple[User, Membership]:
    """The calling user and their membership; API keys have no user."""
    principal = current_principal()
    if principal.user is None:
        raise Forbidden("This needs a user's sign-in; an API key acts for the workspace, not a user")
    return principal.user, principal.membership or accounts.membership_of(principal.user.id,
                                                                           principal.organization.id)


class MePatchSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    language = fields.String(validate=validate.Length(min=2, max=16))
    notificationPrefs = fields.Dict(keys=fields.String(validate=validate.Length(max=64)), values=fields.Raw())
    password = fields.String(validate=validate.Length(min=1, max=1024),
                             metadata={"description": "new password; needs currentPassword; signs out every session"})
    currentPassword = fields.String(validate=validate.Length(max=1024))

    @validates_schema
    def _password_needs_current(self, data, **kwargs):
        if "password" in data and "currentPassword" not in data:
            raise SchemaError("give currentPassword to change your password", "currentPassword")


class UserQuerySchema(page_args_schema(["createdAt", "name", "email", "role"])):
    role = fields.String(**ROLE_FIELD)
    search = fields.String(validate=validate.Length(max=200))


class InviteSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(load_default=Role.AGENT.value, **ROLE_FIELD)


class InvitedSchema(Schema):
    user = fields.Nested(UserSchema, required=True)
    invitationSent = fields.Boolean(required=True)
    inviteUrl = fields.String(required=True)
    expiresAt = UTCDateTime(required=True)


class MemberPatchSchema(Schema):
    role = fields.String(**ROLE_FIELD)
    isActive = fields.Boolean()

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise SchemaError("give role or isActive")


@blp.route("/users/me")
class Me(MethodView):
    @access(Role.VIEWER)
    @blp.response(200, envelope(UserSchema))
    def get(self):
        """The signed-in user."""
        return {"data": user_view(*caller_user())}

    @access(Role.VIEWER)
    @blp.arguments(MePatchSchema)
    @blp.response(200, envelope(UserSchema))
    def patch(self, body):
        """Change your name, language, notification preferences or password."""
        user, membership = caller_user()
        accounts.update_profile(user, body)
        if "password" not in body:
            return {"data": user_view(user, membership)}
        audit.record("user.password_changed", organization_id=membership.organization_id, user_id=user.id,
                     target_type="user", target_id=user.id, ip=client_ip())
        return {"data": user_view(user, membership), "message": "Password changed: every session was signed out"}


@blp.route("/users")
class Users(MethodView):
    @access(Role.ADMIN)
    @blp.arguments(UserQuerySchema, location="query")
    @blp.response(200, envelope(UserSchema, many=True, paginated=True))
    def get(self, args):
        """Members of the workspace (filters: role, search)."""
        org = current_principal().organization
        where = Membership.organization == org
        if args.get("role"):
            where &= Membership.role == args["role"]
        count_query = Membership.select().where(where)
        if args.get("search"):
            term = args["search"].strip()
            where &= User.name.contains(term) | User.email.contains(term)
            count_query = None
        query = Membership.select(Membership, User).join(User).where(where)
        rows, page = paginate(query, args, {"createdAt": Membership.created_at, "name": User.name,
                                            "email": User.email, "role": Membership.role}, "createdAt",
                              count_query=count_query)
        return {"data": [user_view(m.user, m) for m in rows], "pagination": page}

    @access(Role.ADMIN)
    @blp.arguments(InviteSchema)
    @blp.response(201, envelope(InvitedSchema))
    def post(self, body):
        """Invite a user by email: they get a one-time link to set their password."""
        principal = current_principal()
        inv, raw, user = accounts.invite(principal.organization, body["email"], body["name"], Role(body["role"]),
                                         principal.user, principal.role, config().auth)
        audit.record("user.invited", organization_id=principal.organization.id, user_id=principal.user_id,
                     target_type="user", target_id=user.id, ip=client_ip(), role=body["role"])
        base = config().web.public_url.rstrip("/") or request.host_url.rstrip("/")
        membership = accounts.membership_of(user.id, principal.organization.id)
        return {"data": {"user": user_view(user, membership), "invitationSent": False,
                         "inviteUrl": f"{base}/invite/{raw}", "expiresAt": inv.expires_at},
                "message": "No mail server is configured: give the invite link to the user yourself"}


@blp.route("/users/<string:user_id>")
class UsersById(MethodView):
    @access(Role.ADMIN)
    @blp.response(200, envelope(UserSchema))
    def get(self, user_id):
        """One member of the workspace."""
        member = accounts.membership_of(user_id, current_principal().organization.id)
        return {"data": user_view(member.user, member)}

    @access(Role.ADMIN)
    @blp.arguments(MemberPatchSchema)
    @blp.response(200, envelope(UserSchema))
    def patch(self, body, user_id):
        """Change a member's role or deactivate them (a workspace keeps an OWNER)."""
        principal = current_principal()
        member = accounts.update_member(principal.organization.id, user_id, principal.role,
                                        role=body.get("role"), is_active=body.get("isActive"))
        audit.record("user.updated", organization_id=principal.organization.id, user_id=principal.user_id,
                     target_type="user", target_id=user_id, ip=client_ip(), **body)
        return {"data": user_view(member.user, member)}

    @access(Role.ADMIN)
    @blp.response(200, envelope(None))
    def delete(self, user_id):
        """Remove a member from the workspace."""
        principal = current_principal()
        accounts.remove_member(principal.organization.id, user_id, principal.role, principal.user_id, client_ip())
        return {"data": None, "message": "User removed"}
