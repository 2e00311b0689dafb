"""The call list: filters, sorting, pages and the stats of everything the filter matches.

This is the busiest read of the appliance, so its SQL is written out here (from whitelisted column names only,
values always bound as parameters) and rows come back as plain dicts, not model instances: building the query
and the instances with peewee cost several times what SQLite needs to answer. Every filter column is indexed
behind the organization and before ``started_at, id`` (migration 0004), so a filtered page in the default order is
an index range read, and the stats (count, AI-handled, transfers, mean duration) of the common filters are an
index-only scan. Stats are cached per organization and filter until the organization's newest ``updated_at``
moves (one index probe per request); ``StatsCache.ttl`` bounds staleness after deletions, which move nothing.
"""
from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from appliance import phone
from appliance.business_hours import org_timezone
from appliance.errors import ValidationError
from data.db import database

FILTERS = {"status": "status", "direction": "direction", "agentId": "agent_id", "assistantId": "assistant_id",
           "campaignId": "campaign_id", "language": "language", "handledBy": "handled_by", "outcome": "outcome"}
SORTS = {"startedAt": "started_at", "endedAt": "ended_at", "durationSeconds": "duration_seconds",
         "status": "status", "direction": "direction", "fromNumber": "from_number", "toNumber": "to_number",
         "outcome": "outcome", "aiConfidence": "ai_confidence"}
NULLABLE = {"ended_at", "outcome", "ai_confidence"}
DEFAULT_SORT = "startedAt"
DENSE = 1000
"""More matches than this and a page is found by walking the list's order rather than by sorting the matches."""
LIST_COLUMNS = ("id", "direction", "status", "from_number", "to_number", "extension", "assistant_id",
                "phone_number_id", "agent_id", "campaign_id", "lead_id", "external_id", "source", "language",
                "handled_by", "outcome", "ended_reason", "started_at", "answered_at", "ended_at", "duration_seconds",
                "ai_confidence", "sentiment", "intent_detected", "recording_path", "created_at", "updated_at")
_STATS = ("SELECT COUNT(*), SUM(CASE WHEN handled_by = 'AI' THEN 1 ELSE 0 END), "
          "SUM(CASE WHEN outcome = 'TRANSFER' THEN 1 ELSE 0 END), "
          "AVG(CASE WHEN duration_seconds > 0 THEN duration_seconds END) FROM calls WHERE ")


class StatsCache:
    """A small LRU of list stats keyed by (organization, filter), valid while the data version is unchanged."""

    def __init__(self, max_entries: int = 512, ttl: float = 60.0) -> None:
        self.max_entries, self.ttl = max_entries, ttl
        self._entries: OrderedDict[tuple, tuple[Any, float, dict]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple, version: Any) -> dict | None:
        """The cached stats for ``key`` if computed at ``version`` within the TTL."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != version or time.monotonic() - entry[1] > self.ttl:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return dict(entry[2])

    def put(self, key: tuple, version: Any, stats: dict) -> None:
        """Remember stats computed at ``version``."""
        with self._lock:
            self._entries[key] = (version, time.monotonic(), dict(stats))
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


def _as_utc(value: dt.date | dt.datetime, org_id: str, *, end: bool) -> dt.datetime:
    """A date is a whole day in the workspace's time zone (``endDate`` inclusive); a datetime is exact."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value
    day = value + dt.timedelta(days=1) if end else value
    local = dt.datetime.combine(day, dt.time(), tzinfo=org_timezone(org_id))
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class Filter:
    """A parsed list filter: the WHERE clause with its parameters, and a key naming it for the stats cache.

    ``scan_where`` is the same condition written so that SQLite cannot use the number indexes: when a searched
    number is on most calls (the clinic's own), walking the list's order and checking each call beats sorting them.
    """

    org_id: str
    where: str
    params: tuple
    scan_where: str

    @property
    def key(self) -> tuple:
        """What names the filter in the stats cache (its SQL and values)."""
        return self.where, self.params

    @classmethod
    def parse(cls, org_id: str, args: dict) -> "Filter":
        """Build the filter from the API's query arguments (camelCase names, values already validated)."""
        p = database.param
        clauses, params = [f"organization_id = {p}"], [org_id]
        for name, column in FILTERS.items():
            if args.get(name) is not None:
                clauses.append(f"{column} = {p}")
                params.append(args[name])
        start = _as_utc(args["startDate"], org_id, end=False) if args.get("startDate") else None
        end = _as_utc(args["endDate"], org_id, end=True) if args.get("endDate") else None
        if start and end and end <= start:
            raise ValidationError("endDate must be after startDate", {"endDate": ["before startDate"]})
        for bound, op in ((start, ">="), (end, "<")):
            if bound is not None:
                clauses.append(f"started_at {op} {p}")
                params.append(bound)
        where = scan_where = " AND ".join(clauses)
        term = (args.get("search") or "").strip()
        if term:
            clause, scan_clause, values = _search(org_id, term)
            where, scan_where = f"{where} AND {clause}", f"{scan_where} AND {scan_clause}"
            params += values
        return cls(org_id, where, tuple(params), scan_where)


