"""Users of a workspace: the caller's own profile, and (ADMIN) members, invitations, roles."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from appliance import accounts, audit
from appliance.errors import Forbidden, InvalidCredentials, ValidationError
from appliance.roles import Role
from appliance.security import hash_password, verify_password
from data.base import utcnow
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
    return principal.user, accounts.membership_of(principal.user.id, principal.organization.id)


class MePatchSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    language = fields.String(validate=validate.Length(min=2, max=16))
    notificationPrefs = fields.Dict(keys=fields.String(), values=fields.Raw())
    password = fields.String(validate=validate.Length(max=1024))
    currentPassword = fields.String(validate=validate.Length(max=1024))


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
        if "password" in body:
            if not verify_password(user.password_hash, body.get("currentPassword", "")):
                raise InvalidCredentials("currentPassword is wrong")
            accounts.check_password_strength(body["password"], user.email)
            user.password_hash = hash_password(body["password"])
            accounts.revoke_user_sessions(user.id, "password-changed")
        for key, column in (("name", "name"), ("language", "language"), ("notificationPrefs", "notification_prefs")):
            if key in body:
                setattr(user, column, body[key].strip() if isinstance(body[key], str) else body[key])
        user.updated_at = utcnow()
        user.save()
        return {"data": user_view(user, membership)}


@blp.route("/users")
class Users(MethodView):
    @access(Role.ADMIN)
    @blp.arguments(UserQuerySchema, location="query")
    @blp.response(200, envelope(UserSchema, many=True, paginated=True))
    def get(self, args):
        """Members of the workspace (filters: role, search)."""
        org = current_principal().organization
        query = (Membership.select(Membership, User).join(User).where(Membership.organization == org))
        if args.get("role"):
            query = query.where(Membership.role == args["role"])
        if args.get("search"):
            term = args["search"].strip()
            query = query.where(User.name.contains(term) | User.email.contains(term))
        rows, page = paginate(query, args, {"createdAt": Membership.created_at, "name": User.name,
                                            "email": User.email, "role": Membership.role}, "createdAt")
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
        if not body:
            raise ValidationError("Give role or isActive")
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
        accounts.remove_member(principal.organization.id, user_id, principal.role)
        audit.record("user.removed", organization_id=principal.organization.id, user_id=principal.user_id,
                     target_type="user", target_id=user_id, ip=client_ip())
        return {"data": None, "message": "User removed"}
