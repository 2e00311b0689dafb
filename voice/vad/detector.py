"""Frame-level voice activity: WebRTC's VAD (webrtcvad-wheels) with an energy floor.

The WebRTC VAD is a small GMM that answers per 10/20/30 ms frame at 8, 16, 32 or 48 kHz; it is well proven on
telephone audio and costs microseconds a frame. It can fire on low-level line noise, so a frame must also be louder
than ``min_dbfs`` to count as speech.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import webrtcvad

logger = logging.getLogger(__name__)

RATES = (8000, 16000, 32000, 48000)
FRAME_MS = (10, 20, 30)


@dataclass(frozen=True)
class VadSettings:
    aggressiveness: int = 2
    """0 (lets most through) .. 3 (most strict about what is speech)."""
    min_dbfs: float = -50.0
    """Frames quieter than this are never speech (line noise, comfort noise)."""


def level_dbfs(frame: bytes) -> float:
    """RMS level of 16-bit PCM in dB below full scale (-120 for digital silence)."""
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float64)
    if samples.size == 0:
        return -120.0
    rms = math.sqrt(float(np.mean(samples * samples)))
    return 20.0 * math.log10(rms / 32768.0) if rms >= 1e-3 else -120.0


class Vad:
    """Speech / not speech for fixed-size frames of 16-bit mono PCM at one sample rate."""

    def __init__(self, sample_rate: int = 8000, frame_ms: int = 20, settings: VadSettings = VadSettings()):
        if sample_rate not in RATES:
            raise ValueError(f"VAD sample rate must be one of {RATES}, not {sample_rate}")
        if frame_ms not in FRAME_MS:
            raise ValueError(f"VAD frames must be 10, 20 or 30 ms, not {frame_ms}")
        if not 0 <= settings.aggressiveness <= 3:
            raise ValueError("VAD aggressiveness must be 0..3")
        self.sample_rate, self.frame_ms, self.settings = sample_rate, frame_ms, settings
        self.frame_bytes = sample_rate * frame_ms // 1000 * 2
        self._vad = webrtcvad.Vad(settings.aggressiveness)

    def is_speech(self, frame: bytes) -> bool:
        """Whether this one frame (exactly ``frame_bytes`` long) holds speech."""
        if len(frame) != self.frame_bytes:
            raise ValueError(f"VAD frame must be {self.frame_bytes} bytes ({self.frame_ms} ms), got {len(frame)}")
        if level_dbfs(frame) < self.settings.min_dbfs:
            return False
        return self._vad.is_speech(frame, self.sample_rate)

    def frames(self, pcm16: bytes):
        """Split audio into whole frames (a short tail is dropped)."""
        step = self.frame_bytes
        for offset in range(0, len(pcm16) - step + 1, step):
            yield pcm16[offset:offset + step]
