"""End-of-turn detection: a small state machine over VAD frames.

Speech starts when enough of the last ``start_window_ms`` is speech (one click does not start a turn); the turn
ends after ``end_silence_ms`` of continuous silence, or at ``max_utterance_ms``. A "turn" with less than
``min_speech_ms`` of speech is reported as noise and dropped. The audio just before the start (``pre_roll_ms``)
is handed over with the start event so the recognizer hears the first phoneme.
"""
from __future__ import annotations

import enum
import logging
from collections import deque
from dataclasses import dataclass

from voice.vad.detector import Vad

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EndpointerSettings:
    start_ms: int = 100
    """Speech needed inside the start window to declare that the caller started talking."""
    start_window_ms: int = 200
    """Window the start decision looks at."""
    end_silence_ms: int = 600
    """Continuous silence that ends the caller's turn."""
    min_speech_ms: int = 200
    """Shorter bursts (a cough, a click) are noise, not a turn."""
    max_utterance_ms: int = 15000
    """A turn is cut here even if the caller keeps talking."""
    pre_roll_ms: int = 300
    """Audio kept from before the detected start."""
    no_input_ms: int = 0
    """Report NO_INPUT after this much silence waiting for speech (0: never)."""


class State(enum.Enum):
    WAITING = "waiting"
    SPEECH = "speech"


class EventKind(enum.Enum):
    SPEECH_START = "speech_start"
    END_OF_TURN = "end_of_turn"
    NOISE = "noise"
    NO_INPUT = "no_input"


@dataclass(frozen=True)
class EndpointEvent:
    kind: EventKind
    at_ms: int
    """Stream time of the event (end of the frame that caused it)."""
    reason: str = ""
    audio: bytes = b""
    """For SPEECH_START: the pre-roll and the frames that started the turn."""
    speech_ms: int = 0


class Endpointer:
    """Feed 20 ms frames (8 or 16 kHz); get an event when a turn starts or ends."""

    def __init__(self, vad: Vad, settings: EndpointerSettings = EndpointerSettings()):
        self.vad, self.settings = vad, settings
        self.frame_ms = vad.frame_ms
        keep = max(settings.pre_roll_ms, settings.start_window_ms) // self.frame_ms + 1
        self._recent: deque[tuple[bytes, bool]] = deque(maxlen=keep)
        self.state = State.WAITING
        self.now_ms = 0
        self._reset_turn()
        self._waiting_since = 0

    def _reset_turn(self) -> None:
        self.turn_start_ms = 0
        self._speech_ms = 0
        self._silence_ms = 0

    def reset(self) -> None:
        """Forget everything heard (e.g. when a new prompt starts)."""
        self._recent.clear()
        self.state = State.WAITING
        self._reset_turn()
        self._waiting_since = self.now_ms

    def feed(self, frame: bytes) -> EndpointEvent | None:
        """One frame in; an event out when the state changes."""
        speech = self.vad.is_speech(frame)
        self.now_ms += self.frame_ms
        self._recent.append((frame, speech))
        if self.state is State.WAITING:
            return self._while_waiting()
        return self._while_speaking(speech)

    def _while_waiting(self) -> EndpointEvent | None:
        window = self.settings.start_window_ms // self.frame_ms
        voiced = sum(1 for _, s in list(self._recent)[-window:] if s) * self.frame_ms
        if voiced >= self.settings.start_ms:
            return self._start(voiced)
        limit = self.settings.no_input_ms
        if limit and self.now_ms - self._waiting_since >= limit:
            self._waiting_since = self.now_ms
            return EndpointEvent(EventKind.NO_INPUT, self.now_ms, "no_input")
        return None

    def _start(self, voiced_ms: int) -> EndpointEvent:
        self.state = State.SPEECH
        self._reset_turn()
        frames = max(self.settings.pre_roll_ms, self.settings.start_window_ms) // self.frame_ms
        audio = b"".join(f for f, _ in list(self._recent)[-frames:])
        self.turn_start_ms = self.now_ms - len(audio) // self.vad.frame_bytes * self.frame_ms
        self._speech_ms = voiced_ms
        return EndpointEvent(EventKind.SPEECH_START, self.now_ms, "speech", audio, voiced_ms)

    def _while_speaking(self, speech: bool) -> EndpointEvent | None:
        if speech:
            self._speech_ms += self.frame_ms
            self._silence_ms = 0
        else:
            self._silence_ms += self.frame_ms
        if self._silence_ms >= self.settings.end_silence_ms:
            return self._end("silence")
        if self.now_ms - self.turn_start_ms >= self.settings.max_utterance_ms:
            return self._end("max_utterance")
        return None

    def _end(self, reason: str) -> EndpointEvent:
        speech_ms = self._speech_ms
        kind = EventKind.END_OF_TURN if speech_ms >= self.settings.min_speech_ms else EventKind.NOISE
        self.state = State.WAITING
        self._recent.clear()
        self._reset_turn()
        self._waiting_since = self.now_ms
        return EndpointEvent(kind, self.now_ms, reason, speech_ms=speech_ms)
