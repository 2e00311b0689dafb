"""Appliance administrators, made from the command line (``callbox create-admin``).

An admin is a superuser (sees the appliance-wide admin pages) and OWNER of one organization, because
signing in needs a membership. Running it again for the same email resets the password.
"""
from __future__ import annotations

from appliance import accounts
from appliance.errors import ValidationError
from appliance.roles import Role
from appliance.security import hash_password
from data.base import utcnow
from data.db import database
from data.models import Membership, Organization, User

DEFAULT_ORGANIZATION = "Callbox"


def _admin_organization(user: User, name: str | None) -> Organization:
    """The organization named ``name`` (created if new), else the user's own, else the first, else a new one."""
    if name:
        org = Organization.select().where(Organization.name == name.strip()).order_by(Organization.created_at).first()
        return org or accounts.create_organization(name, user)
    mine = accounts.first_membership(user)
    if mine is not None:
        return mine.organization
    first = Organization.select().order_by(Organization.created_at).first()
    return first or accounts.create_organization(DEFAULT_ORGANIZATION, user)


def create_admin(email: str, name: str | None, password: str, organization: str | None
                 ) -> tuple[User, Organization, bool]:
    """Create (or reset) a superuser who is OWNER of an organization; returns (user, org, created)."""
    if "@" not in email.strip(" @"):
        raise ValidationError(f"--email: {email!r} is not an email address")
    with database.atomic():
        user = User.by_email(email)
        created = user is None
        if created:
            user = accounts.create_user(email, password, name or email.split("@")[0], superuser=True)
        else:
            accounts.check_password_strength(password, user.email)
            User.update(password_hash=hash_password(password), is_superuser=True, updated_at=utcnow(),
                        **({"name": name.strip()} if name else {})).where(User.id == user.id).execute()
            accounts.revoke_user_sessions(user.id, "admin password reset")
        org = _admin_organization(user, organization)
        member = Membership.get_or_none((Membership.user == user) & (Membership.organization == org))
        if member is None:
            accounts.add_member(org, user, Role.OWNER)
        else:
            Membership.update(role=Role.OWNER.value, is_active=True).where(Membership.id == member.id).execute()
    return User.get_by_id(user.id), org, created
