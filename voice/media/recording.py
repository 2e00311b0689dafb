"""Stereo call recording: caller on the left channel, the AI on the right, aligned tick by tick.

The RTP sender appends one caller frame and one AI frame per 20 ms tick into memory (bounded by ``max_seconds``);
``write_wav()`` runs after the call from any thread but the RTP ones, because the RTP loop never touches the disk.
"""
from __future__ import annotations

import logging
import os
import tempfile
import threading
import wave
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

RTP_THREAD_PREFIX = "rtp-"


class CallRecorder:
    """In-memory stereo recording of one call at the telephone rate (16-bit PCM)."""

    def __init__(self, rate: int = 8000, max_seconds: float = 3600.0):
        if rate <= 0 or max_seconds <= 0:
            raise ValueError("rate and max_seconds must be positive")
        self.rate = rate
        self.max_bytes = int(rate * max_seconds) * 2  # per channel
        self._caller = bytearray()
        self._ai = bytearray()
        self._lock = threading.Lock()
        self.truncated = False

    @property
    def duration(self) -> float:
        """Seconds recorded so far."""
        with self._lock:
            return max(len(self._caller), len(self._ai)) / 2 / self.rate

    def append(self, caller: bytes, ai: bytes) -> bool:
        """Add one tick of audio for both sides (16-bit LE); False once the maximum duration is reached."""
        if len(caller) % 2 or len(ai) % 2:
            raise ValueError("16-bit PCM must have an even number of bytes")
        with self._lock:
            if len(self._caller) >= self.max_bytes:
                self.truncated = True
                return False
            size = max(len(caller), len(ai))
            self._caller += caller.ljust(size, b"\x00")
            self._ai += ai.ljust(size, b"\x00")
            return True

    def stereo(self) -> np.ndarray:
        """The recording as an (n, 2) int16 array: column 0 caller, column 1 AI."""
        with self._lock:
            left = np.frombuffer(bytes(self._caller), dtype="<i2")
            right = np.frombuffer(bytes(self._ai), dtype="<i2")
        return np.column_stack((left, right)).astype(np.int16, copy=False)

    def write_wav(self, path: str | os.PathLike) -> Path:
        """Write a 2-channel 16-bit WAV (atomically, via a temporary file); never call it from an RTP thread."""
        if threading.current_thread().name.startswith(RTP_THREAD_PREFIX):
            raise RuntimeError("write_wav() does disk I/O and must not run on an RTP thread")
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        frames = self.stereo().astype("<i2", copy=False).tobytes()
        fd, tmp = tempfile.mkstemp(prefix=".rec-", suffix=".wav", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh, wave.open(fh, "wb") as wav:
                wav.setnchannels(2)
                wav.setsampwidth(2)
                wav.setframerate(self.rate)
                wav.writeframes(frames)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        seconds = len(frames) / 4 / self.rate
        logger.info("recording written: %.1f s%s", seconds, " (truncated)" if self.truncated else "")
        return target
