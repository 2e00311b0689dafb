"""Sign-up, sign-in, token refresh and sign-out."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from appliance import accounts, audit
from appliance.errors import Forbidden
from appliance.roles import Role
from web.api.common import Schema, envelope
from web.api.users import ROLE_FIELD, UserSchema, caller_user, user_view
from web.auth import PUBLIC, access, client_ip, current_principal
from web.context import config, signer

blp = Blueprint("auth", __name__, description="Authentication")

EMAIL = dict(required=True, validate=validate.Length(max=254))
PASSWORD = dict(required=True, validate=validate.Length(min=1, max=1024))


class TokensSchema(Schema):
    accessToken = fields.String(required=True)
    refreshToken = fields.String(required=True)
    expiresIn = fields.Integer(required=True)
    tokenType = fields.String(required=True)


class OrganizationSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    industry = fields.String(allow_none=True)


class SignupSchema(Schema):
    email = fields.Email(**EMAIL)
    password = fields.String(**PASSWORD)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    organizationName = fields.String(required=True, validate=validate.Length(min=1, max=200))
    industry = fields.String(validate=validate.Length(max=100), allow_none=True)


class SignedUpSchema(Schema):
    user = fields.Nested(UserSchema, required=True)
    organization = fields.Nested(OrganizationSchema, required=True)
    tokens = fields.Nested(TokensSchema, required=True)


class RegisterSchema(Schema):
    email = fields.Email(**EMAIL)
    password = fields.String(**PASSWORD)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(load_default=Role.AGENT.value, **ROLE_FIELD)


class UserOnlySchema(Schema):
    user = fields.Nested(UserSchema, required=True)


class LoginSchema(Schema):
    email = fields.String(**EMAIL)
    password = fields.String(**PASSWORD)


class LoggedInSchema(Schema):
    user = fields.Nested(UserSchema, required=True)
    token = fields.String(required=True)
    tokens = fields.Nested(TokensSchema, required=True)


class RefreshSchema(Schema):
    refreshToken = fields.String(required=True, validate=validate.Length(min=1, max=512))


class RefreshedSchema(Schema):
    token = fields.String(required=True)
    tokens = fields.Nested(TokensSchema, required=True)


class AcceptInviteSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=512))
    password = fields.String(**PASSWORD)
    name = fields.String(validate=validate.Length(min=1, max=200))


def org_view(org) -> dict:
    return {"id": org.id, "name": org.name, "industry": org.industry}


@blp.route("/auth/signup")
class Signup(MethodView):
    @access(PUBLIC)
    @blp.arguments(SignupSchema)
    @blp.response(201, envelope(SignedUpSchema))
    def post(self, body):
        """Create an account and its own organization."""
        if not config().web.signup_enabled:
            raise Forbidden("Sign-up is disabled on this appliance; ask an administrator for an invitation")
        user, org = accounts.signup(body["email"], body["password"], body["name"], body["organizationName"],
                                    body.get("industry"))
        tokens = accounts.issue_tokens(user, org.id, signer(), config().auth)
        membership = accounts.membership_of(user.id, org.id)
        return {"data": {"user": user_view(user, membership), "organization": org_view(org),
                         "tokens": tokens.as_dict()}}


@blp.route("/auth/register")
class Register(MethodView):
    @access(Role.ADMIN)
    @blp.arguments(RegisterSchema)
    @blp.response(201, envelope(UserOnlySchema))
    def post(self, body):
        """Create a user with a password in your workspace."""
        principal = current_principal()
        user, membership = accounts.register_member(principal.organization, body["email"], body["password"],
                                                    body["name"], Role(body["role"]), principal.role)
        audit.record("user.registered", organization_id=principal.organization.id, user_id=principal.user_id,
                     target_type="user", target_id=user.id, ip=client_ip(), role=body["role"])
        return {"data": {"user": user_view(user, membership)}}


@blp.route("/auth/login")
class Login(MethodView):
    @access(PUBLIC)
    @blp.arguments(LoginSchema)
    @blp.response(200, envelope(LoggedInSchema))
    def post(self, body):
        """Sign in with email and password."""
        user, membership = accounts.authenticate(body["email"], body["password"], client_ip(), config().auth)
        tokens = accounts.issue_tokens(user, membership.organization_id, signer(), config().auth)
        audit.record("auth.login", organization_id=membership.organization_id, user_id=user.id, ip=client_ip())
        return {"data": {"user": user_view(user, membership), "token": tokens.access_token,
                         "tokens": tokens.as_dict()}}


@blp.route("/auth/refresh")
class Refresh(MethodView):
    @access(PUBLIC)
    @blp.arguments(RefreshSchema)
    @blp.response(200, envelope(RefreshedSchema))
    def post(self, body):
        """Trade a refresh token for a new access token (the refresh token rotates)."""
        tokens = accounts.refresh(body["refreshToken"], signer(), config().auth)
        return {"data": {"token": tokens.access_token, "tokens": tokens.as_dict()}}


@blp.route("/auth/logout")
class Logout(MethodView):
    @access(Role.VIEWER)
    @blp.response(200, envelope(None))
    def post(self):
        """Sign out: the access token and its refresh token stop working."""
        claims = current_principal().claims
        if claims is None:
            raise Forbidden("Only an access token can be signed out")
        accounts.logout(claims.jti, claims.expires_at, claims.family_id)
        return {"data": None, "message": "Signed out"}


@blp.route("/auth/me")
class AuthMe(MethodView):
    @access(Role.VIEWER)
    @blp.response(200, envelope(UserSchema))
    def get(self):
        """The signed-in user."""
        return {"data": user_view(*caller_user())}


@blp.route("/auth/accept-invite")
class AcceptInvite(MethodView):
    @access(PUBLIC)
    @blp.arguments(AcceptInviteSchema)
    @blp.response(200, envelope(LoggedInSchema))
    def post(self, body):
        """Accept an invitation: set your password and sign in."""
        user, inv = accounts.accept_invite(body["token"], body["password"], client_ip(), config().auth,
                                           body.get("name"))
        membership = accounts.membership_of(user.id, inv.organization_id)
        tokens = accounts.issue_tokens(user, inv.organization_id, signer(), config().auth)
        return {"data": {"user": user_view(user, membership), "token": tokens.access_token,
                         "tokens": tokens.as_dict()}}
