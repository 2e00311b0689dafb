"""Shared benchmark helpers: free ports, WSGI apps served by waitress in their own processes, a bounded
keep-alive load generator whose clients are separate processes, and a results table with ratios.

Servers and clients never share an interpreter: a load generator in the server's process (or N client
threads in one process) would compete for the same GIL and measure itself, not the server.
"""
from __future__ import annotations

import http.client
import importlib
import logging
import multiprocessing as mp
import socket
import statistics
import sys
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0, process: mp.process.BaseProcess | None = None) -> None:
    """Block until something accepts connections on ``port`` (bounded by ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and not process.is_alive():
            raise RuntimeError(f"server process for port {port} exited with code {process.exitcode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listened on {HOST}:{port} within {timeout:.0f} s")


def hello_app():
    """The baseline: a plain Flask hello-world."""
    from flask import Flask

    app = Flask("hello")

    @app.get("/")
    def hello():
        return "Hello, World!"

    return app


def _serve(factory: str, kwargs: dict, port: int, threads: int) -> None:
    """Child process: build the WSGI app from ``module:function`` and serve it with waitress until killed."""
    import waitress

    logging.basicConfig(level=logging.WARNING)
    # "Task queue depth is 1" is expected when every thread is busy under load; it is not a finding.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    module, _, name = factory.partition(":")
    app = getattr(importlib.import_module(module), name)(**kwargs)
    waitress.serve(app, host=HOST, port=port, threads=threads, _quiet=True)


class Server:
    """A WSGI app served by waitress in a fresh (spawned) process on a free loopback port."""

    def __init__(self, factory: str, threads: int = 8, **kwargs: Any) -> None:
        self.factory, self.threads, self.kwargs = factory, threads, kwargs
        self.port = free_port()
        self.process: mp.process.BaseProcess | None = None

    def __enter__(self) -> "Server":
        ctx = mp.get_context("spawn")
        self.process = ctx.Process(target=_serve, args=(self.factory, self.kwargs, self.port, self.threads),
                                   daemon=True, name=f"server-{self.factory}")
        self.process.start()
        wait_for_port(self.port, process=self.process)
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
            if self.process.is_alive():
                self.process.kill()
                self.process.join(5)


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None
            ) -> tuple[int, bytes]:
    """One HTTP request on a new connection (set-up calls, not measurement)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@dataclass(frozen=True)
class Target:
    """One thing to measure: a path on a server, with the headers every request carries."""

    name: str
    port: int
    path: str
    headers: dict = field(default_factory=dict)


def _client(target: Target, start: float, warmup: float, duration: float, out) -> None:
    """Client process: one keep-alive connection, requests back to back until the window closes."""
    conn = http.client.HTTPConnection(HOST, target.port, timeout=10)
    latencies, errors, reconnects = array("d"), 0, 0
    measure_from, stop_at = start + warmup, start + warmup + duration
    time.sleep(max(0.0, start - time.time()))
    while True:
        began = time.time()  # wall clock: the window is shared by every client process
        if began >= stop_at:
            break
        tick = time.perf_counter()
        conn.request("GET", target.path, headers=target.headers)
        resp = conn.getresponse()
        resp.read()
        took = time.perf_counter() - tick
        if resp.status != 200:
            errors += 1
        if began >= measure_from:
            latencies.append(took)
        if resp.will_close:
            conn.close()
            conn = http.client.HTTPConnection(HOST, target.port, timeout=10)
            reconnects += 1
    conn.close()
    out.put((latencies.tobytes(), errors, reconnects))


@dataclass(frozen=True)
class RoundResult:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    reconnects: int


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


def run_round(target: Target, clients: int, duration: float, warmup: float = 0.5) -> RoundResult:
    """``clients`` concurrent keep-alive clients (one process each) for ``warmup + duration`` seconds."""
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    start = time.time() + 0.3
    procs = [ctx.Process(target=_client, args=(target, start, warmup, duration, out), daemon=True)
             for _ in range(clients)]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=warmup + duration + 30) for _ in procs]
    for proc in procs:
        proc.join(5)
    latencies: list[float] = []
    for raw, _, _ in results:
        values = array("d")
        values.frombytes(raw)
        latencies.extend(values)
    latencies.sort()
    return RoundResult(rps=len(latencies) / duration, p50_ms=percentile(latencies, 50) * 1000,
                       p99_ms=percentile(latencies, 99) * 1000, errors=sum(r[1] for r in results),
                       reconnects=sum(r[2] for r in results))


@dataclass(frozen=True)
class Summary:
    """Medians over rounds."""

    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    rounds: int


def summarize(name: str, rounds: list[RoundResult]) -> Summary:
    """Median requests/s, p50 and p99 over the rounds; errors summed."""
    return Summary(name, statistics.median(r.rps for r in rounds), statistics.median(r.p50_ms for r in rounds),
                   statistics.median(r.p99_ms for r in rounds), sum(r.errors for r in rounds), len(rounds))


def measure(targets: list[Target], rounds: int, clients: int, duration: float,
            progress: Callable[[str], None] = print) -> list[Summary]:
    """Interleave the targets round by round (so drift hits all alike); return one summary per target."""
    results: dict[str, list[RoundResult]] = {t.name: [] for t in targets}
    for number in range(1, rounds + 1):
        for target in targets:
            result = run_round(target, clients, duration)
            results[target.name].append(result)
            progress(f"  round {number}/{rounds} {target.name:<22} {result.rps:8.0f} req/s  "
                     f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms")
    return [summarize(name, rs) for name, rs in results.items()]


def table(summaries: list[Summary], baseline: str) -> str:
    """A plain-text table; throughput also as a ratio of the baseline's."""
    base = next(s for s in summaries if s.name == baseline)
    lines = [f"{'target':<24} {'req/s':>9} {'vs ' + baseline:>16} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"]
    for s in summaries:
        ratio = s.rps / base.rps if base.rps else float("nan")
        lines.append(f"{s.name:<24} {s.rps:>9.0f} {ratio:>15.0%} {s.p50_ms:>8.2f} {s.p99_ms:>8.2f} {s.errors:>7}")
    return "\n".join(lines)


def throughput_verdict(summaries: list["Summary"], min_ratio: float, max_p99_ms: float,
                       baseline: str = "hello-world") -> list[str]:
    """One PASS/MISS line per target after the first (the baseline): throughput ratio, p99 and errors."""
    base = summaries[0]
    lines = []
    for s in summaries[1:]:
        ratio = s.rps / base.rps
        ok = ratio >= min_ratio and s.p99_ms <= max_p99_ms and s.errors == 0
        lines.append(f"{'PASS' if ok else 'MISS'} {s.name}: {ratio:.0%} of {baseline} (target >= {min_ratio:.0%}), "
                     f"p99 {s.p99_ms:.1f} ms (target <= {max_p99_ms:.0f} ms), errors {s.errors}")
    return lines


def add_load_args(parser) -> None:
    """The load options every HTTP benchmark shares: rounds, duration, clients, waitress threads."""
    parser.add_argument("--rounds", type=int, default=5, help="measurement rounds per target (default 5)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds measured per round (default 3)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent keep-alive clients (default 8)")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads (default 8, as in production)")
