"""Webhook delivery benchmark: deliveries per second from one ``callbox worker`` to loopback receivers, and the
latency from ``emit`` (the event committed to the outbox) to receipt, p50/p99, when the queue is not backlogged.

    .venv/bin/python bench/webhooks.py [--burst 3000] [--endpoints 1 4] [--rate 50] [--seconds 10]

Targets: at least 300 deliveries/s; p99 at most 1 s unbacklogged. The worker runs as in production (its own
process, default settings, SQLite in WAL mode); each receiver is its own process (a threaded HTTP server that
logs ``event-id arrival-time`` per request), so neither competes with the worker for its interpreter.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import free_port, wait_for_port  # noqa: E402

MIN_RATE, MAX_P99 = 300.0, 1.0


def _receive(port: int, log_path: str) -> None:
    """Receiver process: answer 200 to every POST and log the event id with its arrival time."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    log = open(log_path, "a", buffering=1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            log.write(f"{self.headers['X-Webhook-Id']} {time.time():.6f}\n")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    server.serve_forever()


class Receivers:
    """``count`` receiver processes on loopback ports."""

    def __init__(self, count: int, root: Path):
        self.logs = [root / f"receiver-{i}.log" for i in range(count)]
        self.ports = [free_port() for _ in range(count)]
        ctx = mp.get_context("spawn")
        self.procs = [ctx.Process(target=_receive, args=(p, str(log)), daemon=True)
                      for p, log in zip(self.ports, self.logs)]

    def __enter__(self) -> "Receivers":
        for proc, port in zip(self.procs, self.ports):
            proc.start()
            wait_for_port(port, process=proc)
        return self

    def __exit__(self, *exc) -> None:
        for proc in self.procs:
            proc.terminate()
            proc.join(5)

    def arrivals(self) -> dict[str, float]:
        """First arrival time of each event id, over every receiver."""
        seen: dict[str, float] = {}
        for log in self.logs:
            for line in log.read_text().splitlines() if log.exists() else ():
                event_id, at = line.split()
                seen[event_id] = min(float(at), seen.get(event_id, float("inf")))
        return seen

    def count(self) -> int:
        """Requests received so far (cheap: counts lines, parses nothing)."""
        return sum(log.read_bytes().count(b"\n") for log in self.logs if log.exists())


def _setup(root: Path, urls: list[str]) -> str:
    """A data directory with one organization and one webhook per receiver; returns the organization id."""
    from appliance import accounts, webhooks
    from appliance.cli import main
    from appliance.config import load_config
    from appliance.datadir import open_database
    from appliance.security import SecretBox
    from appliance.url_policy import UrlPolicy
    from data.db import database

    assert main(["init", "--data-dir", str(root)]) == 0
    config = load_config(root, env={})
    open_database(config)
    with database.connection_context():
        org = accounts.create_organization("Bench", accounts.create_user("bench@example.com", None, "Bench")).id
        for url in urls:
            webhooks.create(org, {"url": url, "events": ["call.ended"]}, SecretBox(config.secret_key()),
                            UrlPolicy.parse(config.webhooks.blocked_networks))
    return org


def _emit(org: str, count: int) -> dict[str, float]:
    """``count`` events in one transaction; each id with the commit time."""
    from appliance import events
    from data.db import database

    with database.connection_context():
        with database.atomic():
            ids = [events.emit("call.ended", {"n": n}, org).id for n in range(count)]
        committed = time.time()
    return {i: committed for i in ids}


def _start_worker(root: Path) -> subprocess.Popen:
    log = open(root / "worker.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "appliance.cli", "worker", "--data-dir", str(root)],
                            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "CALLBOX_LOG_LEVEL": "WARNING"})
    deadline = time.monotonic() + 60
    # Ready once it has beaten (the consumer and its startup hooks run).
    while time.monotonic() < deadline and not _worker_beat(root):
        time.sleep(0.1)
    time.sleep(0.5)
    return proc


def _worker_beat(root: Path) -> bool:
    from data.db import database
    from data.models import Heartbeat

    with database.connection_context():
        return Heartbeat.get_or_none(Heartbeat.component == "worker") is not None


def _wait_all(receivers: Receivers, wanted: set[str], timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Arrival times are logged by the receivers, so polling slowly costs no precision, only CPU it spares.
        if receivers.count() >= len(wanted):
            seen = receivers.arrivals()
            if wanted <= seen.keys():
                return seen
        time.sleep(0.25)
    raise TimeoutError(f"{len(wanted - receivers.arrivals().keys())} event(s) not delivered within {timeout:.0f} s")


def burst(endpoints: int, size: int) -> float:
    """Deliveries per second of a burst of ``size`` events spread over ``endpoints`` webhooks."""
    with tempfile.TemporaryDirectory(prefix="cbx-wh-") as tmp, Receivers(endpoints, Path(tmp)) as receivers:
        root = Path(tmp) / "data"
        org = _setup(root, [f"http://127.0.0.1:{p}/hook" for p in receivers.ports])
        worker = _start_worker(root)
        try:
            emitted = _emit(org, size)
            seen = _wait_all(receivers, set(emitted), 300)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(60)
        start = min(emitted.values())
        return size * endpoints / (max(seen.values()) - start)


def latency(rate: float, seconds: float) -> list[float]:
    """Emit→receipt latencies (s) of single events emitted at ``rate`` per second to one webhook."""
    with tempfile.TemporaryDirectory(prefix="cbx-wh-") as tmp, Receivers(1, Path(tmp)) as receivers:
        root = Path(tmp) / "data"
        org = _setup(root, [f"http://127.0.0.1:{receivers.ports[0]}/hook"])
        worker = _start_worker(root)
        emitted: dict[str, float] = {}
        try:
            next_at = time.monotonic()
            for _ in range(int(rate * seconds)):
                time.sleep(max(0.0, next_at - time.monotonic()))
                emitted.update(_emit(org, 1))
                next_at += 1 / rate
            seen = _wait_all(receivers, set(emitted), 60)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(60)
        return sorted(seen[i] - at for i, at in emitted.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--burst", type=int, default=3000, help="events per burst")
    parser.add_argument("--endpoints", type=int, nargs="+", default=[1, 4], help="webhooks per burst run")
    parser.add_argument("--rate", type=float, default=50.0, help="events/s of the latency run")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the latency run")
    args = parser.parse_args()
    ok = True
    for count in args.endpoints:
        per_second = burst(count, args.burst)
        ok &= per_second >= MIN_RATE
        print(f"burst of {args.burst} events x {count} webhook(s): {per_second:,.0f} deliveries/s "
              f"(target >= {MIN_RATE:.0f})")
    waits = latency(args.rate, args.seconds)
    p50, p99 = statistics.median(waits), waits[min(len(waits) - 1, int(len(waits) * 0.99))]
    ok &= p99 <= MAX_P99
    print(f"emit -> receipt at {args.rate:g} events/s ({len(waits)} events): p50 {p50 * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms, max {waits[-1] * 1000:.0f} ms (target p99 <= {MAX_P99 * 1000:.0f} ms)")
    print("PASS" if ok else "BELOW TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
