"""The database handle: declared unbound at import, bound once by ``init_database(config)``."""
from __future__ import annotations

import logging

from peewee import DatabaseProxy, PostgresqlDatabase
from playhouse.db_url import parse
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

from appliance.config import Config
from appliance.errors import ConfigError

logger = logging.getLogger(__name__)

database = DatabaseProxy()


def make_database(config: Config):
    """A peewee database for the configured URL (SQLite with WAL by default, PostgreSQL by URL)."""
    url = config.database_url
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        # A small pool: each request connects and closes, without paying for the pragmas every time.
        return PooledSqliteDatabase(path, max_connections=64, stale_timeout=600, check_same_thread=False,
                                    timeout=config.database.busy_timeout_ms / 1000, pragmas={
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": config.database.busy_timeout_ms,
            "synchronous": "normal",
            "cache_size": -16000,
        })
    if url.startswith(("postgres://", "postgresql://")):
        params = parse(url)
        return PooledPostgresqlDatabase(params.pop("database"), max_connections=32, stale_timeout=600,
                                        autorollback=True, **params)
    raise ConfigError(f"unsupported database URL {url.split(':', 1)[0]!r}: use sqlite:/// or postgresql://")


def init_database(config: Config):
    """Bind the proxy to the configured database and return it."""
    db = make_database(config)
    database.initialize(db)
    return db


def is_postgres() -> bool:
    """Whether the bound database is PostgreSQL (a few queries differ)."""
    return isinstance(database.obj, PostgresqlDatabase)
