"""``callbox doctor``: check a data directory and the services it needs, one line per check.

Checks run in order; when one that the rest depend on fails (the directory, the config) the rest are
skipped. Features add checks by appending to ``EXTRA_CHECKS`` (the voice agent adds its ASR and TTS checks there).
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from peewee import DatabaseError

from appliance.config import CONFIG_FILE, Config, load_config
from appliance.errors import CallboxError

OK, WARN, FAIL = "ok", "warn", "FAIL"
DISK_WARN_BYTES = 1024 ** 3
DISK_FAIL_BYTES = 200 * 1024 ** 2


@dataclass(frozen=True)
class Check:
    status: str
    """``ok``, ``warn`` or ``FAIL``."""
    name: str
    """What was checked."""
    message: str
    """What was found, and for a problem what to do about it."""

    def line(self) -> str:
        return f"{self.status:<4}  {self.name}: {self.message}"


CheckFn = Callable[[Config], Iterable[Check]]


def check_directory(root: Path) -> Check:
    """The data directory exists, is ours, private and writable."""
    if not root.is_dir():
        return Check(FAIL, "data dir", f"{root} does not exist; create it with: callbox init --data-dir {root}")
    if not os.access(root, os.R_OK | os.W_OK | os.X_OK):
        return Check(FAIL, "data dir", f"{root} is not readable and writable by this user")
    mode = root.stat().st_mode & 0o777
    if mode & 0o077:
        return Check(WARN, "data dir", f"{root} has mode {mode:o}; others can look inside: chmod 700 {root}")
    if root.stat().st_uid != os.geteuid():
        return Check(WARN, "data dir", f"{root} belongs to another user (uid {root.stat().st_uid})")
    return Check(OK, "data dir", f"{root} (mode {mode:o})")


def check_config(root: Path) -> tuple[Config | None, Check]:
    """The config file parses and every setting is valid."""
    try:
        config = load_config(root)
    except CallboxError as exc:
        return None, Check(FAIL, "config", exc.message)
    where = root / CONFIG_FILE
    found = "parsed" if where.exists() else "absent, using defaults"
    return config, Check(OK, "config", f"{where} {found}")


def check_secret(config: Config) -> Iterable[Check]:
    """The secret key is present, long enough, and readable by nobody else."""
    path = config.secret_path
    if not path.is_file():
        yield Check(FAIL, "secret key", f"{path} is missing; run: callbox init --data-dir {config.data_dir}")
        return
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        yield Check(FAIL, "secret key", f"{path} has mode {mode:o}; others can read it: chmod 600 {path}")
    elif len(config.secret_key()) < 32:
        yield Check(FAIL, "secret key", f"{path} is shorter than 32 bytes")
    else:
        yield Check(OK, "secret key", f"present (mode {mode:o})")


def _schema_version(db) -> tuple[int, int]:
    from data.migrations import applied_versions, available

    latest = max((m.version for m in available()), default=0)
    if not db.table_exists("schema_migrations"):
        return 0, latest
    return max(applied_versions(db), default=0), latest


def _missing_sqlite_file(config: Config) -> Path | None:
    """The SQLite file when it does not exist (connecting would create an empty one)."""
    prefix = "sqlite:///"
    if config.database_url.startswith(prefix) and not Path(config.database_url[len(prefix):]).is_file():
        return Path(config.database_url[len(prefix):])
    return None


def check_database(config: Config) -> Iterable[Check]:
    """The database answers and its schema is at this version's latest migration."""
    from data.db import init_database

    missing = _missing_sqlite_file(config)
    if missing:
        yield Check(FAIL, "database", f"{missing} is missing; run: callbox init --data-dir {config.data_dir}")
        return
    db = init_database(config)
    try:
        with db.connection_context():
            db.execute_sql("SELECT 1").fetchone()
            current, latest = _schema_version(db)
    except DatabaseError as exc:
        yield Check(FAIL, "database", f"cannot use the database: {exc}")
        return
    if current < latest:
        yield Check(FAIL, "database", f"schema at version {current}, this Callbox needs {latest}: "
                                      f"run callbox init --data-dir {config.data_dir}")
    elif current > latest:
        yield Check(WARN, "database", f"schema at version {current} is newer than this Callbox ({latest})")
    else:
        yield Check(OK, "database", f"reachable, schema at version {current} (latest)")


