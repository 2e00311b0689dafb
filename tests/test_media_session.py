"""RtpSession over real UDP on 127.0.0.1: two sessions talking, DTMF both ways, barge-in, recording, errors."""
from __future__ import annotations

import time

import numpy as np
import pytest

from voice.media import g711
from voice.media.recording import CallRecorder
from voice.media.session import FRAME_BYTES, MediaError, RtpSession
from voice.media.settings import MediaSettings


def tone(freq: float, seconds: float, amplitude: int = 8000) -> np.ndarray:
    n = np.arange(int(8000 * seconds))
    return (amplitude * np.sin(2 * np.pi * freq * n / 8000)).astype(np.int16)


def collect(session: RtpSession, seconds: float) -> np.ndarray:
    frames = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        frame = session.read_frame(timeout=0.5)
        assert len(frame) == FRAME_BYTES
        frames.append(frame)
    return np.frombuffer(b"".join(frames), dtype="<i2")


@pytest.fixture
def pair():
    """A caller session and an agent session pointed at each other."""
    got = {"a": [], "b": []}
    a = RtpSession("127.0.0.1", 0, None, on_dtmf=got["a"].append).start()
    b = RtpSession("127.0.0.1", 0, ("127.0.0.1", a.local_port), on_dtmf=got["b"].append).start()
    a.set_remote(("127.0.0.1", b.local_port))
    yield a, b, got
    a.stop()
    b.stop()


@pytest.mark.parametrize("pt", [g711.PCMU, g711.PCMA])
def test_audio_in_equals_audio_out_within_g711_tolerance(pt):
    with RtpSession("127.0.0.1", 0, None, payload_type=pt) as rx, \
            RtpSession("127.0.0.1", 0, ("127.0.0.1", rx.local_port), payload_type=pt) as tx:
        sent = tone(440, 0.6)
        tx.write(sent.astype("<i2").tobytes())
        received = collect(rx, 1.2)
    start = int(np.argmax(np.abs(received) > 500))
    got = received[start:start + len(sent) - 400].astype(np.int32)
    shift = int(np.argmax(np.abs(sent) > 500))
    expected = sent[shift:shift + len(got)].astype(np.int32)
    assert len(got) > 4000
    assert np.max(np.abs(got - expected)) <= 8000 // 16 + 64  # one G.711 quantisation step at this level
    stats = rx.stats
    assert stats["lost"] == 0 and stats["packets_in"] >= 30 and stats["remote"][1] == tx.local_port


def test_dtmf_both_ways(pair):
    a, b, got = pair
    b.send_dtmf("12#")
    a.send_dtmf("9*")
    deadline = time.monotonic() + 3
    while (len(got["a"]) < 3 or len(got["b"]) < 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert got["a"] == ["1", "2", "#"] and got["b"] == ["9", "*"]
    assert b.stats["dtmf_out"] == 3 and a.stats["dtmf_in"] == 3 and a.stats["lost"] == 0


def test_barge_in_drops_the_unsent_rest(pair):
    a, b, _ = pair
    b.write(tone(300, 3.0).astype("<i2").tobytes())
    time.sleep(0.3)
    pending = b.playback_pending()
    dropped = b.clear_playback()
    assert 2.0 < pending < 2.95 and dropped == pytest.approx(pending, abs=0.1)
    assert b.playback_pending() == 0 and b.wait_playback(0.1)
    sent_before = b.stats["packets_out"]
    time.sleep(0.2)
    audio = collect(a, 0.5)
    assert np.max(np.abs(audio[-2000:])) < 50  # silence now, the rest is not replayed
    assert b.stats["packets_out"] > sent_before  # comfort silence keeps flowing


def test_recorder_gets_caller_left_and_ai_right(pair, tmp_path):
    a, b, _ = pair
    recorder = CallRecorder()
    agent = RtpSession("127.0.0.1", 0, ("127.0.0.1", a.local_port), recorder=recorder).start()
    try:
        a.set_remote(("127.0.0.1", agent.local_port))
        a.write(tone(500, 0.5, 6000).astype("<i2").tobytes())  # the caller speaks
        time.sleep(0.8)
        agent.write(tone(1000, 0.5, 9000).astype("<i2").tobytes())  # then the AI answers
        agent.wait_playback(2)
        time.sleep(0.2)
    finally:
        agent.stop()
    stereo = np.asarray(recorder.stereo(), dtype=np.int32)
    caller_on = np.nonzero(np.abs(stereo[:, 0]) > 1000)[0]
    ai_on = np.nonzero(np.abs(stereo[:, 1]) > 1000)[0]
    assert len(caller_on) > 2000 and len(ai_on) > 2000
    assert caller_on[-1] < ai_on[0]  # the AI answered after the caller, on the timeline of the call
    assert np.max(np.abs(stereo[ai_on[0]:ai_on[-1], 0])) < 1000  # no AI audio leaked into the caller side
    path = recorder.write_wav(tmp_path / "call.wav")
    assert path.stat().st_size == 44 + stereo.size * 2


def test_idle_none_sends_nothing_and_marks_talkspurts():
    settings = MediaSettings(idle="none")
    with RtpSession("127.0.0.1", 0, None) as rx, \
            RtpSession("127.0.0.1", 0, ("127.0.0.1", rx.local_port), settings=settings) as tx:
        time.sleep(0.2)
        assert tx.stats["packets_out"] == 0
        tx.write(tone(440, 0.1).astype("<i2").tobytes())
        assert tx.wait_playback(1)
        time.sleep(0.1)
        assert tx.stats["packets_out"] == 5


def test_underrun_is_counted_when_promised_audio_is_late():
    with RtpSession("127.0.0.1", 0, ("127.0.0.1", 9)) as tx:
        tx.write(bytes(FRAME_BYTES + 100), more=True)
        time.sleep(0.1)
        assert tx.stats["underruns"] >= 2 and tx.playback_pending() == pytest.approx(100 / 16000)
        tx.end_playback()
        assert tx.wait_playback(0.5)


def test_bad_arguments_give_clear_errors():
    with pytest.raises(ValueError, match="PCMU"):
        RtpSession(payload_type=3)
    with pytest.raises(ValueError, match="dynamic"):
        RtpSession(dtmf_payload_type=13)
    with pytest.raises(ValueError, match="remote"):
        RtpSession(remote=("127.0.0.1", 0))
    with pytest.raises(ValueError, match="remote"):
        RtpSession(remote="127.0.0.1:4000")
    with pytest.raises(ValueError):
        MediaSettings(idle="noise")
    with RtpSession("127.0.0.1", 0) as taken:
        with pytest.raises(MediaError, match="cannot bind"):
            RtpSession("127.0.0.1", taken.local_port).start()
        with pytest.raises(ValueError, match="even"):
            taken.write(b"\x00")
        with pytest.raises(ValueError, match="DTMF"):
            taken.send_dtmf("1x")


def test_read_after_stop_returns_empty_and_stop_is_idempotent():
    session = RtpSession("127.0.0.1", 0).start()
    assert len(session.read_frame(1)) == FRAME_BYTES  # silence flows before any RTP
    session.stop()
    session.stop()
    while session.read_frame(0.01):
        pass
    assert session.read_frame(1) == b"" and not session.running
