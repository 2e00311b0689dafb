"""The data directory: created once by ``callbox init``, checked by every process at start."""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
from pathlib import Path
from typing import Iterator

from appliance.config import CONFIG_FILE, DEFAULT_CONFIG_TEXT, SECRET_FILE, Config, load_config
from appliance.errors import ConfigError
from data.db import init_database
from data.migrations import migrate

logger = logging.getLogger(__name__)


def create_data_dir(root: Path) -> None:
    """Make the directory (0700), its config file and secret key (0600), keeping any that exist."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o700)
        config_file = root / CONFIG_FILE
        if not config_file.exists():
            config_file.write_text(DEFAULT_CONFIG_TEXT, encoding="utf-8")
        secret = root / SECRET_FILE
        if not secret.exists():
            fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        for sub in ("recordings", "models", "backups"):
            (root / sub).mkdir(exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(f"cannot create data directory {root}: {exc.strerror or exc}") from exc


def check_data_dir(root: Path) -> None:
    """Refuse to start on a data directory that is missing or unusable."""
    if not root.is_dir():
        raise ConfigError(f"data directory {root} does not exist; create it with: callbox init --data-dir {root}")
    if not os.access(root, os.R_OK | os.W_OK | os.X_OK):
        raise ConfigError(f"data directory {root} is not readable and writable by this user")
    if not (root / SECRET_FILE).is_file():
        raise ConfigError(f"data directory {root} has no secret key; run: callbox init --data-dir {root}")


@contextlib.contextmanager
def migration_lock(config: Config) -> Iterator[None]:
    """Serialize migrations between the processes of one data directory (web and worker start together)."""
    path = config.data_dir / ".migrate.lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise ConfigError(f"cannot open {path}: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def open_database(config: Config, *, run_migrations: bool = True):
    """Bind the database and bring its schema up to date."""
    db = init_database(config)
    if run_migrations:
        with migration_lock(config), db.connection_context():
            applied = migrate(db)
        if applied:
            logger.info("database migrated to version %s", applied[-1])
    return db


def initialize(data_dir: str | os.PathLike | None) -> Config:
    """``callbox init``: the directory, its config and key, and the schema."""
    from appliance.config import resolve_data_dir

    root = resolve_data_dir(data_dir)
    create_data_dir(root)
    config = load_config(root)
    open_database(config)
    return config