def check_queue(config: Config) -> Iterable[Check]:
    """The queue storage answers."""
    from jobs.queue import bind_queues, huey, queue_status

    try:
        bind_queues(config)
    except CallboxError as exc:
        yield Check(FAIL, "queue", exc.message)
        return
    status = queue_status(huey)
    if status["status"] != "ok":
        yield Check(FAIL, "queue", f"storage does not answer: {status.get('error')}")
    else:
        yield Check(OK, "queue", f"reachable, {status['pending']} pending, {status['scheduled']} scheduled")


def check_worker(config: Config) -> Iterable[Check]:
    """Whether a worker has reported recently (a warning only: doctor may run while Callbox is stopped)."""
    from data.base import utcnow
    from data.db import database, init_database
    from data.models import Heartbeat

    if _missing_sqlite_file(config):
        return
    if database.obj is None:
        init_database(config)
    try:
        with database.connection_context():
            beat = Heartbeat.get_or_none(Heartbeat.component == "worker")
    except DatabaseError as exc:
        yield Check(WARN, "worker", f"cannot read heartbeats: {exc}")
        return
    if beat is None:
        yield Check(WARN, "worker", "has never reported; is `callbox worker` (or `callbox up`) running?")
        return
    age = (utcnow() - beat.at).total_seconds()
    fresh = age <= config.queue.heartbeat_seconds * 3
    yield Check(OK if fresh else WARN, "worker", f"last heartbeat {dt.timedelta(seconds=int(age))} ago")


def check_disk(config: Config) -> Iterable[Check]:
    """Free space where the data directory lives."""
    free = shutil.disk_usage(config.data_dir).free
    text = f"{free / 1024 ** 3:.1f} GB free"
    if free < DISK_FAIL_BYTES:
        yield Check(FAIL, "disk", f"only {text}; recordings and the database need room")
    elif free < DISK_WARN_BYTES:
        yield Check(WARN, "disk", f"only {text}")
    else:
        yield Check(OK, "disk", text)


def check_models(config: Config) -> Iterable[Check]:
    """What speech models the data directory holds."""
    folder = config.models_dir
    if not folder.is_dir():
        yield Check(WARN, "models", f"{folder} is missing (built-in engines only)")
        return
    names = sorted(entry.name for entry in folder.iterdir() if not entry.name.startswith("."))
    listed = ", ".join(names) if names else "none installed (built-in engines only)"
    yield Check(OK, "models", f"{folder}: {listed}")


CHECKS: list[CheckFn] = [check_secret, check_database, check_queue, check_worker, check_disk, check_models]
def check_speech_models(config: Config) -> Iterable[Check]:
    """The voice agent's recognizer and voice (``voice.checks``)."""
    from voice.checks import speech_checks
    return speech_checks(config)


EXTRA_CHECKS: list[CheckFn] = [check_speech_models]
"""Checks that features register (ASR and TTS engines, SIP accounts, ...); each yields ``Check`` lines."""


def _guarded(fn: CheckFn, config: Config) -> list[Check]:
    try:
        return list(fn(config))
    except (CallboxError, DatabaseError, OSError, ImportError) as exc:  # one broken part must not hide the rest
        name = fn.__name__.removeprefix("check_").replace("_", " ")
        return [Check(FAIL, name, f"check failed: {getattr(exc, 'message', None) or exc}")]


def run_checks(root: Path) -> list[Check]:
    """Every check for the data directory at ``root``."""
    results = [check_directory(root)]
    if results[0].status == FAIL:
        return results
    config, parsed = check_config(root)
    results.append(parsed)
    if config is None:
        return results
    for fn in CHECKS + EXTRA_CHECKS:
        results.extend(_guarded(fn, config))
    return results


def doctor(root: Path, out: Callable[[str], None] = print) -> int:
    """Run every check, print one line each; 1 when any failed, else 0."""
    results = run_checks(root)
    for check in results:
        out(check.line())
    failed = [c for c in results if c.status == FAIL]
    out(f"{len(failed)} problem(s) found" if failed else "all checks passed")
    return 1 if failed else 0
