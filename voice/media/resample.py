"""Sample-rate conversion with libsoxr: 8 kHz telephone audio to and from the engines' rates (16 kHz, 22.05 kHz).

``Resampler`` is the streaming form for audio that arrives in chunks. libsoxr holds back some input (about 60 ms at
"HQ"), so call ``flush()`` at the end of an utterance or sentence to get the tail; the resampler is then ready
for the next one. ``resample()`` converts a whole buffer at once, with exact output length.
"""
from __future__ import annotations

import logging

import numpy as np
import soxr

logger = logging.getLogger(__name__)

QUALITIES = ("QQ", "LQ", "MQ", "HQ", "VHQ")


def _as_array(pcm16: bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
    """int16 samples of 16-bit little-endian PCM bytes (an int16 array passes through)."""
    if isinstance(pcm16, np.ndarray):
        if pcm16.dtype != np.int16 or pcm16.ndim != 1:
            raise ValueError("expected a 1-D int16 array of mono samples")
        return pcm16
    if len(pcm16) % 2:
        raise ValueError("16-bit PCM must have an even number of bytes")
    return np.frombuffer(pcm16, dtype="<i2").astype(np.int16, copy=False)


def _check(in_rate: int, out_rate: int, quality: str) -> None:
    if in_rate <= 0 or out_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {in_rate} and {out_rate}")
    if quality not in QUALITIES:
        raise ValueError(f"quality must be one of {', '.join(QUALITIES)}, not {quality!r}")


def resample(pcm16: bytes | np.ndarray, in_rate: int, out_rate: int, quality: str = "HQ") -> bytes:
    """Convert a whole mono 16-bit PCM buffer from in_rate to out_rate (little-endian bytes out)."""
    return resample_array(_as_array(pcm16), in_rate, out_rate, quality).astype("<i2", copy=False).tobytes()


def resample_array(samples: np.ndarray, in_rate: int, out_rate: int, quality: str = "HQ") -> np.ndarray:
    """Convert a whole int16 mono array from in_rate to out_rate."""
    _check(in_rate, out_rate, quality)
    if in_rate == out_rate or len(samples) == 0:
        return samples.copy()
    return soxr.resample(samples, in_rate, out_rate, quality=quality)


class Resampler:
    """A stateful mono int16 resampler for a stream of chunks (one per direction and call)."""

    def __init__(self, in_rate: int, out_rate: int, quality: str = "HQ"):
        _check(in_rate, out_rate, quality)
        self.in_rate, self.out_rate, self.quality = in_rate, out_rate, quality
        self._stream = None if in_rate == out_rate else soxr.ResampleStream(
            in_rate, out_rate, 1, dtype="int16", quality=quality)

    def process(self, pcm16: bytes | bytearray | memoryview) -> bytes:
        """Resample one chunk of 16-bit LE PCM; may return less (or more) than one chunk's worth."""
        return self.process_array(_as_array(pcm16)).astype("<i2", copy=False).tobytes()

    def process_array(self, samples: np.ndarray) -> np.ndarray:
        """Resample one chunk of int16 samples."""
        samples = _as_array(samples)
        if self._stream is None:
            return samples.copy()
        return self._stream.resample_chunk(samples)

    def flush(self) -> bytes:
        """The samples still held back, as 16-bit LE PCM; the resampler then starts a fresh stream."""
        return self.flush_array().astype("<i2", copy=False).tobytes()

    def flush_array(self) -> np.ndarray:
        """The samples still held back, as int16; the resampler then starts a fresh stream."""
        if self._stream is None:
            return np.zeros(0, dtype=np.int16)
        tail = self._stream.resample_chunk(np.zeros(0, dtype=np.int16), last=True)
        self._stream.clear()
        return tail
