"""The dashboard's call figures, from per-day rollups: one grouped query counts a range of days at once.

Days before today change little once their calls are analysed, so their rollups are kept for ``PAST_TTL`` seconds
(per app, per workspace and day); today's are counted afresh on every view. A 30-day dashboard over a busy box then
costs one small query for today plus, now and then, one query for the past days.

Days and hours are the workspace's local ones: the UTC offset of its time zone now is applied in SQL (a period that
crosses a daylight-saving change is off by an hour on one side of it, which a dashboard can bear; converting each
call exactly would mean reading every call into Python).
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

from appliance.business_hours import org_timezone
from data.db import database, is_postgres

logger = logging.getLogger(__name__)

PAST_TTL = 300.0
MAX_ENTRIES = 20_000
TOP_INTENTS = 8
HANDLERS = {"AI": "Handled by the AI", "HUMAN": "Handled by staff", "HYBRID": "AI, then staff",
            None: "Not answered"}


@dataclass
class DayRollup:
    """What one local day's calls add up to."""

    total: int = 0
    ai: int = 0
    ai_resolved: int = 0
    transfers: int = 0
    missed: int = 0
    bookings: int = 0
    handlers: Counter = field(default_factory=Counter)
    hours: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    sentiments: Counter = field(default_factory=Counter)
    intents: Counter = field(default_factory=Counter)

    def add(self, hour, handled_by, outcome, sentiment, intent, status, n: int) -> None:
        """Count ``n`` calls with these values."""
        self.total += n
        self.ai += n if handled_by == "AI" else 0
        self.ai_resolved += n if handled_by == "AI" and outcome in ("INFO", "BOOKING") else 0
        self.transfers += n if outcome == "TRANSFER" else 0
        self.missed += n if outcome == "MISSED" or status == "no_answer" else 0
        self.bookings += n if outcome == "BOOKING" else 0
        self.handlers[handled_by] += n
        self.hours[int(hour)] += n
        for counter, value in ((self.outcomes, outcome), (self.sentiments, sentiment), (self.intents, intent)):
            if value:
                counter[value] += n


def _local(part: str, offset: int) -> str:
    """SQL for the local day or hour of ``started_at``."""
    if is_postgres():
        fmt = "YYYY-MM-DD" if part == "day" else "HH24"
        return f"to_char(started_at + interval '{int(offset)} seconds', '{fmt}')"
    fmt = "%Y-%m-%d" if part == "day" else "%H"
    return f"strftime('{fmt}', started_at, '{int(offset):+d} seconds')"


def count_days(org_id: str, first: dt.date, last: dt.date, offset: int) -> dict[dt.date, DayRollup]:
    """Rollups of the local days ``first``..``last`` in one grouped query (days without calls are empty)."""
    start = dt.datetime.combine(first, dt.time()) - dt.timedelta(seconds=offset)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time()) - dt.timedelta(seconds=offset)
    p = database.param
    sql = (f"SELECT {_local('day', offset)}, {_local('hour', offset)}, handled_by, outcome, sentiment, "
           f"intent_detected, status, COUNT(*) FROM calls WHERE organization_id = {p} AND started_at >= {p} "
           f"AND started_at < {p} GROUP BY 1, 2, 3, 4, 5, 6, 7")
    days = {first + dt.timedelta(days=i): DayRollup() for i in range((last - first).days + 1)}
    for day, hour, *values, n in database.execute_sql(sql, (org_id, start, end)).fetchall():
        rollup = days.get(dt.date.fromisoformat(day))
        if rollup is not None:
            rollup.add(hour, *values, n)
    return days


class RollupCache:
    """Past days' rollups per (workspace, day, offset) for ``PAST_TTL`` seconds; today is never cached."""

    def __init__(self, ttl: float = PAST_TTL, max_entries: int = MAX_ENTRIES):
        self.ttl, self.max_entries = ttl, max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, tuple[float, DayRollup]] = OrderedDict()

    def _cached(self, key: tuple) -> DayRollup | None:
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] > self.ttl:
            return None
        return entry[1]

    def days(self, org_id: str, first: dt.date, last: dt.date, today: dt.date, offset: int) -> list[DayRollup]:
        """The rollups of every day of the period, oldest first."""
        wanted = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        with self._lock:
            found = {d: self._cached((org_id, d, offset)) for d in wanted if d < today}
        missing = [d for d in wanted if d < today and found[d] is None]
        if missing:
            counted = count_days(org_id, missing[0], missing[-1], offset)
            with self._lock:
                for day, rollup in counted.items():
                    self._entries[(org_id, day, offset)] = (time.monotonic(), rollup)
                    self._entries.move_to_end((org_id, day, offset))
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
            found.update({d: counted[d] for d in missing})
        if first <= today <= last:
            found.update(count_days(org_id, today, today, offset))
        return [found.get(d) or DayRollup() for d in wanted]


def _series(counter: Counter, limit: int = 10) -> dict:
    pairs = sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))[:limit]
    return {"labels": [str(k).replace("_", " ").lower() for k, _ in pairs],
            "series": [{"label": "Calls", "data": [n for _, n in pairs]}]}


def _hours(total: Counter) -> dict:
    used = [h for h in range(24) if total.get(h)] or [8, 18]
    hours = range(min(used), max(used) + 1)
    return {"labels": [f"{h:02d}:00" for h in hours], "series": [{"label": "Calls", "data": [total.get(h, 0)
                                                                                            for h in hours]}]}


def summary(cache: RollupCache, org_id: str, first: dt.date, last: dt.date, today: dt.date) -> tuple[dict, dict]:
    """(KPI tiles, charts) of the calls of the local days ``first``..``last``."""
    offset = int(dt.datetime.now(org_timezone(org_id)).utcoffset().total_seconds())
    days = cache.days(org_id, first, last, today, offset)
    labels = [(first + dt.timedelta(days=i)).isoformat() for i in range(len(days))]
    total = DayRollup()
    for rollup in days:
        for name in ("total", "ai", "ai_resolved", "transfers", "missed", "bookings"):
            setattr(total, name, getattr(total, name) + getattr(rollup, name))
        for name in ("handlers", "hours", "outcomes", "sentiments", "intents"):
            getattr(total, name).update(getattr(rollup, name))
    series = [{"label": label, "data": [r.handlers.get(key, 0) for r in days]} for key, label in HANDLERS.items()]
    if today.isoformat() in labels:
        today_total = days[labels.index(today.isoformat())].total
    else:
        today_total = count_days(org_id, today, today, offset)[today].total
    kpis = {"total": total.total, "today": today_total, "ai": total.ai, "transfers": total.transfers,
            "missed": total.missed, "bookings": total.bookings,
            "resolution": round(100 * total.ai_resolved / total.ai) if total.ai else 0}
    charts = {"callsByDay": {"labels": labels, "series": [s for s in series if any(s["data"])] or series[:1]},
              "callsByHour": _hours(total.hours), "outcomes": _series(total.outcomes),
              "sentiment": _series(total.sentiments), "intents": _series(total.intents, TOP_INTENTS)}
    return kpis, charts
