"""``callbox backup`` and ``callbox restore``: the database (a consistent online copy), config and key.

A backup is a ``.tar.gz`` holding ``callbox.db`` (SQLite's online backup API, so it is consistent while
Callbox runs), ``callbox.toml``, ``secret.key`` (without it sealed secrets and tokens cannot be read) and a
``manifest.json``. Recordings are files under ``recordings/``; copy that folder alongside.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import shutil
import sqlite3
import tarfile
import tempfile
from pathlib import Path

from appliance import __version__
from appliance.config import CONFIG_FILE, SECRET_FILE, Config
from appliance.errors import CallboxError, ConfigError, Conflict

logger = logging.getLogger(__name__)

DB_FILE = "callbox.db"
MANIFEST = "manifest.json"
MEMBERS = (DB_FILE, CONFIG_FILE, SECRET_FILE, MANIFEST)


class BackupError(CallboxError):
    """The backup could not be made or restored."""


def _sqlite_path(config: Config) -> Path:
    url = config.database_url
    if not url.startswith("sqlite:///"):
        raise ConfigError("backup covers the built-in SQLite database only; back up PostgreSQL with pg_dump")
    return Path(url[len("sqlite:///"):])


def _online_copy(source: Path, target: Path) -> int:
    """Copy a live SQLite database consistently; returns its schema version."""
    if not source.is_file():
        raise BackupError(f"no database at {source}; nothing to back up")
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        row = dst.execute("SELECT max(version) FROM schema_migrations").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"cannot back up {source}: {exc}") from exc
    finally:
        dst.close()
        src.close()
    return int(row[0] or 0)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(dt.datetime.now().timestamp())
    tar.addfile(info, io.BytesIO(data))


def create_backup(config: Config, output: Path | None = None) -> Path:
    """Write a backup archive (default ``<data dir>/backups/callbox-<UTC time>.tar.gz``); returns its path."""
    source = _sqlite_path(config)
    folder = config.data_dir / "backups"
    folder.mkdir(mode=0o700, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    target = Path(output) if output else folder / f"callbox-{stamp}.tar.gz"
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        copy = Path(tmp) / DB_FILE
        version = _online_copy(source, copy)
        manifest = {"format": 1, "callboxVersion": __version__, "schemaVersion": version,
                    "createdAt": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        partial = Path(tmp) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(copy, arcname=DB_FILE)
            for name in (CONFIG_FILE, SECRET_FILE):
                if (config.data_dir / name).is_file():
                    _add_bytes(tar, name, (config.data_dir / name).read_bytes())
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode())
        os.chmod(partial, 0o600)
        shutil.move(partial, target)
    logger.info("backup written to %s (schema version %s)", target, version)
    return target


def _read_archive(archive: Path) -> dict[str, bytes]:
    """The archive's known members by name; refuses anything else (no paths, no links)."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            found = {}
            for member in tar.getmembers():
                if member.name not in MEMBERS or not member.isfile():
                    raise BackupError(f"{archive} is not a Callbox backup (unexpected entry {member.name!r})")
                found[member.name] = tar.extractfile(member).read()
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise BackupError(f"cannot read backup {archive}: {exc}") from exc
    if DB_FILE not in found or SECRET_FILE not in found:
        raise BackupError(f"{archive} is not a Callbox backup (no database or key)")
    return found


def _has_data(db_path: Path) -> bool:
    """Whether a database file holds any organization or user."""
    if not db_path.is_file() or db_path.stat().st_size == 0:
        return False
    conn = sqlite3.connect(db_path, timeout=5)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return any(conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone()
                   for t in ("organizations", "users") if t in tables)
    except sqlite3.DatabaseError:
        return True  # unreadable counts as "something is there": only --force replaces it
    finally:
        conn.close()


def _check_version(manifest: dict, archive: Path) -> None:
    from data.migrations import available

    latest = max((m.version for m in available()), default=0)
    if int(manifest.get("schemaVersion") or 0) > latest:
        raise BackupError(f"{archive} comes from a newer Callbox (schema {manifest['schemaVersion']}, "
                          f"this one knows {latest}); upgrade Callbox first")


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def restore_backup(root: Path, archive: Path, force: bool = False) -> dict:
    """Put a backup's database, config and key into ``root``; returns the backup's manifest."""
    members = _read_archive(archive)
    try:
        manifest = json.loads(members.get(MANIFEST) or b"{}")
    except ValueError as exc:
        raise BackupError(f"{archive} has an unreadable manifest: {exc}") from exc
    _check_version(manifest, archive)
    db_path = root / DB_FILE
    if _has_data(db_path) and not force:
        raise Conflict(f"{db_path} already holds data; stop Callbox and pass --force to replace it")
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    staged = root / f".{DB_FILE}.restoring"
    _write_private(staged, members[DB_FILE])
    for suffix in ("-wal", "-shm"):  # a stale write-ahead log would be replayed onto the restored file
        (root / f"{DB_FILE}{suffix}").unlink(missing_ok=True)
    os.replace(staged, db_path)
    _write_private(root / SECRET_FILE, members[SECRET_FILE])
    if CONFIG_FILE in members:
        _write_private(root / CONFIG_FILE, members[CONFIG_FILE])
    for sub in ("recordings", "models", "backups"):
        (root / sub).mkdir(mode=0o700, exist_ok=True)
    logger.info("restored %s into %s", archive, root)
    return manifest
