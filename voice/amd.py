"""Answering-machine detection for outbound calls: a greeting-length and speech-pattern heuristic.

People answer with a short "Hello?" and then wait; machines play a long greeting ("Hi, you've reached Dana, I
can't take your call right now, please leave a message after the tone") or stay silent at first. The detector
follows the answered leg's first seconds frame by frame (the same rules as Asterisk's AMD application):

- silence longer than ``initial_silence_ms`` before any speech: MACHINE (``initial_silence``)
- a greeting (speech since its start, short gaps included) longer than ``greeting_ms``: MACHINE (``long_greeting``)
- more than ``max_words`` separate words before a pause: MACHINE (``max_words``)
- silence of ``after_greeting_silence_ms`` after a short greeting: HUMAN (``human``)
- nothing decided within ``total_analysis_ms``: NOTSURE (treated as a person)

After MACHINE the caller leaves a message once the greeting is over: ``wait_for_beep`` reports when the line has
been quiet for ``end_of_greeting_silence_ms`` (or ``max_greeting_wait_ms`` has passed).
"""
from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from voice.vad import Vad, VadSettings

logger = logging.getLogger(__name__)

FRAME_MS = 20
MACHINE_ACTIONS = ("message", "hangup")


class AmdResult(enum.Enum):
    HUMAN = "human"
    MACHINE = "machine"
    NOTSURE = "notsure"


@dataclass(frozen=True)
class AmdSettings:
    initial_silence_ms: int = 2500
    """Silence before the first word that means a machine (people say hello at once)."""
    greeting_ms: int = 1500
    """A greeting longer than this is a machine's."""
    after_greeting_silence_ms: int = 800
    """Silence after a short greeting that means a person waiting for us."""
    total_analysis_ms: int = 5000
    """Longest the analysis may take."""
    min_word_ms: int = 100
    """Shorter bursts of sound are not words."""
    between_words_silence_ms: int = 50
    """Silence that separates two words."""
    max_words: int = 3
    """More words than this before a pause is a machine reading its greeting."""
    end_of_greeting_silence_ms: int = 1200
    """Quiet after a machine's greeting (and its beep) before we speak the message."""
    max_greeting_wait_ms: int = 20000
    """Longest we wait for a machine's greeting to end."""
    vad_aggressiveness: int = 2
    """VAD strictness (0..3)."""

    def __post_init__(self) -> None:
        values = (self.initial_silence_ms, self.greeting_ms, self.after_greeting_silence_ms, self.total_analysis_ms,
                  self.min_word_ms, self.end_of_greeting_silence_ms, self.max_greeting_wait_ms)
        if min(values) <= 0 or self.max_words < 1 or self.between_words_silence_ms < FRAME_MS:
            raise ValueError("AMD times must be positive, max_words >= 1, between_words_silence_ms >= 20")


@dataclass(frozen=True)
class AmdDecision:
    result: AmdResult
    reason: str
    at_ms: int
    words: int
    greeting_ms: int


class AmdDetector:
    """Feed 20 ms frames of 8 kHz 16-bit PCM from the answered party; a decision comes once."""

    def __init__(self, settings: AmdSettings = AmdSettings(), sample_rate: int = 8000):
        self.settings = settings
        self.vad = Vad(sample_rate, FRAME_MS, VadSettings(settings.vad_aggressiveness, -45.0))
        self.now_ms = 0
        self.decision: AmdDecision | None = None
        self._speech_started_at: int | None = None
        self._voiced_run = 0
        self._silent_run = 0
        self._in_word = False
        self.words = 0
        self._quiet_for = 0

    def feed(self, frame: bytes) -> AmdDecision | None:
        """One frame; returns the decision when it is made (and None before and after)."""
        if self.decision is not None:
            return None
        self.now_ms += FRAME_MS
        if self.vad.is_speech(frame):
            self._on_voiced()
        else:
            self._on_silent()
        return self._decide()

    def _on_voiced(self) -> None:
        self._voiced_run += FRAME_MS
        self._silent_run = 0
        if self._voiced_run >= self.settings.min_word_ms and not self._in_word:
            self._in_word = True
            self.words += 1
            if self._speech_started_at is None:
                self._speech_started_at = self.now_ms - self._voiced_run

    def _on_silent(self) -> None:
        self._silent_run += FRAME_MS
        if self._silent_run >= self.settings.between_words_silence_ms:
            self._in_word, self._voiced_run = False, 0

    def _decide(self) -> AmdDecision | None:
        s, started = self.settings, self._speech_started_at
        if started is None:
            if self.now_ms >= s.initial_silence_ms:
                return self._make(AmdResult.MACHINE, "initial_silence")
        else:
            greeting = self.now_ms - started - (self._silent_run if not self._in_word else 0)
            if greeting >= s.greeting_ms:
                return self._make(AmdResult.MACHINE, "long_greeting")
            if self.words > s.max_words:
                return self._make(AmdResult.MACHINE, "max_words")
            if self._silent_run >= s.after_greeting_silence_ms:
                return self._make(AmdResult.HUMAN, "human")
        if self.now_ms >= s.total_analysis_ms:
            return self._make(AmdResult.NOTSURE, "too_long")
        return None

    def _make(self, result: AmdResult, reason: str) -> AmdDecision:
        started = self._speech_started_at
        greeting = 0 if started is None else max(0, self.now_ms - started - self._silent_run)
        self.decision = AmdDecision(result, reason, self.now_ms, self.words, greeting)
        logger.debug("AMD: %s (%s) at %d ms, %d words", result.value, reason, self.now_ms, self.words)
        return self.decision

    def wait_for_beep(self, frame: bytes) -> bool:
        """After MACHINE: True once the greeting has ended (quiet long enough) or waiting took too long."""
        self.now_ms += FRAME_MS
        self._quiet_for = 0 if self.vad.is_speech(frame) else self._quiet_for + FRAME_MS
        waited = self.now_ms - (self.decision.at_ms if self.decision else 0)
        s = self.settings
        return self._quiet_for >= s.end_of_greeting_silence_ms or waited >= s.max_greeting_wait_ms
