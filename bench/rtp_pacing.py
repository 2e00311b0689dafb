"""RTP pacing benchmark: our absolute-clock sender (RtpSession) vs stock pyVoIP 1.6's RTPClient, same run.

Both send 20 ms PCMU packets to a UDP receiver on 127.0.0.1 that reads kernel receive timestamps
(SO_TIMESTAMPNS), so the figures are when each packet reached the socket, whatever the receiving thread was
doing. Figures per sender: p50/p99/max of |inter-arrival - 20 ms| and the drift of the last packet from the
t0 + n*20 ms grid. Conditions: idle, "load" (a busy process on the other core), "full" (a busy process on every
core), "engine" (a thread in this process doing native math that releases the GIL, as Vosk and onnxruntime do),
"gil" (a pure-Python busy thread inside this process: the GIL then decides, for both senders).
Run: .venv/bin/python bench/rtp_pacing.py [--rounds 3] [--packets 500] [--conditions idle,load,full,engine,gil]
     [--priority realtime|nice|normal] [--switch-interval 0.001]
"""
from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from voice.media.session import RtpSession  # noqa: E402
from voice.media.settings import MediaSettings  # noqa: E402

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux value; CPython does not export it
FRAME_MS = 20.0


class Receiver:
    """A loopback UDP socket whose drain thread keeps the kernel arrival time of each datagram."""

    def __init__(self, expected: int):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.settimeout(0.5)
        self.expected = expected
        self.arrivals: list[int] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._drain, name="bench-receiver", daemon=True)
        self.thread.start()

    @property
    def address(self) -> tuple[str, int]:
        return self.sock.getsockname()

    def _drain(self) -> None:
        deadline = time.monotonic() + self.expected * FRAME_MS / 1000 * 3 + 5
        while len(self.arrivals) < self.expected and time.monotonic() < deadline:
            try:
                _, ancdata, _, _ = self.sock.recvmsg(2048, 64)
            except socket.timeout:
                continue
            for level, kind, data in ancdata:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", data[:16])
                    self.arrivals.append(sec * 1_000_000_000 + nsec)
        self.done.set()

    def wait(self) -> np.ndarray:
        self.done.wait()
        self.sock.close()
        return np.asarray(self.arrivals, dtype=np.int64)


def figures(arrivals_ns: np.ndarray) -> dict:
    """Interval deviation percentiles and end drift (ms) of a series of arrival times."""
    t = (arrivals_ns - arrivals_ns[0]) / 1e6
    dev = np.abs(np.diff(t) - FRAME_MS)
    drift = t[-1] - (len(t) - 1) * FRAME_MS
    return {"p50": float(np.percentile(dev, 50)), "p99": float(np.percentile(dev, 99)),
            "max": float(dev.max()), "drift": float(drift), "n": len(t)}


