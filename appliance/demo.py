"""Demo data: the "Bright Smile Dental" organization that ``callbox init --demo`` creates.

``seed_demo`` makes (or finds) the organization and its OWNER, then runs every function in ``SEEDERS`` in
order, each in its own transaction. A feature adds its demo data by appending one seeder. Seeders must be
idempotent: ``init --demo`` may run again on the same data directory (and after an upgrade, to add the
data of new features), so each seeder checks what already exists before creating anything.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from appliance import accounts, settings
from appliance.config import Config
from appliance.roles import Role
from appliance.security import SecretBox
from data.db import database
from data.models import Membership, Organization, OrgSettings, User

logger = logging.getLogger(__name__)

DEMO_ORGANIZATION = "Bright Smile Dental"
DEMO_EMAIL = "demo@callbox.local"
DEMO_PASSWORD = "demo-password"
DEMO_INDUSTRY = "healthcare"

# The rest of the clinic's team, one or more per role; everyone signs in with DEMO_PASSWORD.
DEMO_TEAM = (
    ("sofia.reyes@callbox.local", "Sofia Reyes", Role.ADMIN),
    ("marcus.lee@callbox.local", "Marcus Lee", Role.MANAGER),
    ("priya.shah@callbox.local", "Priya Shah", Role.AGENT),
    ("tom.becker@callbox.local", "Tom Becker", Role.AGENT),
    ("dr.nguyen@callbox.local", "Dr. Anh Nguyen", Role.VIEWER),
)

DEMO_SETTINGS = {"timezone": "America/New_York", "locale": "en-US", "defaultRegion": "US",
                 "recordingEnabled": True, "retentionDays": 180}


@dataclass
class DemoContext:
    """What seeders build on: the configuration, the demo organization and its people."""

    config: Config
    organization: Organization
    owner: User
    users: dict[str, User] = field(default_factory=dict)
    """Every demo user by email (the OWNER included)."""

    def by_role(self, role: Role) -> list[User]:
        """The demo users holding ``role`` in the demo organization."""
        ids = {m.user_id for m in Membership.select().where(
            (Membership.organization == self.organization) & (Membership.role == Role(role).value))}
        return [user for user in self.users.values() if user.id in ids]

    def secret_box(self) -> SecretBox:
        """The data directory's sealing box, for seeders that store secrets."""
        return SecretBox(self.config.secret_key())


Seeder = Callable[[DemoContext], None]


def _find_demo_org(owner: User) -> Organization | None:
    return (Organization.select().join(Membership)
            .where((Organization.name == DEMO_ORGANIZATION) & (Membership.user == owner)
                   & (Membership.role == Role.OWNER.value))
            .order_by(Organization.created_at).first())


def ensure_organization() -> tuple[Organization, User]:
    """The demo organization and its OWNER, created on first use."""
    owner = User.by_email(DEMO_EMAIL)
    if owner is None:
        owner = accounts.create_user(DEMO_EMAIL, DEMO_PASSWORD, "Dana Whitfield")
    org = _find_demo_org(owner)
    if org is None:
        org = accounts.create_organization(DEMO_ORGANIZATION, owner, DEMO_INDUSTRY)
        logger.info("created demo organization %s", org.id)
    return org, owner


def seed_team(ctx: DemoContext) -> None:
    """The clinic's staff, one account per role."""
    for email, name, role in DEMO_TEAM:
        user = User.by_email(email)
        if user is None:
            user = accounts.create_user(email, DEMO_PASSWORD, name)
        if Membership.get_or_none((Membership.user == user) & (Membership.organization == ctx.organization)) is None:
            accounts.add_member(ctx.organization, user, role)
        ctx.users[email] = user


def seed_settings(ctx: DemoContext) -> None:
    """Workspace settings of a US clinic (left alone once the workspace has settings)."""
    if OrgSettings.get_or_none(OrgSettings.organization == ctx.organization) is None:
        settings.update_settings(ctx.organization.id, DEMO_SETTINGS, ctx.secret_box())


# Later features append their seeders here (calls, recordings, campaigns, ...); order matters.
def _seed_ai(ctx: DemoContext) -> None:
    from appliance.brain_demo import seed_ai_demo  # the AI feature's own demo data
    seed_ai_demo(ctx)


def _seed_calls(ctx: DemoContext) -> None:
    from appliance.calls_demo import seed_calls_demo  # calls over the last 60 days for the dashboard and lists
    seed_calls_demo(ctx)


SEEDERS: list[Seeder] = [seed_team, seed_settings, _seed_ai, _seed_calls]


def seed_demo(config: Config) -> DemoContext:
    """Create the demo organization and run every seeder; safe to run again."""
    with database.connection_context():
        with database.atomic():
            org, owner = ensure_organization()
        ctx = DemoContext(config=config, organization=org, owner=owner, users={owner.email: owner})
        for seeder in SEEDERS:
            with database.atomic():
                seeder(ctx)
            logger.debug("demo seeder %s done", seeder.__name__)
    return ctx
