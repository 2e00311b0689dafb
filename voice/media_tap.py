"""The call's view of its RTP session: each 20 ms tick's received frame paired with the frame we sent.

``RtpSession`` hands its recorder one (caller, ai) pair per send tick, on the RTP thread. ``MediaTap`` stands in
that place: it keeps the pair for the call's pipeline (barge-in compares what the caller's leg carries with what
we played at the same moment, to tell the caller from our own echo) and passes it to the stereo recorder.
"""
from __future__ import annotations

import collections
import threading
from typing import Any, Callable

from voice.media.recording import CallRecorder
from voice.media.session import RtpSession
from voice.media.settings import MediaSettings

QUEUE_FRAMES = 500  # 10 s of audio for a reader that fell behind; older frames are dropped


class MediaTap:
    """Recorder-compatible sink of (received, sent) frame pairs; read by the call's pipeline thread."""

    def __init__(self, recorder: CallRecorder | None = None, max_frames: int = QUEUE_FRAMES):
        self.recorder = recorder
        self._pairs: collections.deque[tuple[bytes, bytes]] = collections.deque(maxlen=max_frames)
        self._cond = threading.Condition()
        self._closed = False
        self.overflows = 0
        self.max_backlog = 0
        """Most frames ever waiting for the pipeline (1-2 when it keeps up with the 20 ms clock)."""

    def append(self, caller: bytes, ai: bytes) -> bool:
        """Called by the RTP send thread once per tick (must stay quick: no I/O)."""
        with self._cond:
            if len(self._pairs) == self._pairs.maxlen:
                self.overflows += 1
            self._pairs.append((caller, ai))
            self.max_backlog = max(self.max_backlog, len(self._pairs))
            self._cond.notify()
        if self.recorder is not None:
            return self.recorder.append(caller, ai)
        return True

    def read(self, timeout: float | None = None) -> tuple[bytes, bytes] | None:
        """The next (received, sent) pair, or None when none came within ``timeout`` or the tap is closed."""
        with self._cond:
            self._cond.wait_for(lambda: self._pairs or self._closed, timeout)
            return self._pairs.popleft() if self._pairs else None

    def close(self) -> None:
        """Wake the reader for good (the call ended)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


def tap_of(media: Any) -> MediaTap | None:
    """The tap an RTP session was built with (None for sessions built elsewhere)."""
    recorder = getattr(media, "recorder", None)
    return recorder if isinstance(recorder, MediaTap) else None


def media_factory(settings: MediaSettings | None = None, record_seconds: float = 3600.0,
                  record: bool = True) -> Callable[..., RtpSession]:
    """A ``SipAgent`` media factory whose sessions feed a ``MediaTap`` (and a stereo recorder when ``record``)."""

    def factory(local_host: str, local_port: int, remote: tuple[str, int], payload_type: int,
                dtmf_payload_type: int | None = 101, on_dtmf: Callable[[str], None] | None = None) -> RtpSession:
        recorder = CallRecorder(max_seconds=record_seconds) if record else None
        return RtpSession(local_host, local_port, remote, payload_type, dtmf_payload_type=dtmf_payload_type,
                          on_dtmf=on_dtmf, settings=settings, recorder=MediaTap(recorder))

    return factory