def tone(frames: int, rate: int = 8000) -> np.ndarray:
    n = np.arange(frames * rate // 50)
    return (np.sin(2 * np.pi * 440 * n / rate) * 8000).astype(np.int16)


def run_ours(packets: int, priority: str = "realtime") -> dict:
    """Our RtpSession sending a tone (then comfort silence) to the receiver."""
    receiver = Receiver(packets)
    session = RtpSession("127.0.0.1", 0, receiver.address, payload_type=0,
                         settings=MediaSettings(sender_priority=priority))
    session.write(tone(packets).astype("<i2").tobytes())
    with session:
        arrivals = receiver.wait()
    return figures(arrivals)


def run_pyvoip(packets: int) -> dict:
    """Stock pyVoIP 1.6 RTPClient (its transmit thread) sending the same tone as 8-bit audio."""
    from pyVoIP.RTP import PayloadType, RTPClient, TransmitType

    receiver = Receiver(packets)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        in_port = probe.getsockname()[1]
    client = RTPClient({0: PayloadType.PCMU}, "127.0.0.1", in_port, *receiver.address, TransmitType.SENDRECV)
    client.write(((tone(packets).astype(np.int32) >> 8) + 128).astype(np.uint8).tobytes())
    client.start()
    arrivals = receiver.wait()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client.stop()
        time.sleep(0.1)  # its threads poll a flag every 10-20 ms
    return figures(arrivals)


@contextlib.contextmanager
def load(condition: str):
    """Background CPU load for one condition."""
    procs, stop = [], threading.Event()
    cpus = sorted(os.sched_getaffinity(0))
    if condition in ("load", "full"):
        targets = cpus[-1:] if condition == "load" else cpus
        for cpu in targets:
            procs.append(subprocess.Popen([sys.executable, "-c", "while True: pass"]))
            with contextlib.suppress(OSError):
                os.sched_setaffinity(procs[-1].pid, {cpu})
    hogs = {"gil": _gil_hog, "engine": _engine_hog}
    hog = threading.Thread(target=hogs[condition], args=(stop,), daemon=True) if condition in hogs else None
    if hog:
        hog.start()
    time.sleep(0.3)
    try:
        yield
    finally:
        stop.set()
        for proc in procs:
            proc.kill()
            proc.wait()
        if hog:
            hog.join()


def _gil_hog(stop: threading.Event) -> None:
    x = 0
    while not stop.is_set():
        for i in range(10000):
            x += i


def _engine_hog(stop: threading.Event) -> None:
    a = np.random.default_rng(1).standard_normal((400, 400))
    while not stop.is_set():
        a = np.tanh(a @ a.T / 400)  # BLAS and ufuncs run without the GIL


def bench(rounds: int, packets: int, conditions: list[str], priority: str = "realtime") -> dict:
    """Run every condition for a number of rounds, alternating which sender goes first."""
    results: dict = {}
    for condition in conditions:
        for r in range(rounds):
            order = [("ours", lambda n: run_ours(n, priority)), ("pyvoip", run_pyvoip)]
            for name, run in (order if r % 2 == 0 else order[::-1]):
                with load(condition):
                    fig = run(packets)
                results.setdefault((condition, name), []).append(fig)
                print(f"  {condition:6} round {r + 1} {name:6} p99 {fig['p99']:6.2f} ms  max {fig['max']:6.2f} ms"
                      f"  drift {fig['drift']:+8.1f} ms over {fig['n']} packets", flush=True)
    return results


def report(results: dict, conditions: list[str]) -> None:
    print("\nmedians over rounds (deviation of inter-packet time from 20 ms; drift at the last packet)")
    print(f"{'condition':10}{'sender':8}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'drift ms':>10}")
    for condition in conditions:
        p99 = {}
        for name in ("ours", "pyvoip"):
            rows = results[(condition, name)]
            med = {k: statistics.median(row[k] for row in rows) for k in ("p50", "p99", "max", "drift")}
            p99[name] = med["p99"]
            print(f"{condition:10}{name:8}{med['p50']:8.2f}{med['p99']:8.2f}{med['max']:8.2f}{med['drift']:10.1f}")
        ratio = p99["pyvoip"] / p99["ours"] if p99["ours"] else float("inf")
        verdict = "meets" if p99["ours"] <= 2.0 else "MISSES"
        print(f"{condition:10}p99 ratio pyVoIP/ours = {ratio:.1f}x; ours {verdict} the 2 ms target")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--packets", type=int, default=500, help="packets per sender per round (x 20 ms)")
    parser.add_argument("--conditions", default="idle,load,full")
    parser.add_argument("--priority", choices=("realtime", "nice", "normal"), default="realtime",
                        help="our send thread's priority (best effort; realtime needs root or RLIMIT_RTPRIO)")
    parser.add_argument("--switch-interval", type=float, default=None,
                        help="sys.setswitchinterval() in seconds for this process (CPython's default is 0.005)")
    args = parser.parse_args(argv)
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    conditions = [c for c in args.conditions.split(",") if c]
    unknown = set(conditions) - {"idle", "load", "full", "engine", "gil"}
    if unknown or args.rounds < 1 or args.packets < 10:
        parser.error(f"conditions are idle, load, full, engine, gil (got {sorted(unknown)}); "
                     "rounds >= 1; packets >= 10")
    print(f"RTP pacing: {args.rounds} rounds x {args.packets} packets, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}, GIL switch interval {sys.getswitchinterval() * 1000:g} ms, "
          f"load average {os.getloadavg()[0]:.1f}, our sender priority {args.priority}", flush=True)
    report(bench(args.rounds, args.packets, conditions, args.priority), conditions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
