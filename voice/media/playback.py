"""The outgoing audio queue of one call: written by the speech pipeline, drained 20 ms at a time by the sender."""
from __future__ import annotations

import logging
import threading

logger = logging.getLogger(__name__)


class PlaybackQueue:
    """Thread-safe 16-bit PCM FIFO with barge-in (``clear``) and underrun accounting.

    ``write(..., more=True)`` promises that more audio of the same utterance follows; running dry while that
    promise stands is an underrun (the producer was too slow), and a partial frame is then held back rather
    than padded. Otherwise running dry is the normal end of an utterance and a partial last frame is padded.
    """

    def __init__(self, frame_bytes: int = 320, bytes_per_second: int = 16000, max_seconds: float = 600.0):
        self.frame_bytes = frame_bytes
        self.bytes_per_second = bytes_per_second
        self.max_bytes = int(max_seconds * bytes_per_second)
        self._buf = bytearray()
        self._more = False
        self._cond = threading.Condition()
        self.underruns = 0
        self.frames_taken = 0
        self.dropped_bytes = 0

    def write(self, pcm16: bytes | bytearray | memoryview, *, more: bool = False) -> None:
        """Queue 16-bit LE PCM; raises ValueError for an odd length or when the queue would exceed its bound."""
        if len(pcm16) % 2:
            raise ValueError("16-bit PCM must have an even number of bytes")
        with self._cond:
            if len(self._buf) + len(pcm16) > self.max_bytes:
                raise ValueError(f"playback queue is full ({self.max_bytes // self.bytes_per_second} s)")
            self._buf += pcm16
            self._more = more

    def take(self) -> bytes | None:
        """The next whole frame, a padded final frame, or None when there is nothing to send this tick."""
        with self._cond:
            n = self.frame_bytes
            if len(self._buf) >= n or (self._buf and not self._more):
                frame = bytes(self._buf[:n]).ljust(n, b"\x00")
                del self._buf[:n]
                self.frames_taken += 1
                if not self._buf:
                    self._cond.notify_all()
                return frame
            if self._more:
                self.underruns += 1
            return None

    def clear(self) -> float:
        """Drop everything not yet sent (barge-in); returns the seconds of audio dropped."""
        with self._cond:
            dropped = len(self._buf)
            self._buf.clear()
            self._more = False
            self.dropped_bytes += dropped
            self._cond.notify_all()
        return dropped / self.bytes_per_second

    def end(self) -> None:
        """Withdraw a pending ``more=True`` promise: the utterance is complete."""
        with self._cond:
            self._more = False

    def pending(self) -> float:
        """Seconds of audio queued and not yet sent."""
        with self._cond:
            return len(self._buf) / self.bytes_per_second

    def wait_empty(self, timeout: float | None = None) -> bool:
        """Block until the queue is drained (or cleared); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._buf, timeout)
