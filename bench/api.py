"""API benchmark: requests/s and p50/p99 latency of ``GET /api/v1/auth/me`` and ``GET /api/v1/users`` (an
organization of 1,000 users) through waitress on loopback, against a plain Flask hello-world served the same way
in the same run.

    .venv/bin/python bench/api.py [--rounds 5] [--duration 3] [--clients 8] [--users 1000]

Targets: at least 50% of the hello-world throughput; p99 under 25 ms at 8 concurrent clients.
Each server runs in its own process (waitress, 8 threads as in production); each client is its own process
holding one keep-alive connection. Rounds are interleaved across targets and the medians are reported.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import add_load_args, Server, Target, measure, request, table, throughput_verdict  # noqa: E402

EMAIL, PASSWORD = "owner@bench.local", "bench-password-123"
HIGH_LIMITS = {"per_user": "100000000/hour", "per_ip": "100000000/hour"}
MIN_RATIO, MAX_P99_MS = 0.5, 25.0


def bench_config(data_dir: str):
    """The appliance configuration for the bench: defaults, rate limits on but far out of reach."""
    from appliance.config import load_config

    return load_config(data_dir, env={}, ratelimit=HIGH_LIMITS)


def callbox_app(data_dir: str):
    """Server process: the real web application on the bench's data directory."""
    from appliance.datadir import open_database
    from web import create_app

    config = bench_config(data_dir)
    open_database(config)
    return create_app(config)


def seed(data_dir: Path, users: int) -> None:
    """A data directory with one organization: its OWNER plus ``users - 1`` members."""
    from appliance import accounts
    from appliance.datadir import create_data_dir, open_database
    from appliance.roles import Role
    from appliance.security import hash_password
    from data.base import new_id, utcnow
    from data.db import database
    from data.models import Membership, User

    create_data_dir(data_dir)
    open_database(bench_config(str(data_dir)))
    with database.connection_context():
        owner, org = accounts.signup(EMAIL, PASSWORD, "Bench Owner", "Bench Org")
        shared_hash = hash_password("member-password-123")  # one hash: 999 argon2 runs would dominate set-up
        roles = [Role.ADMIN, Role.MANAGER, Role.AGENT, Role.VIEWER]
        rows = [{"id": new_id("usr"), "email": f"user{n}@bench.local", "name": f"Bench User {n}",
                 "password_hash": shared_hash, "created_at": utcnow(), "updated_at": utcnow()}
                for n in range(1, users)]
        with database.atomic():
            for start in range(0, len(rows), 200):
                User.insert_many(rows[start:start + 200]).execute()
            Membership.insert_many([{"id": new_id("mem"), "organization": org.id, "user": row["id"],
                                     "role": roles[n % len(roles)].value, "created_at": utcnow()}
                                    for n, row in enumerate(rows)]).execute()
    database.close()


def login(port: int) -> str:
    """Sign in as the OWNER through the API; the access token."""
    body = json.dumps({"email": EMAIL, "password": PASSWORD}).encode()
    status, raw = request(port, "POST", "/api/v1/auth/login", body, {"Content-Type": "application/json"})
    if status != 200:
        raise SystemExit(f"login failed: HTTP {status}: {raw[:200]!r}")
    return json.loads(raw)["data"]["token"]


def check_targets(targets: list[Target], expect_users: int) -> None:
    """Each endpoint answers 200 before it is measured (and /users sees the whole organization)."""
    for target in targets:
        status, raw = request(target.port, "GET", target.path, headers=target.headers)
        if status != 200:
            raise SystemExit(f"{target.name}: HTTP {status}: {raw[:200]!r}")
        if target.path == "/api/v1/users":
            total = json.loads(raw)["pagination"]["total"]
            if total != expect_users:
                raise SystemExit(f"/users reports {total} users, expected {expect_users}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_args(parser)
    parser.add_argument("--users", type=int, default=1000, help="users in the organization (default 1000)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; exit 1 when a target is missed."""
    args = parse_args(argv)
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="callbox-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        print(f"seeding an organization with {args.users} users in {data_dir}")
        seed(data_dir, args.users)
        with Server("bench.common:hello_app", threads=args.threads) as hello, \
                Server("bench.api:callbox_app", threads=args.threads, data_dir=str(data_dir)) as api:
            auth = {"Authorization": f"Bearer {login(api.port)}"}
            targets = [Target("hello-world", hello.port, "/"),
                       Target("GET /api/v1/auth/me", api.port, "/api/v1/auth/me", auth),
                       Target("GET /api/v1/users", api.port, "/api/v1/users", auth)]
            check_targets(targets, args.users)
            print(f"measuring: {args.clients} clients, {args.rounds} rounds x {args.duration:g} s per target, "
                  f"waitress threads={args.threads}")
            summaries = measure(targets, args.rounds, args.clients, args.duration)
    print()
    print(table(summaries, "hello-world"))
    print()
    lines = throughput_verdict(summaries, MIN_RATIO, MAX_P99_MS)
    print("\n".join(lines))
    print(f"(total {time.monotonic() - began:.0f} s)")
    return 0 if all(line.startswith("PASS") for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
