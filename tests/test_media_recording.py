"""Stereo call recording: caller left, AI right, written after the call and never from an RTP thread."""
from __future__ import annotations

import threading
import wave

import numpy as np
import pytest

from voice.media.recording import CallRecorder


def pcm(value: int, n: int = 160) -> bytes:
    return np.full(n, value, dtype="<i2").tobytes()


def test_stereo_layout_caller_left_ai_right(tmp_path):
    recorder = CallRecorder()
    for k in range(50):
        recorder.append(pcm(1000 + k), pcm(-2000 - k))
    path = recorder.write_wav(tmp_path / "org" / "call.wav")
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes()) == (2, 2, 8000, 8000)
        frames = np.frombuffer(wav.readframes(8000), dtype="<i2").reshape(-1, 2)
    assert frames[0].tolist() == [1000, -2000]
    assert frames[-1].tolist() == [1049, -2049]
    assert recorder.duration == pytest.approx(1.0)
    assert not list(tmp_path.glob("org/.rec-*"))


def test_sides_of_different_length_stay_aligned():
    recorder = CallRecorder()
    recorder.append(pcm(1, 160), pcm(2, 80))
    recorder.append(pcm(3), pcm(4))
    stereo = recorder.stereo()
    assert stereo.shape == (320, 2)
    assert stereo[100].tolist() == [1, 0] and stereo[200].tolist() == [3, 4]


def test_recording_is_bounded():
    recorder = CallRecorder(max_seconds=0.1)
    results = [recorder.append(pcm(1), pcm(2)) for _ in range(10)]
    assert results == [True] * 5 + [False] * 5
    assert recorder.truncated and recorder.duration == pytest.approx(0.1)


def test_write_wav_refuses_to_run_on_an_rtp_thread(tmp_path):
    recorder = CallRecorder()
    recorder.append(pcm(1), pcm(2))
    errors = []

    def on_rtp_thread():
        try:
            recorder.write_wav(tmp_path / "x.wav")
        except RuntimeError as exc:
            errors.append(str(exc))

    thread = threading.Thread(target=on_rtp_thread, name="rtp-tx-40000")
    thread.start()
    thread.join()
    assert errors and "RTP thread" in errors[0]
    assert not (tmp_path / "x.wav").exists()


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        CallRecorder(max_seconds=0)
    with pytest.raises(ValueError, match="even"):
        CallRecorder().append(b"\x00", b"")
