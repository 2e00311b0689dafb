"""One answered call: a ``State`` machine over a listening pipeline and a speaker.

The pipeline thread reads the call's 20 ms frames (``MediaTap``: what the caller sent paired with what we played),
runs VAD and the endpointer, streams the caller's turn into the recognizer (partials to the live view, finals to
the dialog), watches for barge-in while we speak, for DTMF, for a caller who never speaks and for the duration
limit. The speaker thread (``voice.speaker``) runs the dialog and streams its reply. Database writes go through
``CdrSink`` (a writer thread); the recording is written here after the call, never from an RTP thread.
"""
from __future__ import annotations

import collections
import enum
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from voice.amd import AmdDetector, AmdResult, AmdSettings
from voice.media.resample import Resampler
from voice.media_tap import tap_of
from voice.session_end import SessionEnd
from voice.speaker import Job, Speaker, Spoken
from voice.vad import BargeInDetector, BargeInSettings, Endpointer, EndpointerSettings, EventKind, Vad
from voice.vad import State as VadState

if TYPE_CHECKING:
    from voice.cdr_writer import CdrSink
    from voice.dialog import Conversation
    from voice.engines import Engines
    from voice.sip import Call

logger = logging.getLogger(__name__)

FRAME_S = 0.02
RING_FRAMES = 15  # 300 ms of the caller kept while we speak: the start of a barge-in utterance
READ_TIMEOUT = 0.2
ASR_WAIT = 10.0


class State(enum.Enum):
    CONNECTING = "connecting"
    """Answered; nothing said yet."""
    DETECTING = "detecting"
    """Outbound: listening for an answering machine before saying anything."""
    SPEAKING = "speaking"
    LISTENING = "listening"
    THINKING = "thinking"
    """The caller finished a turn; the reply is being decided and synthesized."""
    TRANSFERRING = "transferring"
    ENDING = "ending"
    """Last words (goodbye, voicemail message), then hang up; no barge-in."""
    ENDED = "ended"


TRANSITIONS: dict[State, frozenset[State]] = {
    State.CONNECTING: frozenset({State.DETECTING, State.SPEAKING, State.LISTENING, State.ENDING}),
    State.DETECTING: frozenset({State.SPEAKING, State.LISTENING, State.ENDING}),
    State.SPEAKING: frozenset({State.LISTENING, State.THINKING, State.TRANSFERRING, State.ENDING}),
    State.LISTENING: frozenset({State.THINKING, State.SPEAKING, State.TRANSFERRING, State.ENDING}),
    State.THINKING: frozenset({State.SPEAKING, State.LISTENING, State.TRANSFERRING, State.ENDING}),
    State.TRANSFERRING: frozenset({State.SPEAKING, State.LISTENING, State.ENDING}),
    State.ENDING: frozenset(),
    State.ENDED: frozenset(),
}


@dataclass(frozen=True)
class SessionSettings:
    end_of_turn_ms: int = 500
    """Caller silence that ends a turn."""
    barge_in: bool = True
    """Caller speech during our prompt stops it."""
    barge: BargeInSettings = field(default_factory=lambda: BargeInSettings(onset_ms=80))
    """How barge-in tells the caller from the echo of our own prompt (80 ms of clear speech stops a prompt:
    with the receive jitter buffer and the send tick that keeps the whole reaction under 200 ms)."""
    no_input_seconds: float = 8.0
    """Silence before the no-input prompt; the same again after it ends the call (reason ``no_input``)."""
    no_input_prompt: str = "Are you still there? I'm happy to help if you have a question."
    no_input_goodbye: str = "I can't hear anything, so I'll end the call now. Please call again. Goodbye."
    max_call_seconds: float = 3600.0
    """The call is closed with ``max_duration_line`` after this long (reason ``max_duration``)."""
    max_duration_line: str = "I'm sorry, we have reached the time limit for this call. Goodbye."
    transfer_failed_line: str = "I'm sorry, I couldn't connect you right now. Is there anything else I can help with?"
    transfer_timeout: float = 30.0
    """How long a transfer waits for the target to answer."""
    live_every: float = 0.5
    """Seconds between live-view updates while the caller speaks."""
    speculate_ms: int = 200
    """After this much silence in a turn, the reply to the latest partial hypothesis is synthesized ahead
    (into the voice's cache), so it is ready if the final hypothesis agrees; 0 disables."""


@dataclass
class CallContext:
    """What call setup resolved for one call (organization, record, dialog, language, recording)."""

    org_id: str
    record_id: str
    conversation: "Conversation"
    language: str = "en"
    phrases: tuple[str, ...] = ()
    recordings_root: Path | None = None
    """Where recordings live; None: this call is not recorded."""
    outbound: bool = False
    amd: AmdSettings | None = None
    """Answering-machine detection settings (outbound calls only); None: greet at once."""
    machine_action: str = "message"
    voicemail_message: str = ""
    mode: str = "assistant"
    """``assistant`` (the dialog), ``voicemail`` (take one message, then goodbye) or ``transfer`` (greet, hand on)."""
    destination: str | None = None
    """Where ``transfer`` mode hands the caller."""


