"""The absolute-clock pacer: slots are due at t0 + n * interval, and a stall skips slots instead of bursting."""
from __future__ import annotations

import time

import pytest

from voice.media.pacer import Pacer, raise_thread_priority


def test_slots_follow_the_absolute_clock_without_drift():
    pacer = Pacer(0.01, spin=0.0005)
    pacer.start()
    t0 = pacer.due(0)
    for expected in range(50):
        assert pacer.wait() == expected
        time.sleep(0.004)  # work done between sends must not push later slots back
    end = time.perf_counter()
    assert end - t0 == pytest.approx(49 * 0.01 + 0.004, abs=0.05)  # relative sleeps would be 0.2 s late
    stats = pacer.stats()
    assert stats.count == 50 and stats.lateness_p50_ms < 5


def test_a_stall_skips_slots_instead_of_bursting():
    pacer = Pacer(0.01, max_lag=0.05)
    pacer.start()
    pacer.wait()
    time.sleep(0.2)
    slot = pacer.wait()
    assert slot >= 15 and pacer.skipped == slot - 1
    assert pacer.wait() == slot + 1


def test_stats_before_and_after_the_history_ring_wraps():
    pacer = Pacer(0.002, history=10)
    assert pacer.stats().count == 0
    pacer.start()
    for _ in range(25):
        pacer.wait()
    stats = pacer.stats()
    assert stats.count == 25 and stats.interval_dev_max_ms >= stats.interval_dev_p50_ms >= 0


def test_misuse_is_refused():
    with pytest.raises(ValueError):
        Pacer(0)
    with pytest.raises(RuntimeError, match="start"):
        Pacer().wait()
    with pytest.raises(ValueError, match="priority"):
        raise_thread_priority("highest")


def test_priority_raise_reports_what_it_got():
    import threading

    got = []
    thread = threading.Thread(target=lambda: got.append(raise_thread_priority("realtime")))
    thread.start()
    thread.join()
    assert got[0] in ("realtime", "nice", "normal")
    assert raise_thread_priority("normal") == "normal"
