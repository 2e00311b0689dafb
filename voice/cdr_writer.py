"""Database writes of the voice process, off the audio path: one writer thread, a queue, and a per-call sink.

A call's pipeline must never wait on SQLite (a busy database can hold a writer for seconds), so events,
transcript segments, live-view updates and registration states are queued here and written in order by one
thread. ``CdrSink`` is what a call session sees: the call record interface of ``appliance.calls``, queued.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, Callable

from peewee import DatabaseError

from data.db import database

logger = logging.getLogger(__name__)

MAX_QUEUE = 20000
LIVE_TEXT_LIMIT = 2000


class DbWriter:
    """Runs queued database work in submission order on one thread."""

    def __init__(self, max_queue: int = MAX_QUEUE):
        self._queue: "queue.Queue[tuple[Callable, tuple, dict] | None]" = queue.Queue(max_queue)
        self._thread: threading.Thread | None = None
        self.failures = 0
        self.dropped = 0

    def start(self) -> "DbWriter":
        """Start the writer thread."""
        self._thread = threading.Thread(target=self._run, name="voice-db-writer", daemon=True)
        self._thread.start()
        return self

    def submit(self, fn: Callable, *args: Any, **kwargs: Any) -> None:
        """Queue one write; dropped (and counted) only if the queue is full, which means the database is stuck."""
        try:
            self._queue.put_nowait((fn, args, kwargs))
        except queue.Full:
            self.dropped += 1
            logger.error("database writer queue full; dropped %s", getattr(fn, "__name__", fn))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is written; False on timeout."""
        done = threading.Event()
        self.submit(done.set)
        return done.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread (bounded)."""
        if self._thread is None:
            return
        try:
            self._queue.put((None), timeout=timeout)
        except queue.Full:
            logger.error("database writer did not drain; stopping with writes pending")
        self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < 200:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._write(batch)
                    return
                batch.append(nxt)
            self._write(batch)

    def _write(self, batch: list[tuple[Callable, tuple, dict]]) -> None:
        try:
            with database.connection_context():
                for fn, args, kwargs in batch:
                    self._one(fn, args, kwargs)
        except DatabaseError as exc:  # cannot even connect: count every write of the batch as failed
            self.failures += len(batch)
            logger.error("database unavailable for %d voice writes: %s", len(batch), exc)

    def _one(self, fn: Callable, args: tuple, kwargs: dict) -> None:
        for attempt in range(3):
            try:
                fn(*args, **kwargs)
                return
            except DatabaseError as exc:  # "database is locked" past the busy timeout: retry a little later
                logger.warning("voice write %s failed (attempt %d): %s", getattr(fn, "__name__", fn),
                               attempt + 1, exc)
                time.sleep(0.2 * (attempt + 1))
            except Exception:  # a bug in one write must not stop the writer for every other call
                logger.exception("voice write %s failed", getattr(fn, "__name__", fn))
                break
        self.failures += 1


class CdrSink:
    """The call record of one call, written through the writer (``appliance.calls`` underneath)."""

    def __init__(self, writer: DbWriter, call_id: str):
        self.writer, self.call_id = writer, call_id
        self._last_live = 0.0

    @staticmethod
    def _calls():
        from appliance import calls  # the call-record service; imported late so SIP tests need no database
        return calls

    def answered(self) -> None:
        """The call was answered."""
        self.writer.submit(self._calls().mark_answered, self.call_id)

    def event(self, event_type: str, data: dict | None = None) -> None:
        """One timeline event (started, answered, turn, barge_in, dtmf, transfer, ended, ...)."""
        self.writer.submit(self._calls().add_event, self.call_id, event_type, dict(data or {}))

    def segment(self, speaker: str, text: str, start: float, end: float, confidence: float | None = None) -> None:
        """One finished transcript segment (seconds from the answer)."""
        if text:
            self.writer.submit(self._calls().add_segment, self.call_id, speaker, text, round(start, 2),
                               round(max(end, start), 2), confidence=confidence)

    def live(self, transcript: str | None = None, confidence: float | None = None, *, every: float = 0.5,
             force: bool = False) -> None:
        """Update the live view, at most every ``every`` seconds unless forced."""
        now = time.monotonic()
        if not force and now - self._last_live < every:
            return
        self._last_live = now
        text = transcript[-LIVE_TEXT_LIMIT:] if transcript else transcript
        self.writer.submit(self._calls().update_live, self.call_id, current_transcript=text, ai_confidence=confidence)

    def finish(self, *, status: str, ended_reason: str, handled_by: str | None = None, outcome: str | None = None,
               recording_path: str | None = None) -> None:
        """Close the record."""
        self.writer.submit(self._calls().finish_call, self.call_id, status=status, ended_reason=ended_reason,
                           handled_by=handled_by, outcome=outcome, recording_path=recording_path)
