"""Call list benchmark: ``GET /api/v1/calls`` with filters over 100,000 calls, requests/s and p50/p99 latency,
against a plain Flask hello-world served the same way in the same run.

    .venv/bin/python bench/calls.py [--calls 100000] [--rounds 5] [--duration 3] [--clients 8]

Targets: p99 <= 50 ms and at least 40% of the hello-world throughput for each list request. The list's stats are
cached until the organization's records change, so the load rounds measure the steady state of a list page; the
cold cost (stats recomputed over every matching call, one request at a time, each with a filter never seen
before) is measured and printed separately.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api import EMAIL, PASSWORD, bench_config, login  # noqa: E402
from bench.common import (add_load_args, Server, Target, measure, percentile, request, table,  # noqa: E402
                          throughput_verdict)

MIN_RATIO, MAX_P99_MS = 0.4, 50.0
DAYS = 365


def seed(data_dir: Path, count: int) -> None:
    """A data directory with one organization holding ``count`` calls over the last year."""
    from appliance import accounts
    from appliance.calls_demo import synthetic_calls
    from appliance.datadir import create_data_dir, open_database
    from data.base import JSONField
    from data.calls import Call
    from data.db import database

    create_data_dir(data_dir)
    open_database(bench_config(str(data_dir)))
    with database.connection_context():
        _, org = accounts.signup(EMAIL, PASSWORD, "Bench Owner", "Bench Clinic")
        rows = synthetic_calls(org.id, count, DAYS, seed=7)
        fields = Call._meta.sorted_fields
        sql = (f"INSERT INTO calls ({', '.join(f.column_name for f in fields)}) "
               f"VALUES ({', '.join([database.param] * len(fields))})")
        # peewee's insert_many builds SQL per batch at ~1 ms a row; executemany with converted values is 20x faster
        defaults = [f.default() if callable(f.default) else f.default for f in fields]
        convert = [f.db_value if isinstance(f, JSONField) else None for f in fields]
        values = [tuple(c(row.get(f.name, d)) if c else row.get(f.name, d)
                        for f, d, c in zip(fields, defaults, convert)) for row in rows]
        with database.atomic():
            database.cursor().executemany(sql, values)
        database.execute_sql("ANALYZE")  # as a long-running box would have (PRAGMA optimize)
    database.close()


def list_targets(port: int, auth: dict) -> list[Target]:
    """The list requests measured: the default page, and the filters a supervisor uses."""
    month_ago = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=30)).date().isoformat()
    paths = {
        "calls (default page)": "/api/v1/calls",
        "calls status+dir+30d": f"/api/v1/calls?status=completed&direction=inbound&startDate={month_ago}",
        "calls lang+AI by dur": "/api/v1/calls?language=es&handledBy=AI&sortBy=durationSeconds&order=desc",
        "calls outcome p50": "/api/v1/calls?outcome=TRANSFER&page=50&limit=50",
        "calls search number": "/api/v1/calls?search=" + quote("(212) 555-0123"),
    }
    return [Target(name, port, path, auth) for name, path in paths.items()]


def check_targets(targets: list[Target], expect_calls: int) -> None:
    """Each request answers 200 before it is measured; the unfiltered list sees every call."""
    for target in targets:
        status, raw = request(target.port, "GET", target.path, headers=target.headers)
        if status != 200:
            raise SystemExit(f"{target.name}: HTTP {status}: {raw[:300]!r}")
        body = json.loads(raw)
        if target.path == "/api/v1/calls" and body["stats"]["totalCalls"] != expect_calls:
            raise SystemExit(f"the list reports {body['stats']['totalCalls']} calls, expected {expect_calls}")
        print(f"  {target.name:<22} total {body['pagination']['total']:>7}  {target.path}")


def cold(port: int, auth: dict, samples: int) -> tuple[float, float]:
    """p50/p99 ms of list requests whose stats are not cached (a start instant never asked before, each time)."""
    took = []
    base = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=DAYS + 1)
    for n in range(samples):
        since = (base + dt.timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        began = time.perf_counter()
        status, raw = request(port, "GET", f"/api/v1/calls?startDate={since}", headers=auth)
        took.append((time.perf_counter() - began) * 1000)
        if status != 200:
            raise SystemExit(f"cold request: HTTP {status}: {raw[:200]!r}")
    took.sort()
    return statistics.median(took), percentile(took, 99)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100_000, help="calls in the organization (default 100000)")
    add_load_args(parser)
    parser.add_argument("--cold", type=int, default=40, help="uncached requests timed one by one (default 40)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; exit 1 when a target is missed."""
    args = parse_args(argv)
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="callbox-bench-calls-") as tmp:
        data_dir = Path(tmp) / "data"
        print(f"seeding {args.calls} calls in {data_dir}")
        seed(data_dir, args.calls)
        print(f"  seeded in {time.monotonic() - began:.0f} s")
        with Server("bench.common:hello_app", threads=args.threads) as hello, \
                Server("bench.api:callbox_app", threads=args.threads, data_dir=str(data_dir)) as api:
            auth = {"Authorization": f"Bearer {login(api.port)}"}
            targets = [Target("hello-world", hello.port, "/")] + list_targets(api.port, auth)
            check_targets(targets[1:], args.calls)
            cold_p50, cold_p99 = cold(api.port, auth, args.cold)
            print(f"measuring: {args.clients} clients, {args.rounds} rounds x {args.duration:g} s per target, "
                  f"waitress threads={args.threads}")
            summaries = measure(targets, args.rounds, args.clients, args.duration)
    print()
    print(table(summaries, "hello-world"))
    print(f"\nuncached stats (one request at a time, full scan of {args.calls} calls by start time): "
          f"p50 {cold_p50:.1f} ms, p99 {cold_p99:.1f} ms")
    lines = throughput_verdict(summaries, MIN_RATIO, MAX_P99_MS)
    print("\n".join(lines))
    print(f"(total {time.monotonic() - began:.0f} s)")
    return 0 if all(line.startswith("PASS") for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
