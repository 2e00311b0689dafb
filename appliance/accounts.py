"""Accounts: organizations, users, memberships, sign-in, tokens, invitations, API keys."""
from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass

from peewee import IntegrityError, fn

from appliance import audit
from appliance.config import AuthConfig
from appliance.errors import (Conflict, DuplicateEntry, Forbidden, InvalidCredentials, NotFound,
                              RateLimitExceeded, Unauthorized, ValidationError)
from appliance.roles import Role
from appliance.security import (TokenSigner, hash_password, new_api_key, random_token, token_hash,
                                verify_password)
from data.base import utcnow
from data.db import database
from data.models import (ApiKey, Invitation, LoginFailure, Membership, Organization, RefreshFamily, RefreshToken,
                         RevokedToken, User)

logger = logging.getLogger(__name__)

MIN_PASSWORD = 8


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int

    def as_dict(self) -> dict:
        return {"accessToken": self.access_token, "refreshToken": self.refresh_token,
                "expiresIn": self.expires_in, "tokenType": "Bearer"}


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_password_strength(password: str, email: str = "") -> None:
    """Refuse passwords a guesser would try first."""
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"password: must be at least {MIN_PASSWORD} characters", {"password": ["too short"]})
    if len(password) > 1024:
        raise ValidationError("password: must be at most 1024 characters", {"password": ["too long"]})
    if email and password.lower() == normalize_email(email):
        raise ValidationError("password: must not be your email address", {"password": ["same as email"]})


def create_user(email: str, password: str | None, name: str, *, superuser: bool = False) -> User:
    """A new user (no organization yet); ``DuplicateEntry`` if the email is taken."""
    email = normalize_email(email)
    if password is not None:
        check_password_strength(password, email)
    if User.by_email(email) is not None:
        raise DuplicateEntry("A user with this email already exists", {"email": ["already registered"]})
    try:
        return User.create(email=email, name=name.strip(), is_superuser=superuser,
                           password_hash=hash_password(password) if password is not None else None)
    except IntegrityError as exc:
        raise DuplicateEntry("A user with this email already exists", {"email": ["already registered"]}) from exc


def create_organization(name: str, owner: User, industry: str | None = None) -> Organization:
    """A new organization with ``owner`` as its OWNER."""
    with database.atomic():
        org = Organization.create(name=name.strip(), industry=industry)
        Membership.create(organization=org, user=owner, role=Role.OWNER.value)
    audit.record("organization.created", organization_id=org.id, user_id=owner.id, target_type="organization",
                 target_id=org.id)
    return org


def signup(email: str, password: str, name: str, organization_name: str, industry: str | None = None
           ) -> tuple[User, Organization]:
    """Self-service sign-up: a user and their own organization."""
    with database.atomic():
        user = create_user(email, password, name)
        org = create_organization(organization_name, user, industry)
    return user, org


def add_member(org: Organization, user: User, role: Role) -> Membership:
    """Give a user a role in an organization."""
    try:
        return Membership.create(organization=org, user=user, role=Role(role).value)
    except IntegrityError as exc:
        raise DuplicateEntry("That user is already a member of this workspace") from exc


def register_member(org: Organization, email: str, password: str, name: str, role: Role,
                    actor_role: Role) -> tuple[User, Membership]:
    """A new user with a password, directly a member of ``org`` (no higher role than the actor's)."""
    _check_can_assign(actor_role, Role(role))
    with database.atomic():
        user = create_user(email, password, name)
        return user, add_member(org, user, Role(role))


def membership_of(user_id: str, org_id: str) -> Membership:
    """The membership, or ``NotFound`` (another organization's user answers 404)."""
    found = Membership.get_or_none((Membership.user == user_id) & (Membership.organization == org_id))
    if found is None:
        raise NotFound("User not found")
    return found


def first_membership(user: User) -> Membership | None:
    """The user's oldest active membership (their default workspace)."""
    return (Membership.select().where((Membership.user == user) & Membership.is_active)
            .order_by(Membership.created_at, Membership.id).first())


# -- sign-in ---------------------------------------------------------------------------------------------------

