"""Calls in progress and how many calls run at once (the list itself is ``appliance.calls_list``).

Concurrency is a sweep over the calls' start (+1) and end (-1) instants done in SQL with a window function, so
the database does the work, not a Python loop over calls; Python only walks the (at most 1,440) buckets.
"""
from __future__ import annotations

import datetime as dt
import math

from appliance.errors import ValidationError
from data.base import utcnow
from data.calls import LIVE_STATUS, Call, TranscriptSegment
from data.db import database, is_postgres
from data.models import OrgSettings

DEFAULT_CONCURRENCY_LIMIT = 10
"""Simultaneous calls a small box carries when the workspace sets no ``maxConcurrentCalls``."""
PEAK_WINDOW = dt.timedelta(hours=24)
LIVE_TRANSCRIPT_TURNS = 6
GRANULARITY_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}

def live_calls(org_id: str, limit: int = 200) -> list[dict]:
    """Calls in progress, oldest first, each with its last few transcript turns and the words heard now."""
    calls = list(Call.select().where((Call.organization == org_id) & (Call.status == LIVE_STATUS))
                 .order_by(Call.started_at).limit(limit))
    turns: dict[str, list] = {c.id: [] for c in calls}
    if calls:
        segments = (TranscriptSegment.select().where(TranscriptSegment.call.in_(list(turns)))
                    .order_by(TranscriptSegment.call, TranscriptSegment.start_seconds))
        for seg in segments:
            turns[seg.call_id].append({"speaker": seg.speaker, "text": seg.text})
    now = utcnow()
    return [{"call": c, "durationSeconds": max(0, int((now - c.started_at).total_seconds())),
             "currentTranscript": _live_transcript(turns[c.id], c.current_transcript)} for c in calls]


def _live_transcript(turns: list[dict], partial: str | None) -> list[dict]:
    recent = turns[-LIVE_TRANSCRIPT_TURNS:]
    if partial:
        recent = recent + [{"speaker": "CALLER", "text": partial, "partial": True}]
    return recent


def concurrency_limit(org_id: str) -> int:
    """The workspace's ``maxConcurrentCalls`` setting, else the appliance default."""
    row = OrgSettings.get_or_none(OrgSettings.organization == org_id)
    value = (row.data or {}).get("maxConcurrentCalls") if row else None
    return value if isinstance(value, int) and value > 0 else DEFAULT_CONCURRENCY_LIMIT


def concurrency(org_id: str) -> dict:
    """``{current, peak, limit}``: calls in progress now, the most at once over the last 24 hours, the cap."""
    current = Call.select().where((Call.organization == org_id) & (Call.status == LIVE_STATUS)).count()
    now = utcnow()
    series = _bucket_levels(org_id, now - PEAK_WINDOW, now, int(PEAK_WINDOW.total_seconds()))
    peak = max([current] + [count for _, count in series])
    return {"current": current, "peak": peak, "limit": concurrency_limit(org_id)}


def concurrency_series(org_id: str, granularity: str, limit: int) -> list[dict]:
    """``[{timestamp, count}]`` oldest first: the most simultaneous calls within each UTC bucket."""
    step = GRANULARITY_SECONDS.get(granularity)
    if step is None:
        raise ValidationError("granularity must be minute, hour or day")
    now = utcnow()
    end_epoch = (int(now.replace(tzinfo=dt.timezone.utc).timestamp()) // step + 1) * step
    start = dt.datetime.fromtimestamp(end_epoch - step * limit, dt.timezone.utc).replace(tzinfo=None)
    levels = dict(_bucket_levels(org_id, start, now, step))
    return [{"timestamp": start + dt.timedelta(seconds=step * i), "count": levels.get(i, 0)} for i in range(limit)]


def _epoch(column: str) -> str:
    if is_postgres():
        return f"CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


_SWEEP = """
WITH ev AS (
    SELECT started_at AS t, 1 AS d FROM calls
     WHERE organization_id = {p} AND started_at < {p} AND (ended_at IS NULL OR ended_at > {p})
    UNION ALL
    SELECT ended_at AS t, -1 AS d FROM calls
     WHERE organization_id = {p} AND ended_at > {p} AND ended_at <= {p} AND started_at < {p}
), lv AS (
    SELECT t, d, SUM(d) OVER (ORDER BY t, d ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS level FROM ev
)
SELECT ({epoch} - {p}) / {p} AS bucket, MAX(level), SUM(d) FROM lv WHERE t >= {p} GROUP BY 1 ORDER BY 1
"""


def _bucket_levels(org_id: str, start: dt.datetime, end: dt.datetime, step: int) -> list[tuple[int, int]]:
    """(bucket index, peak level) for every bucket of ``step`` seconds from ``start`` to ``end``.

    A sweep over start (+1) and end (-1) points in SQL; buckets without points keep the level carried in."""
    sql = _SWEEP.format(p=database.param, epoch=_epoch("t"))
    start_epoch = int(start.replace(tzinfo=dt.timezone.utc).timestamp())
    params = (org_id, end, start, org_id, start, end, end, start_epoch, step, start)
    rows = database.execute_sql(sql, params).fetchall()
    carried = Call.select().where((Call.organization == org_id) & (Call.started_at < start)
                                  & (Call.ended_at.is_null() | (Call.ended_at > start))).count()
    buckets = math.ceil((end - start).total_seconds() / step) or 1
    found = {int(b): (int(top), int(delta)) for b, top, delta in rows}
    levels, level = [], carried
    for index in range(buckets):
        top, delta = found.get(index, (level, 0))
        levels.append((index, max(level, top)))
        level += delta
    return levels
