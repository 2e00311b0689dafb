"""Jitter buffer: ordering, duplicates, late packets, concealment, wraparound, adaptation."""
from __future__ import annotations

import numpy as np
import pytest

from voice.media.jitter import MAX_PACKETS, JitterBuffer, JitterSettings

F = 160


def frame(value: int, n: int = F) -> np.ndarray:
    return np.full(n, value, dtype=np.int16)


def play(jb: JitterBuffer, ticks: int) -> list[int]:
    """The first sample of each played frame (our test frames are constant)."""
    return [int(jb.pop()[0]) for _ in range(ticks)]


def fixed(**kw) -> JitterBuffer:
    return JitterBuffer(JitterSettings(adaptive=False, **kw))


def test_in_order_stream_is_delayed_by_the_depth_and_played_in_order():
    jb = fixed(depth_ms=40)
    out = []
    for k in range(6):
        jb.push(1000 + k, 5000 + k * F, frame(100 + k))
        out.append(int(jb.pop()[0]))
    out += play(jb, 3)
    assert out == [0, 0, 100, 101, 102, 103, 104, 105, 52]  # then the last frame, concealed
    assert jb.stats.received == 6 and jb.stats.lost == 0 and jb.stats.played == 6


def test_reordered_packets_come_out_in_order():
    jb = fixed(depth_ms=60)
    for k in (0, 2, 1, 4, 3, 5):
        jb.push(10 + k, k * F, frame(100 + k))
    assert play(jb, 9) == [0, 0, 0, 100, 101, 102, 103, 104, 105]
    assert jb.stats.reordered == 2


def test_duplicates_are_dropped_even_after_playout():
    jb = fixed(depth_ms=40)
    assert jb.push(1, 0, frame(5)) == "ok"
    assert jb.push(1, 0, frame(5)) == "duplicate"
    play(jb, 3)
    assert jb.push(1, 0, frame(5)) == "duplicate"
    assert jb.stats.duplicates == 2 and jb.stats.late == 0


def test_too_late_packet_is_dropped_and_the_gap_concealed_then_silent():
    jb = fixed(depth_ms=40, conceal_frames=2, attenuation=0.5)
    jb.push(0, 0, frame(1000))
    out = play(jb, 4)  # silence, silence, 1000, then packet 1 is missing: 500
    assert jb.push(1, F, frame(7)) == "late"
    out += play(jb, 2)  # 250, then silence
    assert out == [0, 0, 1000, 500, 250, 0]
    assert jb.stats.late == 1 and jb.stats.concealed == 2


def test_a_packet_after_a_long_gap_restarts_playout_at_the_depth():
    jb = fixed(depth_ms=40)
    jb.push(0, 0, frame(1))
    play(jb, 20)
    assert jb.push(6, 6 * F, frame(9)) == "ok"  # its slot passed long ago, but the stream was idle
    assert play(jb, 3) == [0, 0, 9]
    assert jb.stats.lost == 5 and jb.stats.late == 0


def test_loss_counted_once_and_concealed_between_packets():
    jb = fixed(depth_ms=40, conceal_frames=3)
    for k in (0, 1, 3, 4):
        jb.push(k, k * F, frame(800))
    out = play(jb, 7)
    assert out == [0, 0, 800, 800, 400, 800, 800]
    assert jb.stats.lost == 1 and jb.stats.concealed == 1


def test_other_payload_sequence_numbers_are_not_counted_lost():
    jb = fixed(depth_ms=40)
    jb.push(0, 0, frame(1))
    jb.note_other(1)  # a DTMF packet used sequence number 1
    jb.push(2, F, frame(2))
    play(jb, 5)
    assert jb.stats.lost == 0


def test_sequence_and_timestamp_wraparound():
    jb = fixed(depth_ms=40)
    seqs = [65533, 65534, 65535, 0, 1, 2]
    tss = [(2**32 - 3 * F + k * F) % 2**32 for k in range(6)]
    for k, (s, t) in enumerate(zip(seqs, tss)):
        assert jb.push(s, t, frame(10 + k)) == "ok"
    assert play(jb, 8) == [0, 0, 10, 11, 12, 13, 14, 15]
    assert jb.stats.lost == 0 and jb.stats.reordered == 0 and jb.stats.resyncs == 0


def test_new_ssrc_or_huge_jump_restarts_the_stream():
    jb = fixed(depth_ms=40)
    jb.push(0, 0, frame(1), ssrc=1)
    play(jb, 3)
    assert jb.push(500, 9_000_000, frame(2), ssrc=2) == "resync"
    assert play(jb, 3) == [0, 0, 2]
    assert jb.push(501, 900, frame(3), ssrc=2) == "resync"  # 9 M samples back in time
    assert jb.stats.resyncs == 2


def test_odd_packet_sizes_are_reframed_to_20ms():
    jb = fixed(depth_ms=40)
    for k in range(4):  # 30 ms packets: 240 samples
        jb.push(k, k * 240, np.arange(k * 240, (k + 1) * 240, dtype=np.int16))
    frames = [jb.pop() for _ in range(8)]
    audio = np.concatenate(frames[2:])
    assert np.array_equal(audio[:960], np.arange(960, dtype=np.int16))


def test_adaptive_depth_grows_after_a_late_packet():
    jb = JitterBuffer(JitterSettings(depth_ms=40, max_depth_ms=100))
    jb.push(0, 0, frame(1))
    play(jb, 4)
    assert jb.push(1, F, frame(2)) == "late"
    assert jb.depth_ms == 60 and jb.stats.grown == 1


def test_adaptive_depth_shrinks_when_slack_is_unused():
    jb = JitterBuffer(JitterSettings(depth_ms=100, min_depth_ms=40, shrink_window=10))
    for k in range(200):
        jb.push(k, k * F, frame(1 + k % 100))
        jb.pop()
    assert jb.depth_ms == 40
    assert jb.stats.shrunk == 3 and jb.stats.late == 0


def test_drift_of_a_faster_sender_is_absorbed():
    jb = JitterBuffer(JitterSettings(depth_ms=40, min_depth_ms=40, shrink_window=20))
    k = 0
    for tick in range(500):
        jb.push(k, k * F, frame(1))
        k += 1
        if tick % 25 == 0:  # the far end's clock is 4% fast: one extra packet per 25 ticks
            jb.push(k, k * F, frame(1))
            k += 1
        jb.pop()
    assert jb.buffered_ms <= 40 + 2 * 20
    assert jb.stats.shrunk >= 15 and jb.stats.late == 0


def test_a_flood_of_future_packets_is_bounded():
    jb = fixed(depth_ms=40)
    statuses = [jb.push(k, k * 2, frame(1, 2)) for k in range(MAX_PACKETS + 10)]  # 2-sample packets
    assert statuses.count("overflow") == 10 and jb.stats.overflows == 10


def test_nothing_received_gives_silence():
    jb = JitterBuffer()
    assert all(len(f) == F and not f.any() for f in (jb.pop() for _ in range(5)))


@pytest.mark.parametrize("bad", [{"depth_ms": 20, "min_depth_ms": 40}, {"depth_ms": 300}, {"attenuation": 2.0},
                                 {"shrink_window": 0}, {"resync_ms": 100}])
def test_inconsistent_settings_are_refused(bad):
    with pytest.raises(ValueError):
        JitterSettings(**bad)