def _throttled(email: str, ip: str, config: AuthConfig) -> None:
    window = dt.timedelta(seconds=config.login_window_seconds)
    if LoginFailure.recent(email, ip, window) < config.login_max_failures:
        return
    # Sign-in opens again when the oldest failure of the window ages out.
    oldest = (LoginFailure.select(LoginFailure.created_at)
              .where((LoginFailure.email == email) & (LoginFailure.ip == ip)
                     & (LoginFailure.created_at >= utcnow() - window))
              .order_by(LoginFailure.created_at).first())
    wait = (oldest.created_at + window - utcnow()).total_seconds() if oldest else config.login_window_seconds
    raise RateLimitExceeded("Too many failed sign-ins; try again later",
                            headers={"Retry-After": str(max(1, math.ceil(wait)))})


def authenticate(email: str, password: str, ip: str, config: AuthConfig) -> tuple[User, Membership]:
    """Check a password login (throttled per email and address); the user and their default membership."""
    email = normalize_email(email)
    _throttled(email, ip, config)
    user = User.by_email(email)
    if user is None or not verify_password(user.password_hash, password):
        LoginFailure.create(email=email, ip=ip)
        raise InvalidCredentials("Wrong email or password")
    membership = first_membership(user)
    if membership is None:
        raise InvalidCredentials("This account is disabled")
    LoginFailure.delete().where((LoginFailure.email == email) & (LoginFailure.ip == ip)).execute()
    user.last_login_at = utcnow()
    User.update(last_login_at=user.last_login_at).where(User.id == user.id).execute()
    return user, membership


def issue_tokens(user: User, org_id: str, signer: TokenSigner, config: AuthConfig) -> Tokens:
    """A new refresh-token family and its first access + refresh tokens."""
    family = RefreshFamily.create(user=user, organization=org_id)
    return _tokens_in_family(family, signer, config)


def _tokens_in_family(family: RefreshFamily, signer: TokenSigner, config: AuthConfig) -> Tokens:
    refresh = f"rt_{random_token(32)}"
    RefreshToken.create(family=family, token_hash=token_hash(refresh),
                        expires_at=utcnow() + dt.timedelta(days=config.refresh_ttl_days))
    access, _ = signer.issue(family.user_id, family.organization_id, family.id)
    return Tokens(access, refresh, signer.ttl_seconds)


class _RefreshReused(Exception):
    """A refresh token came back after it was rotated: someone else may hold a copy."""

    def __init__(self, family: RefreshFamily):
        super().__init__(family.id)
        self.family = family


def _claim_refresh(raw_refresh: str) -> RefreshToken:
    """Mark the refresh token used (exactly once) and return it."""
    token = RefreshToken.get_or_none(RefreshToken.token_hash == token_hash(raw_refresh.strip()))
    if token is None:
        raise Unauthorized("The refresh token is not valid")
    if token.family.revoked_at is not None:
        raise Unauthorized("The refresh token has been revoked")
    claimed = (RefreshToken.update(used_at=utcnow())
               .where((RefreshToken.id == token.id) & RefreshToken.used_at.is_null()).execute())
    if not claimed:
        raise _RefreshReused(token.family)
    if token.expires_at < utcnow():
        raise Unauthorized("The refresh token has expired")
    return token


def refresh(raw_refresh: str, signer: TokenSigner, config: AuthConfig) -> Tokens:
    """Rotate a refresh token; a token used twice revokes its whole family (and its access tokens)."""
    try:
        with database.atomic():
            family = _claim_refresh(raw_refresh).family
            if Membership.get_or_none((Membership.user == family.user_id)
                                      & (Membership.organization == family.organization_id)
                                      & Membership.is_active) is None:
                raise Unauthorized("This account has no access to the workspace any more")
            return _tokens_in_family(family, signer, config)
    except _RefreshReused as reused:
        # Revoked after the transaction above has rolled back, so the revocation sticks.
        reused.family.revoke("reuse")
        logger.warning("refresh token reuse detected; family %s revoked", reused.family.id)
        audit.record("auth.refresh_reuse", organization_id=reused.family.organization_id,
                     user_id=reused.family.user_id)
        raise Unauthorized("The refresh token was already used; all sessions of this sign-in were revoked") from None


