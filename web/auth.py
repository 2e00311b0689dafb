"""Who is asking: access tokens, API keys and (for the browser UI) session + CSRF; and what they may do.

One mechanism decides access for every API endpoint: each view method declares the lowest role it
needs with ``@access(Role.X)`` (or ``@access(PUBLIC)``). A before-request hook resolves the caller,
the rate limiter counts them, then ``enforce_access`` compares. An endpoint that declares nothing is refused.
"""
from __future__ import annotations

import datetime as dt
import hmac
import logging
from dataclasses import dataclass
from typing import Callable

from flask import Flask, current_app, g, request, session
from flask_login import LoginManager, current_user
from peewee import SQL, fn

from appliance.errors import CallboxError, Forbidden, NotFound, Unauthorized
from appliance.roles import Role
from appliance.security import AccessClaims, TokenSigner, token_hash
from data.base import CompiledQuery, utcnow
from data.models import ApiKey, Membership, Organization, RefreshFamily, RevokedToken, User

logger = logging.getLogger(__name__)

PUBLIC = "public"
login_manager = LoginManager()


@dataclass
class Principal:
    """The authenticated caller, acting in one organization."""

    organization: Organization
    role: Role
    user: User | None = None
    api_key: ApiKey | None = None
    claims: AccessClaims | None = None
    via: str = "token"
    membership: Membership | None = None

    @property
    def rate_key(self) -> str:
        return f"key:{self.api_key.id}" if self.api_key else f"user:{self.user.id}"

    @property
    def user_id(self) -> str | None:
        return self.user.id if self.user else None


def access(role: Role | str) -> Callable:
    """Declare the lowest role a view method needs (``PUBLIC`` for none)."""
    def mark(fn: Callable) -> Callable:
        fn._callbox_access = role
        return fn
    return mark


def current_principal() -> Principal:
    """The caller of this request (the hook guarantees one on non-public endpoints)."""
    principal = g.get("principal")
    if principal is None:
        raise Unauthorized()
    return principal


def _membership(user_id: str, organization_id: str) -> tuple[User, Membership] | None:
    row = (Membership.select(Membership, User, Organization).join(User).switch(Membership).join(Organization)
           .where((Membership.user == user_id) & (Membership.organization == organization_id)
                  & Membership.is_active).first())
    return (row.user, row) if row else None


def _foreign_workspace() -> NotFound:
    # Another organization answers 404 like any of its resources: whether it exists is not revealed.
    return NotFound("Workspace not found among yours (X-Workspace-Id)")


def _workspace_for(user_id: str, default_org: str) -> tuple[User, Membership]:
    wanted = request.headers.get("X-Workspace-Id", "").strip() or default_org
    found = _membership(user_id, wanted)
    if found is None:
        if wanted != default_org:
            raise _foreign_workspace()
        raise Unauthorized("This account has no access to the workspace any more")
    return found


def _token_membership_query(user_id, org_id, jti, family_id=None):
    one = SQL("1")
    query = (Membership.select(Membership, User, Organization).join(User).switch(Membership).join(Organization)
             .where((Membership.user == user_id) & (Membership.organization == org_id) & Membership.is_active
                    & ~fn.EXISTS(RevokedToken.select(one).where(RevokedToken.jti == jti))))
    if family_id is not None:
        query = query.where(fn.EXISTS(RefreshFamily.select(one).where(
            (RefreshFamily.id == family_id) & RefreshFamily.revoked_at.is_null())))
    return query


# The hot path of every API request: one SQL statement, compiled once.
_LIVE_MEMBERSHIP = CompiledQuery(_token_membership_query, (Membership, User, Organization), ("user", "organization"))
_LIVE_MEMBERSHIP_NO_FAMILY = CompiledQuery(lambda u, o, j: _token_membership_query(u, o, j),
                                           (Membership, User, Organization), ("user", "organization"))


def _live_token_membership(claims: AccessClaims, org_id: str) -> Membership | None:
    """The active membership, provided the token and its refresh family are not revoked."""
    if claims.family_id:
        return _LIVE_MEMBERSHIP.first(claims.user_id, org_id, claims.jti, claims.family_id)
    return _LIVE_MEMBERSHIP_NO_FAMILY.first(claims.user_id, org_id, claims.jti)


