"""The speaking side of a call: runs the dialog for each caller turn and streams the reply into the RTP session.

Synthesis is streamed sentence by sentence: the first sentence is queued for sending as soon as it is ready and
the next one is synthesized while the first plays. ``interrupt`` (barge-in) and a write share one lock, so once
the pipeline has cleared the playback queue no late sentence of the interrupted reply can slip in after it.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from voice.session import CallSession

logger = logging.getLogger(__name__)

DRAIN_POLL = 0.02


@dataclass
class Spoken:
    """What became of one utterance."""

    text: str
    started: float | None = None
    """Monotonic time its first audio was queued for sending (None: nothing was played)."""
    ended: float = 0.0
    interrupted: bool = False
    tts_first_ms: float = 0.0


@dataclass
class Job:
    """One thing for the speaker to do, in order."""

    kind: str
    """``turn`` (run the dialog on caller input, then speak), ``say`` (speak a line), ``transfer``, ``prepare``
    (synthesize ahead the likely reply to a partial hypothesis)."""
    text: str = ""
    dtmf: str | None = None
    confidence: float | None = None
    heard_at: float = 0.0
    asr_ms: float = 0.0
    then: str | None = None
    """After a ``say``: ``hangup:<reason>`` to end the call, or None to listen again."""
    target: str | None = None
    extra: dict = field(default_factory=dict)


class Speaker:
    """One thread per call that turns jobs into speech and actions."""

    def __init__(self, session: "CallSession"):
        self.session = session
        self.media = session.call.media
        self._jobs: "queue.Queue[Job | None]" = queue.Queue()
        self._interrupted = threading.Event()
        self._write_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"voice-speaker:{session.call.call_id[:8]}",
                                        daemon=True)
        self.busy = False

    def start(self) -> None:
        """Start the speaker thread."""
        self._thread.start()

    def submit(self, job: Job) -> None:
        """Queue a job (turns are handled in the order the caller spoke them)."""
        self.busy = True
        self._jobs.put(job)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the current job (interrupting its speech) and join the thread."""
        self.interrupt()
        self._jobs.put(None)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def interrupt(self) -> float:
        """Barge-in: stop the current utterance now; returns the seconds of queued audio dropped."""
        with self._write_lock:
            self._interrupted.set()
            return self.media.clear_playback() if self.media is not None else 0.0

    @property
    def idle(self) -> bool:
        """Nothing queued, nothing being spoken."""
        return not self.busy and self._jobs.empty()

    # -- the thread -------------------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                self._do(job)
            except Exception:  # one failed turn must not silence the rest of the call
                logger.exception("call %s: speaker job %s failed", self.session.call.call_id[:12], job.kind)
            finally:
                self.busy = not self._jobs.empty()
                if not self.busy:
                    self.session.speaker_idle()

    def _do(self, job: Job) -> None:
        if job.kind == "turn":
            self.session.run_turn(job)
        elif job.kind == "say":
            self.session.say_job(job)
        elif job.kind == "transfer":
            self.session.transfer_job(job)
        elif job.kind == "prepare":
            self.session.prepare_job(job)
        else:
            raise ValueError(f"unknown speaker job {job.kind!r}")

    # -- speaking ---------------------------------------------------------------------------------------------
    def say(self, text: str, chunks: Callable[[str], object], active: Callable[[], bool]) -> Spoken:
        """Stream ``text`` (``chunks(text)`` yields 8 kHz PCM per sentence) and wait until it has been sent."""
        self._interrupted.clear()
        spoken = Spoken(text)
        began = time.perf_counter()
        for pcm in chunks(text):
            with self._write_lock:
                if self._interrupted.is_set() or not active():
                    break
                self.media.write(pcm, more=True)
            if spoken.started is None:
                spoken.started = time.monotonic()
                spoken.tts_first_ms = (time.perf_counter() - began) * 1000
                self.session.speech_started(spoken)
        self.media.end_playback()
        while active() and not self._interrupted.is_set() and self.media.playback_pending() > 0:
            self.media.wait_playback(DRAIN_POLL)
        spoken.interrupted = self._interrupted.is_set()
        spoken.ended = time.monotonic()
        return spoken