def logout(jti: str | None, expires_at: dt.datetime | None, family_id: str | None) -> None:
    """Revoke the access token and its refresh family."""
    with database.atomic():
        if jti:
            RevokedToken.insert(jti=jti, expires_at=expires_at or utcnow()).on_conflict_ignore().execute()
        if family_id:
            family = RefreshFamily.get_or_none(RefreshFamily.id == family_id)
            if family:
                family.revoke("logout")


def revoke_user_sessions(user_id: str, reason: str, org_id: str | None = None) -> None:
    """Revoke every refresh family (and so every access token) of a user, or only those of one organization."""
    where = (RefreshFamily.user == user_id) & RefreshFamily.revoked_at.is_null()
    if org_id is not None:
        where &= RefreshFamily.organization == org_id
    RefreshFamily.update(revoked_at=utcnow(), revoked_reason=reason).where(where).execute()


PROFILE_FIELDS = {"name": "name", "language": "language", "notificationPrefs": "notification_prefs"}


def change_password(user: User, current: str, new: str) -> None:
    """Set a new password (the current one must match); every session of the user is revoked."""
    if not verify_password(user.password_hash, current):
        raise InvalidCredentials("currentPassword is wrong")
    check_password_strength(new, user.email)
    user.password_hash = hash_password(new)
    revoke_user_sessions(user.id, "password-changed")


def update_profile(user: User, changes: dict) -> User:
    """Apply a user's own profile change (API field names); a new password needs the current one."""
    with database.atomic():
        if "password" in changes:
            change_password(user, changes.get("currentPassword", ""), changes["password"])
        for key, column in PROFILE_FIELDS.items():
            if key in changes:
                value = changes[key]
                setattr(user, column, value.strip() if isinstance(value, str) else value)
        user.updated_at = utcnow()
        user.save()
    return user


def purge_expired() -> int:
    """Drop revoked-token and login-failure rows that no longer matter."""
    now = utcnow()
    removed = RevokedToken.delete().where(RevokedToken.expires_at < now).execute()
    removed += LoginFailure.delete().where(LoginFailure.created_at < now - dt.timedelta(days=1)).execute()
    return removed


# -- members ---------------------------------------------------------------------------------------------------

def _owners_left(org_id: str, excluding: str) -> int:
    return (Membership.select().where((Membership.organization == org_id) & (Membership.role == Role.OWNER.value)
                                      & Membership.is_active & (Membership.user != excluding)).count())


def _check_can_assign(actor_role: Role, role: Role) -> None:
    if not actor_role.at_least(role):
        raise Forbidden(f"You cannot give a role higher than your own ({actor_role.value})")


def update_member(org_id: str, user_id: str, actor_role: Role, *, role: Role | None = None,
                  is_active: bool | None = None) -> Membership:
    """Change a member's role or active flag; an organization keeps at least one active OWNER."""
    with database.atomic():
        member = membership_of(user_id, org_id)
        current = Role(member.role)
        _check_can_assign(actor_role, current)
        losing_owner = current is Role.OWNER and (
            (role is not None and Role(role) is not Role.OWNER) or is_active is False)
        if losing_owner and _owners_left(org_id, user_id) == 0:
            raise Conflict("A workspace keeps at least one active OWNER")
        if role is not None:
            _check_can_assign(actor_role, Role(role))
            member.role = Role(role).value
        if is_active is not None:
            member.is_active = is_active
        member.save()
        if is_active is False:
            revoke_user_sessions(user_id, "deactivated", org_id)
    return member


