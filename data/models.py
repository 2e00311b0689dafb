"""Core models: organizations, users, memberships, API keys, tokens, settings, audit log."""
from __future__ import annotations

import datetime as dt

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, TextField

from data.base import BaseModel, IdField, JSONField, created_field, new_id, utcnow


class Organization(BaseModel):
    id = IdField("org")
    name = CharField()
    industry = CharField(null=True)
    created_at = created_field()

    class Meta:
        table_name = "organizations"


class User(BaseModel):
    id = IdField("usr")
    email = CharField(unique=True)
    password_hash = CharField(null=True)
    name = CharField()
    language = CharField(default="en")
    notification_prefs = JSONField(default=dict)
    is_superuser = BooleanField(default=False)
    created_at = created_field()
    updated_at = DateTimeField(default=utcnow)
    last_login_at = DateTimeField(null=True)

    class Meta:
        table_name = "users"

    @classmethod
    def by_email(cls, email: str) -> "User | None":
        """The user with this email (case-insensitive), or None."""
        return cls.get_or_none(cls.email == email.strip().lower())


class Membership(BaseModel):
    id = IdField("mem")
    organization = ForeignKeyField(Organization, backref="memberships", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="memberships", on_delete="CASCADE")
    role = CharField()
    is_active = BooleanField(default=True)
    created_at = created_field()

    class Meta:
        table_name = "memberships"
        indexes = ((("organization", "user"), True),)


class ApiKey(BaseModel):
    id = IdField("key")
    organization = ForeignKeyField(Organization, backref="api_keys", on_delete="CASCADE")
    name = CharField()
    prefix = CharField()
    key_hash = CharField(unique=True)
    role = CharField()
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = created_field()
    last_used_at = DateTimeField(null=True)

    class Meta:
        table_name = "api_keys"


class RefreshFamily(BaseModel):
    id = IdField("rtf")
    user = ForeignKeyField(User, on_delete="CASCADE")
    organization = ForeignKeyField(Organization, on_delete="CASCADE")
    created_at = created_field()
    revoked_at = DateTimeField(null=True)
    revoked_reason = CharField(null=True)

    class Meta:
        table_name = "refresh_families"

    def revoke(self, reason: str) -> None:
        """Revoke the family: none of its refresh or access tokens works any more."""
        RefreshFamily.update(revoked_at=utcnow(), revoked_reason=reason).where(
            (RefreshFamily.id == self.id) & RefreshFamily.revoked_at.is_null()).execute()


class RefreshToken(BaseModel):
    id = IdField("rtk")
    family = ForeignKeyField(RefreshFamily, backref="tokens", on_delete="CASCADE")
    token_hash = CharField(unique=True)
    created_at = created_field()
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)

    class Meta:
        table_name = "refresh_tokens"


class RevokedToken(BaseModel):
    jti = CharField(primary_key=True)
    expires_at = DateTimeField()

    class Meta:
        table_name = "revoked_tokens"


class OrgSettings(BaseModel):
    organization = ForeignKeyField(Organization, primary_key=True, on_delete="CASCADE")
    data = JSONField(default=dict)
    secrets = TextField(default="")
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "org_settings"


class AuditLog(BaseModel):
    id = IdField("aud")
    organization = ForeignKeyField(Organization, null=True, on_delete="CASCADE")
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    action = CharField()
    target_type = CharField(null=True)
    target_id = CharField(null=True)
    details = JSONField(default=dict)
    ip = CharField(null=True)
    created_at = created_field()

    class Meta:
        table_name = "audit_log"


class Invitation(BaseModel):
    id = IdField("inv")
    organization = ForeignKeyField(Organization, on_delete="CASCADE")
    email = CharField()
    name = CharField()
    role = CharField()
    token_hash = CharField(unique=True)
    invited_by = ForeignKeyField(User, null=True, on_delete="SET NULL", column_name="invited_by_id")
    user = ForeignKeyField(User, null=True, on_delete="CASCADE", backref="invitations")
    expires_at = DateTimeField()
    accepted_at = DateTimeField(null=True)
    created_at = created_field()

    class Meta:
        table_name = "invitations"


class LoginFailure(BaseModel):
    id = IdField("lgf")
    email = CharField()
    ip = CharField()
    created_at = created_field()

    class Meta:
        table_name = "login_failures"

    @classmethod
    def recent(cls, email: str, ip: str, window: dt.timedelta) -> int:
        """How many failures this email had from this address within the window."""
        since = utcnow() - window
        return cls.select().where((cls.email == email) & (cls.ip == ip) & (cls.created_at >= since)).count()


class Heartbeat(BaseModel):
    component = CharField(primary_key=True)
    at = DateTimeField()
    info = JSONField(default=dict)

    class Meta:
        table_name = "heartbeats"

    @classmethod
    def beat(cls, component: str, **info) -> None:
        """Record that a process is alive now."""
        cls.insert(component=component, at=utcnow(), info=info).on_conflict(
            conflict_target=[cls.component], update={cls.at: utcnow(), cls.info: info}).execute()


CORE_MODELS = [Organization, User, Membership, ApiKey, RefreshFamily, RefreshToken, RevokedToken,
               OrgSettings, AuditLog, Invitation, LoginFailure, Heartbeat]

__all__ = [m.__name__ for m in CORE_MODELS] + ["new_id", "utcnow"]
