"""Shared model plumbing: the base classes, ids, times and JSON columns."""
from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
import time

from peewee import CharField, DateTimeField, Model, TextField

from data.db import database

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


_id_lock = threading.Lock()
_id_last = [0, 0]  # (millisecond, sequence within it) of the last id made by this process


def _b32(value: int, chars: int) -> str:
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(5 * (chars - 1), -1, -5))


def new_id(prefix: str) -> str:
    """An opaque, time-sortable id with a type prefix (``usr_01h...``).

    Ids made by one process sort in creation order even within a millisecond (a sequence follows the time),
    so rows created together (a call's events) keep their order when sorted by time and id.
    """
    millis = int(time.time() * 1000)
    with _id_lock:
        if millis <= _id_last[0]:
            millis, seq = _id_last[0], _id_last[1] + 1
            if seq >= 1024:
                millis, seq = millis + 1, 0
        else:
            seq = 0
        _id_last[0], _id_last[1] = millis, seq
    rand = "".join(secrets.choice(_CROCKFORD) for _ in range(10))
    return f"{prefix}_{_b32(millis, 10)}{_b32(seq, 2)}{rand}"


def utcnow() -> dt.datetime:
    """Now in UTC, naive (the database stores UTC without zone)."""
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def isoformat(value: dt.datetime | None) -> str | None:
    """ISO 8601 UTC with ``Z``, as the API shows every time."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


class JSONField(TextField):
    """A JSON document stored as text (portable across SQLite and PostgreSQL)."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(Model):
    """Every table: bound to the database proxy, string primary keys."""

    class Meta:
        database = database
        legacy_table_names = False


class IdField(CharField):
    """A primary key made by ``new_id``."""

    def __init__(self, prefix: str, **kwargs):
        self.prefix = prefix
        super().__init__(primary_key=True, default=lambda: new_id(prefix), **kwargs)


def created_field() -> DateTimeField:
    """A ``created_at`` column filled on insert."""
    return DateTimeField(default=utcnow)


class CompiledQuery:
    """A peewee query whose SQL is built once and re-run with new parameters (hot paths only).

    Building a joined query costs peewee far more than SQLite takes to run it; here ``build(*sentinels)`` is
    called once per database type with placeholder values, and each run swaps the real values in by position.
    Rows come back as model instances, joined models attached (``models[0]`` gets the others by field name).
    """

    def __init__(self, build, models: tuple[type[Model], ...], links: tuple[str, ...]):
        self._build, self._models, self._links = build, models, links
        self._cache: dict[type, tuple[str, list[int]]] = {}

    def _compiled(self, arity: int) -> tuple[str, list[int]]:
        kind = type(database.obj)
        if kind not in self._cache:
            sentinels = [f"__param_{i}__" for i in range(arity)]
            sql, params = self._build(*sentinels).sql()
            self._cache[kind] = (sql, [sentinels.index(p) for p in params])
        return self._cache[kind]

    def first(self, *args):
        """The first row as joined model instances, or None."""
        sql, order = self._compiled(len(args))
        row = database.execute_sql(sql, [args[i] for i in order]).fetchone()
        if row is None:
            return None
        instances, at = [], 0
        for model in self._models:
            fields = model._meta.sorted_fields
            values = {f.name: f.python_value(v) for f, v in zip(fields, row[at:at + len(fields)])}
            instances.append(model(__no_default__=True, **values))
            at += len(fields)
        for link, other in zip(self._links, instances[1:]):
            setattr(instances[0], link, other)
        return instances[0]
