"""The Huey instances, and only them.

They are declared unbound (in-memory, nothing opened) so tasks can be decorated at import;
``bind_queues(config)`` points them at the real storage: SQLite files in the data directory by default,
Redis when ``[queue] url`` says so. ``jobs`` is consumed by ``callbox worker``; ``voice`` by ``callbox voice``.
"""
from __future__ import annotations

from huey import MemoryHuey
from huey.storage import SqliteStorage

from appliance.config import Config
from appliance.errors import ConfigError

huey = MemoryHuey("jobs", utc=True)
voice_huey = MemoryHuey("voice", utc=True)


def _storage(config: Config, name: str):
    url = config.queue.url
    if not url:
        return SqliteStorage(name=name, filename=str(config.data_dir / f"queue-{name}.db" if name != "jobs"
                                                     else config.queue_path))
    if url.startswith(("redis://", "rediss://", "unix://")):
        from huey.storage import RedisStorage
        from redis import ConnectionPool
        return RedisStorage(name=name, connection_pool=ConnectionPool.from_url(url))
    raise ConfigError(f"unsupported queue URL {url.split(':', 1)[0]!r}: use redis:// or leave it empty for SQLite")


def bind_queues(config: Config) -> None:
    """Bind both queues to the configured storage (tests: immediate mode, in memory), and the tasks' runtime."""
    from jobs import runtime

    runtime.bind(config)
    for queue in (huey, voice_huey):
        if config.testing:
            queue.immediate = True
            continue
        queue.immediate = False
        queue.storage = _storage(config, queue.name)


def queue_status(queue=huey) -> dict:
    """How the queue storage answers: reachable or not, and how many tasks wait."""
    try:
        return {"status": "ok", "pending": queue.pending_count(), "scheduled": queue.scheduled_count()}
    except Exception as exc:  # any storage failure means the queue is down; reported, not raised
        return {"status": "error", "error": str(exc) or exc.__class__.__name__}