def remove_member(org_id: str, user_id: str, actor_role: Role, actor_id: str | None = None,
                  ip: str | None = None) -> None:
    """Take a user out of the organization (the user account stays if they belong elsewhere)."""
    with database.atomic():
        member = membership_of(user_id, org_id)
        _check_can_assign(actor_role, Role(member.role))
        if member.role == Role.OWNER.value and _owners_left(org_id, user_id) == 0:
            raise Conflict("A workspace keeps at least one active OWNER")
        # Recorded first: the actor may be removing themselves, and their user row may go below.
        audit.record("user.removed", organization_id=org_id, user_id=actor_id, target_type="user",
                     target_id=user_id, ip=ip)
        member.delete_instance()
        revoke_user_sessions(user_id, "removed", org_id)
        if not Membership.select().where(Membership.user == user_id).exists():
            User.delete().where(User.id == user_id).execute()


# -- invitations -----------------------------------------------------------------------------------------------

def invite(org: Organization, email: str, name: str, role: Role, actor: User | None, actor_role: Role,
           config: AuthConfig) -> tuple[Invitation, str, User]:
    """Invite someone by email: a user without password (or an existing one) and a one-time link token."""
    _check_can_assign(actor_role, Role(role))
    email = normalize_email(email)
    with database.atomic():
        user = User.by_email(email) or create_user(email, None, name)
        if Membership.get_or_none((Membership.user == user) & (Membership.organization == org)):
            raise DuplicateEntry("That user is already a member of this workspace")
        add_member(org, user, Role(role))
        raw = random_token(24)
        inv = Invitation.create(organization=org, email=email, name=name, role=Role(role).value,
                                token_hash=token_hash(raw), invited_by=actor, user=user,
                                expires_at=utcnow() + dt.timedelta(hours=config.invite_ttl_hours))
    return inv, raw, user


def _open_invitation(raw: str) -> Invitation:
    inv = Invitation.get_or_none(Invitation.token_hash == token_hash(raw.strip()))
    if inv is None or inv.accepted_at is not None or inv.expires_at < utcnow() or inv.user_id is None:
        raise NotFound("This invitation link is not valid any more")
    member = Membership.get_or_none((Membership.user == inv.user_id) & (Membership.organization == inv.organization_id)
                                    & Membership.is_active)
    if member is None:
        raise NotFound("This invitation link is not valid any more")
    return inv


def _prove_password(user: User, password: str, ip: str, config: AuthConfig) -> None:
    # The link alone must not sign anyone in as an account that already has a password; guesses are throttled
    # exactly like sign-in attempts.
    _throttled(user.email, ip, config)
    if not verify_password(user.password_hash, password):
        LoginFailure.create(email=user.email, ip=ip)
        raise InvalidCredentials("This account already has a password: give it to accept the invitation")


def accept_invite(raw: str, password: str, ip: str, config: AuthConfig, name: str | None = None
                  ) -> tuple[User, Invitation]:
    """Accept through the one-time link: a new user sets their password, an existing one proves theirs."""
    inv = _open_invitation(raw)
    user = inv.user
    if user.password_hash is not None:
        _prove_password(user, password, ip, config)
    else:
        check_password_strength(password, user.email)
    with database.atomic():
        claimed = (Invitation.update(accepted_at=utcnow())
                   .where((Invitation.id == inv.id) & Invitation.accepted_at.is_null()).execute())
        if not claimed:
            raise NotFound("This invitation link is not valid any more")
        if user.password_hash is None:
            user.password_hash = hash_password(password)
        if name:
            user.name = name.strip()
        user.updated_at = utcnow()
        user.save()
    return user, inv


# -- API keys --------------------------------------------------------------------------------------------------

def create_api_key(org: Organization, name: str, role: Role, creator: User | None, actor_role: Role
                   ) -> tuple[ApiKey, str]:
    """A new API key; the raw key is returned once and stored only as its hash."""
    _check_can_assign(actor_role, Role(role))
    raw = new_api_key()
    key = ApiKey.create(organization=org, name=name.strip(), prefix=raw[:10], key_hash=token_hash(raw),
                        role=Role(role).value, created_by=creator)
    return key, raw


def user_workspaces(user: User) -> list[Membership]:
    """The user's organizations with their role."""
    return list(Membership.select(Membership, Organization).join(Organization)
                .where((Membership.user == user) & Membership.is_active)
                .order_by(Membership.created_at, Membership.id))


def count_users() -> int:
    return User.select(fn.COUNT(User.id)).scalar()