def _from_bearer(token: str) -> Principal:
    signer: TokenSigner = current_app.extensions["callbox.signer"]
    claims = signer.verify(token)
    wanted = request.headers.get("X-Workspace-Id", "").strip() or claims.organization_id
    membership = _live_token_membership(claims, wanted)
    if membership is None:
        # Slow path, failures only: say precisely why.
        if RevokedToken.get_or_none(RevokedToken.jti == claims.jti) is not None:
            raise Unauthorized("The access token has been revoked")
        family = RefreshFamily.get_or_none(RefreshFamily.id == claims.family_id) if claims.family_id else None
        if claims.family_id and (family is None or family.revoked_at is not None):
            raise Unauthorized("The access token has been revoked")
        _workspace_for(claims.user_id, claims.organization_id)
        raise Unauthorized("This account has no access to the workspace any more")
    return Principal(membership.organization, Role(membership.role), user=membership.user, claims=claims,
                     membership=membership)


def _from_api_key(raw: str) -> Principal:
    key = (ApiKey.select(ApiKey, Organization).join(Organization)
           .where(ApiKey.key_hash == token_hash(raw.strip())).first())
    if key is None:
        raise Unauthorized("The API key is not valid")
    wanted = request.headers.get("X-Workspace-Id", "").strip()
    if wanted and wanted != key.organization_id:
        raise _foreign_workspace()  # a key acts in its own workspace only
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > dt.timedelta(minutes=1):
        ApiKey.update(last_used_at=now).where(ApiKey.id == key.id).execute()
    return Principal(key.organization, Role(key.role), api_key=key, via="api_key")


def _from_session() -> Principal | None:
    if not current_user.is_authenticated:
        return None
    sent = request.headers.get("X-CSRF-Token", "")
    expected = session.get("csrf_token", "")
    if not expected or not hmac.compare_digest(sent, expected):
        raise Unauthorized("A browser session needs its CSRF token (X-CSRF-Token) to use the API")
    user, membership = _workspace_for(current_user.id, session.get("organization_id", ""))
    return Principal(membership.organization, Role(membership.role), user=user, via="session",
                     membership=membership)


def resolve_principal() -> None:
    """Before each API request: work out who is calling; keep the error for endpoints that need a caller."""
    g.principal, g.auth_error = None, None
    if not request.path.startswith("/api/"):
        return
    try:
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("Use 'Authorization: Bearer <access token>'")
            g.principal = _from_bearer(token.strip())
        elif request.headers.get("X-API-Key"):
            g.principal = _from_api_key(request.headers["X-API-Key"])
        else:
            g.principal = _from_session()
    except CallboxError as exc:
        g.auth_error = exc


def required_access(app: Flask) -> Role | str | None:
    """The role the current request's view method declared (None: it declared nothing)."""
    view = app.view_functions.get(request.endpoint or "")
    if view is None:
        return None
    target = view
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        method = "get" if request.method == "HEAD" else request.method.lower()
        target = getattr(view_class, method, None)
        if target is None:
            return PUBLIC  # Flask answers 405 itself
    return getattr(target, "_callbox_access", None)


def enforce_access() -> None:
    """After rate limiting: refuse callers whose role is below what the endpoint declared."""
    if request.endpoint is None or request.method == "OPTIONS":
        return
    if not (request.path.startswith("/api/") or request.path.startswith("/hooks/")):
        return
    if request.endpoint.startswith("api-docs."):
        return
    needed = required_access(current_app)
    if needed is None:
        logger.error("endpoint %s declares no access rule; refused", request.endpoint)
        raise Forbidden("This endpoint is not available")
    if needed == PUBLIC:
        return
    principal = g.get("principal")
    if principal is None:
        raise g.get("auth_error") or Unauthorized()
    if not principal.role.at_least(needed):
        raise Forbidden(f"This needs the {Role(needed).value} role or higher")


def client_ip() -> str:
    """The caller's address (after ProxyFix, when proxies are trusted)."""
    return request.remote_addr or "unknown"


@login_manager.user_loader
def _load_user(user_id: str):
    return SessionUser.load(user_id)


class SessionUser:
    """The flask-login view of a user (sessions are for the browser UI only)."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, user: User):
        self.user = user
        self.id = user.id

    def get_id(self) -> str:
        return self.id

    @classmethod
    def load(cls, user_id: str) -> "SessionUser | None":
        user = User.get_or_none(User.id == user_id)
        return cls(user) if user else None


def init_app(app: Flask, signer: TokenSigner) -> None:
    """Install the caller-resolving hook and the session machinery."""
    app.extensions["callbox.signer"] = signer
    login_manager.init_app(app)
    app.before_request(resolve_principal)