class CallSession:
    """The life of one answered call, from greeting to the record's last line."""

    def __init__(self, call: "Call", engines: "Engines", context: CallContext, cdr: "CdrSink",
                 settings: SessionSettings = SessionSettings(),
                 on_finished: Callable[["CallSession"], None] | None = None):
        self.call, self.engines, self.context, self.cdr, self.settings = call, engines, context, cdr, settings
        self.on_finished = on_finished
        self.tap = tap_of(call.media)
        if self.tap is None:
            raise ValueError("the call's media was not built with a MediaTap (use voice.media_tap.media_factory)")
        self.state = State.CONNECTING
        self._lock = threading.RLock()
        self.speaker = Speaker(self)
        self.end = SessionEnd()
        self.t0 = time.monotonic()
        self.frames = 0
        self.timings: list[dict] = []
        self.prepared = 0
        """Replies synthesized ahead from a partial hypothesis."""
        self.lines: list[str] = []
        self._dtmf: "queue.Queue[str]" = queue.Queue()
        self._ring: collections.deque[bytes] = collections.deque(maxlen=RING_FRAMES)
        self._listen_reset = self._barge_reset = True
        self._listening_since = 0
        self._no_input = 0
        self._turn_start = 0.0
        self._limit_hit = False
        self._partial = ""
        self._speculated = False
        self._amd_phase = "detect"
        self._thread = threading.Thread(target=self.run, name=f"voice-call:{call.call_id[:8]}", daemon=True)
        self._asr = None
        self._asr_thread = threading.Thread(target=self._make_asr, name=f"voice-asr:{call.call_id[:8]}",
                                            daemon=True)

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def start(self) -> "CallSession":
        """Start the speaker and the pipeline threads (and build the recognizer stream beside them)."""
        self.call.on_dtmf = self._dtmf.put
        self._asr_thread.start()
        self.speaker.start()
        self._thread.start()
        return self

    def _make_asr(self) -> None:
        # Built (and primed) off the pipeline thread: it takes a few hundred ms, during which the pipeline must
        # keep up with the 20 ms clock (barge-in during the greeting); the caller's first turn waits for it.
        try:
            self._asr = self.engines.asr_stream(self.context.language, self.context.phrases)
        except Exception:  # the pipeline notices the missing stream and ends the call
            logger.exception("call %s: no recognition stream", self.call.call_id[:12])

    def _recognizer(self):
        if self._asr is None:
            self._asr_thread.join(ASR_WAIT)
            if self._asr is None:
                raise RuntimeError("the recognition stream is not available")
        return self._asr

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the session to finish (the record closed); True if it did."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def on_call_ended(self) -> None:
        """The SIP call ended (either side): wake the pipeline so it finishes."""
        self.tap.close()

    def transition(self, new: State, allowed_from: frozenset[State] | None = None) -> bool:
        """Move to ``new`` if the state machine allows it (and the current state is in ``allowed_from``)."""
        with self._lock:
            old = self.state
            if new is old or (allowed_from is not None and old not in allowed_from):
                return False
            if new is not State.ENDED and new not in TRANSITIONS[old]:
                if old not in (State.ENDING, State.ENDED):
                    logger.warning("call %s: no transition %s -> %s", self.call.call_id[:12], old.value, new.value)
                return False
            self.state = new
        logger.debug("call %s: %s -> %s", self.call.call_id[:12], old.value, new.value)
        return True

    def run(self) -> None:
        """The pipeline thread: greet (or detect a machine), then listen until the call ends; then close up."""
        self._resampler = Resampler(8000, self.engines.recognizer(self.context.language).sample_rate, "MQ")
        self._endpointer = Endpointer(Vad(8000, 20), self._endpointing())
        self._barge = BargeInDetector(8000, 20, self.settings.barge)
        self._amd = AmdDetector(self.context.amd) if self.context.outbound and self.context.amd else None
        try:
            self.cdr.answered()
            self._begin()
            while self.call.is_active:
                pair = self.tap.read(READ_TIMEOUT)
                if pair is not None:
                    self._frame(*pair)
                self._check_dtmf()
                self._check_limit()
        except Exception:  # a pipeline bug ends this call cleanly instead of leaving it mute
            logger.exception("call %s: pipeline failed", self.call.call_id[:12])
            self.end.reason = self.end.reason or "error"
            self.call.hangup()
        finally:
            self.end.finish(self)

    def _begin(self) -> None:
        if self._amd is not None:
            self.transition(State.DETECTING)
        else:
            self.greet()

    def _endpointing(self) -> EndpointerSettings:
        if self.context.mode == "voicemail":  # a message has pauses; let the caller finish it
            return EndpointerSettings(end_silence_ms=max(2000, self.settings.end_of_turn_ms), max_utterance_ms=90000)
        return EndpointerSettings(end_silence_ms=self.settings.end_of_turn_ms)

    def greet(self) -> None:
        """Say the assistant's greeting (in transfer mode: the handoff line, then the transfer)."""
        self.speaker.submit(Job("say", self.context.conversation.greet().text))
        if self.context.mode == "transfer" and self.context.destination:
            self.speaker.submit(Job("transfer", target=self.context.destination, extra={"reason": "after_hours"}))

    # -- frames ------------------------------------------------------------------------------------------------
    def _frame(self, caller: bytes, played: bytes) -> None:
        self.frames += 1
        self.call.media.read_frame(0)  # keep the session's own read queue empty: frames are read from the tap
        state = self.state
        if state is State.LISTENING:
            self._listening_frame(caller)
        elif state is State.SPEAKING:
            self._speaking_frame(caller, played)
        elif state is State.DETECTING:
            self._amd_frame(caller)
        self._ring.append(caller)

    def _listening_frame(self, caller: bytes) -> None:
        if self._listen_reset:
            self._listen_reset = False
            self._endpointer.reset()
            self._listening_since = self.frames
        event = self._endpointer.feed(caller)
        if event is not None and event.kind is EventKind.SPEECH_START:
            self._turn_start = (self.frames * FRAME_S) - len(event.audio) / 16000
            self._partial, self._speculated = "", False
            self._feed_asr(event.audio)
        elif self._endpointer.state is VadState.SPEECH:
            self._feed_asr(caller)
            self._maybe_speculate()
        if event is not None and event.kind is EventKind.END_OF_TURN:
            self._end_turn()
        elif event is not None and event.kind is EventKind.NOISE:
            self._recognizer().reset()
            self._resampler.flush()
        if self._endpointer.state is VadState.SPEECH:
            self._listening_since = self.frames
        elif (self.frames - self._listening_since) * FRAME_S >= self.settings.no_input_seconds:
            self._on_no_input()

    def _feed_asr(self, pcm8k: bytes) -> None:
        pcm = self._resampler.process(pcm8k)
        if not pcm:  # the resampler holds back its first few milliseconds
            return
        partial = self._recognizer().accept(pcm)
        if partial is not None and partial.text:
            self._partial = partial.text
            self.cdr.live(self.live_text(f"CALLER: {partial.text}"), every=self.settings.live_every)

    def _maybe_speculate(self) -> None:
        # The endpointer's silence count is read, not changed (it has no public accessor yet).
        silence = getattr(self._endpointer, "_silence_ms", 0)
        wanted = self.settings.speculate_ms
        if wanted and not self._speculated and self._partial and silence >= wanted and self.speaker.idle:
            self._speculated = True
            self.speaker.submit(Job("prepare", self._partial))

    def _end_turn(self) -> None:
        heard_at = time.monotonic()
        asr = self._recognizer()
        tail = self._resampler.flush()
        if tail:
            asr.accept(tail)
        result = asr.final()
        asr_ms = (time.monotonic() - heard_at) * 1000
        text = result.text.strip()
        if not text:
            return  # sound without words: keep listening
        end = self.frames * FRAME_S - self.settings.end_of_turn_ms / 1000
        self.cdr.segment("CALLER", text, self._turn_start, end, result.confidence)
        self.lines.append(f"CALLER: {text}")
        self.cdr.live(self.live_text(), force=True)
        self._no_input = 0
        self.transition(State.THINKING)
        self.speaker.submit(Job("turn", text, confidence=result.confidence, heard_at=heard_at, asr_ms=asr_ms))

    def _speaking_frame(self, caller: bytes, played: bytes) -> None:
        if not self.settings.barge_in:
            return
        if self._barge_reset:
            self._barge_reset = False
            self._barge.reset()
        if not self._barge.feed(caller, played):
            return
        dropped = self.speaker.interrupt()
        if not self.transition(State.LISTENING, frozenset({State.SPEAKING})):
            return
        self.cdr.event("barge_in", {"atSeconds": round(self.frames * FRAME_S, 2), "droppedSeconds": round(dropped, 2)})
        logger.info("call %s: barge-in (%.1f s of the prompt dropped)", self.call.call_id[:12], dropped)
        self._listen_reset = False
        self._endpointer.reset()
        self._listening_since = self.frames
        for frame in list(self._ring) + [caller]:  # the caller's first words were heard while we spoke
            self._listening_frame(frame)

    def _amd_frame(self, caller: bytes) -> None:
        if self._amd_phase == "detect":
            decision = self._amd.feed(caller)
            if decision is None:
                return
            self.cdr.event("amd", {"result": decision.result.value, "reason": decision.reason,
                                   "atMs": decision.at_ms, "words": decision.words, "greetingMs": decision.greeting_ms})
            if decision.result is not AmdResult.MACHINE:
                self.greet()
                return
            self.end.voicemail = True
            if self.context.machine_action == "hangup":
                self.hang_up("voicemail")
                return
            self._amd_phase = "beep"
        elif self._amd_phase == "beep" and self._amd.wait_for_beep(caller):
            self._amd_phase = "done"
            self.say_then_hangup(self.context.voicemail_message, "voicemail")

    # -- events from outside the frame loop ----------------------------------------------------------------
    def _check_dtmf(self) -> None:
        try:
            digit = self._dtmf.get_nowait()
        except queue.Empty:
            return
        self.cdr.event("dtmf", {"digit": digit, "atSeconds": round(self.frames * FRAME_S, 2)})
        if self.state in (State.SPEAKING, State.LISTENING, State.THINKING):
            self.speaker.interrupt()
            self.transition(State.THINKING)
            self.speaker.submit(Job("turn", "", dtmf=digit, heard_at=time.monotonic()))

    def _check_limit(self) -> None:
        if not self._limit_hit and time.monotonic() - self.t0 >= self.settings.max_call_seconds:
            self._limit_hit = True
            self.speaker.interrupt()
            self.say_then_hangup(self.settings.max_duration_line, "max_duration")

    def _on_no_input(self) -> None:
        self._no_input += 1
        self._listening_since = self.frames
        self.cdr.event("no_input", {"count": self._no_input, "atSeconds": round(self.frames * FRAME_S, 2)})
        if self._no_input == 1:
            self.speaker.submit(Job("say", self.settings.no_input_prompt))
        else:
            self.say_then_hangup(self.settings.no_input_goodbye, "no_input")

    # -- control (pipeline, speaker, the voice queue) ----------------------------------------------------------
    def say_then_hangup(self, text: str, reason: str) -> None:
        """Say ``text`` as the last words, then hang up with ``reason``."""
        self.transition(State.ENDING)
        self.speaker.submit(Job("say", text, then=f"hangup:{reason}"))

    def hang_up(self, reason: str) -> None:
        """End the call now with ``reason`` (kept if an earlier reason was set)."""
        self.end.reason = self.end.reason or reason
        self.transition(State.ENDING)
        self.call.hangup()

    def request_transfer(self, target: str) -> None:
        """Transfer the call (asked for through the API)."""
        self.speaker.interrupt()
        self.speaker.submit(Job("transfer", target=target, extra={"reason": "api"}))

    def live_text(self, partial: str | None = None) -> str:
        """The recent transcript for the live view."""
        return "\n".join(self.lines[-6:] + ([partial] if partial else []))

    # -- callbacks from the speaker thread ----------------------------------------------------------------------
    def speech_started(self, spoken: Spoken) -> None:
        """The first audio of an utterance was queued: we are speaking (barge-in watches from now)."""
        if self.transition(State.SPEAKING, frozenset({State.CONNECTING, State.DETECTING, State.LISTENING,
                                                        State.THINKING, State.TRANSFERRING})):
            self._barge_reset = True

    def speaker_idle(self) -> None:
        """The speaker has nothing left to say: listen (a fresh turn, a fresh no-input timer)."""
        if self.transition(State.LISTENING, frozenset({State.SPEAKING, State.THINKING, State.CONNECTING,
                                                         State.TRANSFERRING})):
            self._listen_reset = True

    def speak(self, text: str) -> Spoken:
        """Say ``text`` and record it as the AI's transcript segment."""
        spoken = self.speaker.say(text, lambda t: self.engines.speak_8k(self.context.language, t),
                                  lambda: self.call.is_active)
        if spoken.started is not None:
            self.cdr.segment("AI", text, spoken.started - self.t0, spoken.ended - self.t0, None)
            self.lines.append(f"AI: {text}")
        return spoken

    def run_turn(self, job: Job) -> None:
        """Speaker thread: the dialog's reply to one caller turn, spoken, then its action."""
        from voice.turns import run_turn

        run_turn(self, job)

    def prepare_job(self, job: Job) -> None:
        """Speaker thread: synthesize ahead the reply the dialog would give to a partial hypothesis."""
        from voice.turns import prepare

        prepare(self, job.text)

    def say_job(self, job: Job) -> None:
        """Speaker thread: say a line, then hang up if asked."""
        self.speak(job.text)
        if job.then and job.then.startswith("hangup:"):
            self.hang_up(job.then.split(":", 1)[1])

    def transfer_job(self, job: Job) -> None:
        """Speaker thread: transfer to ``job.target``."""
        from voice.turns import transfer

        transfer(self, job.target or "", job.extra.get("reason", "api"))
