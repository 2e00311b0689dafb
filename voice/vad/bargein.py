"""Barge-in: noticing the caller talking over our own prompt, without being fooled by its echo.

While we play, the caller's leg carries the caller and also our own prompt coming back (line or acoustic echo,
typically 10-30 dB down and up to a few hundred ms late). A frame counts as caller speech only when the strict VAD
says speech, it is louder than ``min_dbfs``, and it is ``echo_margin_db`` louder than the loudest echo our recent
playback could produce (played level minus the assumed echo return loss). Barge-in fires once ``onset_ms`` of such
frames fall within ``window_ms``: with 20 ms frames and the defaults that is 100-200 ms after the caller starts.
"""
from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

from voice.vad.detector import Vad, VadSettings, level_dbfs

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BargeInSettings:
    aggressiveness: int = 3
    """Stricter than the turn VAD: only clear speech interrupts a prompt."""
    onset_ms: int = 100
    """Caller speech needed inside the window to interrupt."""
    window_ms: int = 200
    """Window the onset is counted in (bounds the reaction time)."""
    min_dbfs: float = -40.0
    """Quieter frames never interrupt."""
    echo_return_loss_db: float = 18.0
    """How much quieter than our playback its echo is assumed to be, at worst (set it to the line's)."""
    echo_margin_db: float = 6.0
    """How much louder than that echo estimate the caller must be."""
    echo_tail_ms: int = 400
    """How long after a played frame its echo may still arrive."""


class BargeInDetector:
    """Feed each received frame with the frame we sent at the same moment; ``True`` means: stop playback."""

    def __init__(self, sample_rate: int = 8000, frame_ms: int = 20, settings: BargeInSettings = BargeInSettings()):
        self.settings = settings
        self.frame_ms = frame_ms
        self.vad = Vad(sample_rate, frame_ms, VadSettings(settings.aggressiveness, settings.min_dbfs))
        self._played: deque[float] = deque(maxlen=max(1, settings.echo_tail_ms // frame_ms))
        self._hits: deque[bool] = deque(maxlen=max(1, settings.window_ms // frame_ms))
        self.now_ms = 0
        self.fired_at_ms: int | None = None

    def reset(self) -> None:
        """Start afresh for a new prompt."""
        self._played.clear()
        self._hits.clear()
        self.fired_at_ms = None

    def echo_estimate_dbfs(self) -> float:
        """The loudest echo our recent playback could cause now."""
        if not self._played:
            return -120.0
        return max(self._played) - self.settings.echo_return_loss_db

    def feed(self, received: bytes, played: bytes | None) -> bool:
        """One received frame and the frame played at the same time (None when silent); True once on barge-in."""
        self.now_ms += self.frame_ms
        self._played.append(level_dbfs(played) if played else -120.0)
        level = level_dbfs(received)
        above_echo = level >= self.echo_estimate_dbfs() + self.settings.echo_margin_db
        self._hits.append(above_echo and self.vad.is_speech(received))
        if self.fired_at_ms is not None:
            return False
        if sum(self._hits) * self.frame_ms >= self.settings.onset_ms:
            self.fired_at_ms = self.now_ms
            logger.debug("barge-in at %d ms (level %.1f dBFS)", self.now_ms, level)
            return True
        return False