def _search(org_id: str, term: str) -> tuple[str, str, list]:
    """By caller/destination number or extension: a complete number is an index lookup, anything else a substring.

    Returns (clause, the clause without index use, parameters)."""
    p = database.param
    exact = phone.exact_number(term, phone.default_region(org_id))
    if exact:
        return (f"(from_number = {p} OR to_number = {p})", f"(from_number || '' = {p} OR to_number || '' = {p})",
                [exact, exact])
    # "(212) 555-01" is typed with punctuation and stored as +121255501..: compare digits when it has no letters
    needle = term if any(c.isalpha() for c in term) else ("".join(c for c in term if c.isdigit()) or term)
    columns = [f"LOWER({c}) LIKE {p} ESCAPE '\\'" for c in ("from_number", "to_number", "extension")]
    clause = "(" + " OR ".join(columns) + ")"
    return clause, clause, [_like(needle.lower())] * 3


def data_version(org_id: str) -> Any:
    """The organization's newest record change (an index probe)."""
    row = database.execute_sql(f"SELECT MAX(updated_at) FROM calls WHERE organization_id = {database.param}",
                               (org_id,)).fetchone()
    return row[0]


def compute_stats(flt: Filter) -> dict:
    """Count, AI-handled, transfers to people and mean duration of connected calls, in one aggregate."""
    total, ai, transfers, avg = database.execute_sql(_STATS + flt.where, flt.params).fetchone()
    return {"totalCalls": int(total or 0), "aiHandled": int(ai or 0), "humanTransfers": int(transfers or 0),
            "avgDuration": int(round(avg)) if avg is not None else 0}


def stats(flt: Filter, cache: StatsCache | None = None) -> dict:
    """The stats of the calls matching the filter (from the cache while nothing changed)."""
    if cache is None:
        return compute_stats(flt)
    found = cache.get(flt.key, data_version(flt.org_id))
    if found is not None:
        return found
    with database.atomic():  # one snapshot: the stats are filed under the version they were computed at
        version = data_version(flt.org_id)
        found = compute_stats(flt)
    cache.put(flt.key, version, found)
    return found


def _order(args: dict) -> str:
    sort = args.get("sortBy") or DEFAULT_SORT
    if sort not in SORTS:
        raise ValidationError(f"sortBy must be one of {', '.join(sorted(SORTS))}")
    column, direction = SORTS[sort], "ASC" if args.get("order") == "asc" else "DESC"
    nulls = " NULLS LAST" if column in NULLABLE else ""  # calls without a value come last, on any database
    return f"{column} {direction}{nulls}, id {direction}"


def rows(flt: Filter, args: dict, matches: int | None = None) -> list[dict]:
    """One page of the list in the requested order (ties by id), as dicts of ``LIST_COLUMNS``."""
    number, limit = args.get("page", 1), args.get("limit", 20)
    p = database.param
    where = flt.scan_where if matches is not None and matches > DENSE else flt.where
    sql = (f"SELECT {', '.join(LIST_COLUMNS)} FROM calls WHERE {where} ORDER BY {_order(args)} "
           f"LIMIT {p} OFFSET {p}")
    cursor = database.execute_sql(sql, flt.params + (limit, (number - 1) * limit))
    return [dict(zip(LIST_COLUMNS, row)) for row in cursor.fetchall()]


def page(org_id: str, args: dict, cache: StatsCache | None = None) -> tuple[list[dict], dict, dict]:
    """One page of the filtered, sorted list: (rows, stats of the whole filter, pagination)."""
    flt = Filter.parse(org_id, args)
    found = stats(flt, cache)
    found_rows = rows(flt, args, found["totalCalls"])
    number, limit, total = args.get("page", 1), args.get("limit", 20), found["totalCalls"]
    pages = math.ceil(total / limit) if total else 0
    return found_rows, found, {"page": number, "limit": limit, "total": total, "totalPages": pages,
                               "hasNext": number < pages, "hasPrev": number > 1}
