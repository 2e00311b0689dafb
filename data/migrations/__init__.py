"""Versioned schema migrations.

Each migration is a file ``NNNN_name.sql`` in this folder, written in SQL that both SQLite and PostgreSQL accept
(TEXT ids, TIMESTAMP, BOOLEAN). Applied versions are recorded in ``schema_migrations``; ``migrate`` applies the
missing ones in order, each in its own transaction. Later features add their tables with new files, never by
editing an applied one.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from importlib import resources

logger = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    def statements(self) -> list[str]:
        """The migration's SQL split into statements (comments dropped)."""
        lines = [ln for ln in self.sql.splitlines() if not ln.strip().startswith("--")]
        return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def available() -> list[Migration]:
    """Every migration shipped with this version, in order."""
    found = []
    for entry in resources.files(__package__).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def _ensure_table(db) -> None:
    db.execute_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )


def applied_versions(db) -> set[int]:
    """Versions recorded in the database."""
    _ensure_table(db)
    return {row[0] for row in db.execute_sql("SELECT version FROM schema_migrations").fetchall()}


def current_version(db) -> int:
    """The highest applied version, 0 for an empty database."""
    return max(applied_versions(db), default=0)


def pending(db) -> list[Migration]:
    """Migrations not yet applied to this database."""
    done = applied_versions(db)
    return [m for m in available() if m.version not in done]


def migrate(db, target: int | None = None) -> list[int]:
    """Apply pending migrations up to ``target`` (all by default); return the versions applied."""
    applied = []
    for migration in pending(db):
        if target is not None and migration.version > target:
            break
        with db.atomic():
            for statement in migration.statements():
                db.execute_sql(statement)
            db.execute_sql(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%s, %s, %s)"
                .replace("%s", db.param),
                (migration.version, migration.name, dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)),
            )
        logger.info("applied migration %04d_%s", migration.version, migration.name)
        applied.append(migration.version)
    return applied
