"""Roles, highest first: a role may do what the roles below it may."""
from __future__ import annotations

import enum


class Role(str, enum.Enum):
    OWNER = "OWNER"
    ADMIN = "ADMIN"
    MANAGER = "MANAGER"
    AGENT = "AGENT"
    VIEWER = "VIEWER"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: "Role") -> bool:
        """Whether this role may do what ``other`` may."""
        return self.rank >= Role(other).rank

    @classmethod
    def names(cls) -> list[str]:
        return [r.value for r in cls]


_RANK = {Role.OWNER: 50, Role.ADMIN: 40, Role.MANAGER: 30, Role.AGENT: 20, Role.VIEWER: 10}
