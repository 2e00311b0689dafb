"""An absolute-clock pacer: slot n falls due at t0 + n * interval, so sleep overshoot never accumulates into drift.

Waiting sleeps until shortly before the slot and then spins for the rest, yielding the GIL on each turn
(``time.sleep(0)``), because a plain ``sleep`` often wakes up a fraction of a millisecond late. When the thread
was held up for more than ``max_lag`` (a suspended VM, a stalled process), missed slots are skipped rather than
sent in a burst; the caller sees the jump in the returned slot number and keeps its media clock in step.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)


PRIORITIES = ("realtime", "nice", "normal")


def raise_thread_priority(wanted: str = "realtime", rt_priority: int = 10, nice: int = -10) -> str:
    """Best effort: make the calling thread SCHED_RR (or at least less nice); returns what it got.

    A real-time send thread keeps its 20 ms wake-ups precise on a busy box (measured on 2 loaded cores: p99
    lateness ~0.1 ms instead of 4-40 ms). Unprivileged processes need RLIMIT_RTPRIO (systemd ``LimitRTPRIO=``)
    or RLIMIT_NICE; without them this quietly falls back.
    """
    if wanted not in PRIORITIES:
        raise ValueError(f"priority must be one of {PRIORITIES}, not {wanted!r}")
    if wanted == "realtime" and hasattr(os, "sched_setscheduler"):
        try:
            os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(rt_priority))  # 0 = this thread on Linux
            return "realtime"
        except (OSError, ValueError):
            logger.debug("no real-time priority for %s", threading.current_thread().name)
    if wanted in ("realtime", "nice") and hasattr(os, "setpriority"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
            return "nice"
        except OSError:
            logger.debug("could not renice %s", threading.current_thread().name)
    return "normal"


@dataclass(frozen=True)
class PacerStats:
    """Send-time figures over the recent history (milliseconds)."""

    count: int
    lateness_p50_ms: float
    lateness_p99_ms: float
    lateness_max_ms: float
    interval_dev_p50_ms: float
    interval_dev_p99_ms: float
    interval_dev_max_ms: float
    skipped: int
    late_ticks: int


class Pacer:
    """Hands out time slots ``interval`` apart on an absolute clock and records when each was actually reached."""

    def __init__(self, interval: float = 0.020, *, spin: float = 0.001, max_lag: float = 0.2,
                 history: int = 3000, clock=time.perf_counter):
        if interval <= 0 or spin < 0 or max_lag < interval:
            raise ValueError("need interval > 0, spin >= 0 and max_lag >= interval")
        self.interval, self.spin, self.max_lag = interval, spin, max_lag
        self._clock = clock
        self._t0: float | None = None
        self._slot = -1
        self._times = np.zeros(history, dtype=np.float64)  # actual wake-up times, a ring
        self._lateness = np.zeros(history, dtype=np.float64)
        self._recorded = 0
        self.skipped = 0
        self.late_ticks = 0  # slots reached more than one interval late

    def start(self, t0: float | None = None) -> None:
        """Anchor slot 0 at t0 (default: now)."""
        self._t0 = self._clock() if t0 is None else t0
        self._slot = -1

    def due(self, slot: int) -> float:
        """The clock time at which a slot falls due."""
        if self._t0 is None:
            raise RuntimeError("Pacer.start() was not called")
        return self._t0 + slot * self.interval

    def wait(self) -> int:
        """Block until the next slot is due and return its number (numbers jump when slots were skipped)."""
        slot = self._slot + 1
        target = self.due(slot)
        now = self._clock()
        if now - target > self.max_lag:
            skip = int((now - target) // self.interval)
            self.skipped += skip
            slot += skip
            target = self.due(slot)
            logger.debug("pacer held up %.1f ms, skipped %d slots", (now - target) * 1000, skip)
        self._sleep_until(target)
        now = self._clock()
        self._record(now, now - target)
        self._slot = slot
        return slot

    def _sleep_until(self, target: float) -> None:
        remaining = target - self._clock() - self.spin
        if remaining > 0:
            time.sleep(remaining)
        while self._clock() < target:
            time.sleep(0)  # yields the GIL while spinning the last stretch

    def _record(self, now: float, lateness: float) -> None:
        i = self._recorded % len(self._times)
        self._times[i], self._lateness[i] = now, lateness
        self._recorded += 1
        if lateness > self.interval:
            self.late_ticks += 1

    def _ordered(self, ring: np.ndarray) -> np.ndarray:
        n = min(self._recorded, len(ring))
        if self._recorded <= len(ring):
            return ring[:n]
        i = self._recorded % len(ring)
        return np.concatenate((ring[i:], ring[:i]))

    def stats(self) -> PacerStats:
        """Lateness against the absolute slots and deviation of consecutive intervals from ``interval``."""
        late = self._ordered(self._lateness) * 1000.0
        times = self._ordered(self._times)
        dev = np.abs(np.diff(times) - self.interval) * 1000.0 if len(times) > 1 else np.zeros(1)
        late = late if len(late) else np.zeros(1)

        def pct(a: np.ndarray, q: float) -> float:
            return round(float(np.percentile(a, q)), 3)

        return PacerStats(self._recorded, pct(late, 50), pct(late, 99), pct(late, 100),
                          pct(dev, 50), pct(dev, 99), pct(dev, 100), self.skipped, self.late_ticks)
