"""The one speech-recognition interface every engine implements (Vosk, PocketSphinx).

An engine is built once during wiring (it owns the loaded model) and hands out one ``AsrStream`` per utterance
source (a call leg, a recording). Streams take 16-bit mono PCM at the engine's own rate; ``transcribe`` takes any
rate, resamples, segments the audio by voice activity and decodes each segment, which is what uploads need.
"""
from __future__ import annotations

import abc
import logging
from dataclasses import dataclass, field
from typing import Sequence

from appliance.errors import CallboxError

logger = logging.getLogger(__name__)


class AsrError(CallboxError):
    """Speech recognition is not available."""

    code, status = "SERVICE_UNAVAILABLE", 503


@dataclass(frozen=True)
class Word:
    """One recognized word with its time (seconds from the start of the stream or segment)."""

    text: str
    start: float
    end: float
    confidence: float = 1.0


@dataclass(frozen=True)
class Partial:
    """A hypothesis that may still change (feeds the live view, never the dialog)."""

    text: str


@dataclass(frozen=True)
class Result:
    """The final hypothesis of one utterance."""

    text: str
    confidence: float
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Segment:
    """One stretch of speech in a transcript, times in seconds from the start of the audio."""

    start: float
    end: float
    text: str
    confidence: float
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Transcript:
    """A whole recording transcribed."""

    text: str
    segments: tuple[Segment, ...]
    engine: str
    language: str
    duration: float
    decode_seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def confidence(self) -> float:
        """Duration-weighted mean confidence of the segments (0 when there is no speech)."""
        total = sum(s.end - s.start for s in self.segments)
        if total <= 0:
            return 0.0
        return sum(s.confidence * (s.end - s.start) for s in self.segments) / total


class AsrStream(abc.ABC):
    """Decodes one audio stream, utterance after utterance; not thread-safe (one per call leg)."""

    sample_rate: int

    @abc.abstractmethod
    def accept(self, pcm16: bytes) -> Partial | None:
        """Feed audio at the engine rate; returns a partial hypothesis when it changed."""

    @abc.abstractmethod
    def final(self) -> Result:
        """End the current utterance and return its result; the stream is then ready for the next one."""

    @abc.abstractmethod
    def reset(self) -> None:
        """Drop the audio of the current utterance (e.g. after barge-in of our own prompt)."""

    def close(self) -> None:
        """Give back what the stream holds (decoders go back to the engine's pool)."""


class AsrEngine(abc.ABC):
    """A loaded recognizer for one language."""

    name: str
    language: str
    sample_rate: int

    @abc.abstractmethod
    def stream(self, phrases: Sequence[str] | None = None, *, closed: bool = False) -> AsrStream:
        """A new stream; ``phrases`` (sentences, prompts, expected answers, words) are favoured.

        ``closed=True`` asks for recognition restricted to the phrases (yes/no, digits, a slot's choices) where
        the engine can do it; otherwise it only biases recognition towards them.
        """

    def transcribe(self, pcm16: bytes, sample_rate: int, phrases: Sequence[str] | None = None) -> Transcript:
        """Transcribe a whole mono 16-bit recording (any rate) into timed segments."""
        from voice.asr.transcribe import transcribe_with

        return transcribe_with(self, pcm16, sample_rate, phrases)

    def memory_bytes(self) -> int:
        """Approximate memory the loaded model holds (for health figures); 0 when unknown."""
        return 0

    def close(self) -> None:
        """Free the model."""


def check_pcm(pcm16: bytes) -> None:
    """Refuse audio that is not whole 16-bit samples."""
    if len(pcm16) % 2:
        raise ValueError("16-bit PCM must have an even number of bytes")
