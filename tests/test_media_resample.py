"""Resampling with soxr: a sine keeps its frequency and amplitude, streaming equals one-shot, lengths are right."""
from __future__ import annotations

import numpy as np
import pytest

from voice.media.resample import Resampler, resample, resample_array


def sine(freq: float, rate: int, seconds: float = 1.0, amplitude: float = 10000) -> np.ndarray:
    n = np.arange(int(rate * seconds))
    return (amplitude * np.sin(2 * np.pi * freq * n / rate)).astype(np.int16)


def peak_and_rms(samples: np.ndarray, rate: int) -> tuple[float, float]:
    core = samples[len(samples) // 10: -len(samples) // 10].astype(np.float64)  # skip filter edges
    spectrum = np.abs(np.fft.rfft(core * np.hanning(len(core))))
    return float(np.argmax(spectrum) * rate / len(core)), float(np.sqrt(np.mean(core ** 2)))


@pytest.mark.parametrize("src,dst", [(8000, 16000), (8000, 22050), (22050, 8000), (16000, 8000)])
def test_sine_keeps_frequency_and_amplitude(src, dst):
    out = resample_array(sine(1000, src), src, dst)
    assert abs(len(out) - dst) <= 2
    freq, rms = peak_and_rms(out, dst)
    assert abs(freq - 1000) < 3
    assert abs(rms - 10000 / np.sqrt(2)) / (10000 / np.sqrt(2)) < 0.02


def test_downsampling_removes_what_8khz_cannot_carry():
    out = resample_array(sine(6000, 22050), 22050, 8000)  # above the 4 kHz Nyquist limit: must not alias
    assert np.sqrt(np.mean(out[800:-800].astype(np.float64) ** 2)) < 100


def test_streaming_in_20ms_chunks_matches_one_shot():
    src = sine(440, 8000)
    stream = Resampler(8000, 16000)
    chunks = [stream.process_array(src[i:i + 160]) for i in range(0, len(src), 160)]
    out = np.concatenate(chunks + [stream.flush_array()])
    reference = resample_array(src, 8000, 16000)
    assert len(out) == len(reference) == 16000
    assert np.max(np.abs(out.astype(np.int32) - reference)) <= 2


def test_flush_starts_a_fresh_stream():
    stream = Resampler(22050, 8000)
    for _ in range(2):
        pcm = sine(300, 22050, 0.5).astype("<i2").tobytes()
        out = stream.process(pcm) + stream.flush()
        assert abs(len(out) // 2 - 4000) <= 2
        assert abs(peak_and_rms(np.frombuffer(out, dtype="<i2"), 8000)[0] - 300) < 5


def test_same_rate_and_bytes_api():
    pcm = sine(440, 8000, 0.1).astype("<i2").tobytes()
    assert resample(pcm, 8000, 8000) == pcm
    assert Resampler(8000, 8000).process(pcm) == pcm
    assert len(resample(pcm, 8000, 16000)) == 2 * len(pcm)


@pytest.mark.parametrize("args", [(0, 8000), (8000, -1), (8000, 16000, "best")])
def test_bad_arguments_are_refused(args):
    with pytest.raises(ValueError):
        Resampler(*args)


def test_odd_byte_count_is_refused():
    with pytest.raises(ValueError, match="even"):
        Resampler(8000, 16000).process(b"\x00\x01\x02")
