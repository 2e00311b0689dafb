"""Housekeeping: the worker's heartbeat and the daily purge of expired security rows.

The heartbeat has two sources. A periodic task (every minute, huey's finest crontab) proves the scheduler
and the worker threads really execute tasks; a small thread of the consumer process beats every
``[queue] heartbeat_seconds`` so the health endpoint sees a fresh beat well within its staleness window.
The thread only beats while every consumer thread is alive, so a worker whose threads died goes stale.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Callable

from huey import crontab
from peewee import DatabaseError

from appliance import accounts
from data.db import database
from data.models import Heartbeat
from jobs.queue import huey

logger = logging.getLogger(__name__)

COMPONENT = "worker"


def record_heartbeat(source: str) -> None:
    """Write the worker's heartbeat row (one row, upserted)."""
    Heartbeat.beat(COMPONENT, pid=os.getpid(), source=source)


@huey.periodic_task(crontab(minute="*"), expires=120)
def heartbeat() -> None:
    """Periodic: the worker executes tasks, so it is alive."""
    with database:
        record_heartbeat("task")


def _purge() -> int:
    with database:
        removed = accounts.purge_expired()
    logger.info("purged %d expired security rows", removed)
    return removed


@huey.task(retries=2, retry_delay=60)
def purge_expired() -> int:
    """Drop revoked tokens past their expiry and old login failures (idempotent); returns how many."""
    return _purge()


@huey.periodic_task(crontab(hour="3", minute="17"), retries=2, retry_delay=300)
def daily_purge() -> None:
    """Daily at 03:17 UTC: ``purge_expired`` (huey keeps no result for periodic tasks)."""
    _purge()


class HeartbeatThread:
    """Beats every ``interval`` seconds from inside the consumer process while ``alive()`` holds."""

    def __init__(self, interval: float, alive: Callable[[], bool], first_after: float = 0.5):
        self._interval = max(float(interval), 1.0)
        self._alive = alive
        self._first_after = first_after
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> None:
        """Begin beating; the first beat comes once the consumer has had ``first_after`` seconds to start."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop beating and wait (bounded) for the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        self._stop.wait(self._first_after)
        while not self._stop.is_set():
            if self._alive():
                self._beat()
            else:
                logger.warning("a consumer thread is not running; heartbeat withheld")
            self._stop.wait(self._interval)

    def _beat(self) -> None:
        try:
            with database.connection_context():
                record_heartbeat("consumer")
        except DatabaseError as exc:  # a locked or unreachable database must not kill the thread
            logger.warning("could not record the worker heartbeat: %s", exc)
