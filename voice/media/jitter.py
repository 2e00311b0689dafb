"""Receive jitter buffer: reorders by RTP timestamp/sequence, drops duplicates and late packets, conceals loss.

One ``pop()`` per 20 ms tick always yields exactly one frame. The playout cursor runs in RTP timestamp units and
starts ``depth`` behind the first packet. With ``adaptive`` on, a late packet grows the depth by one frame (the
cursor holds for a tick), and slack that went unused for a whole window shrinks it by one frame (a frame is
skipped), which also absorbs clock drift between the far end and our tick. Not thread-safe: the owner locks.
"""
from __future__ import annotations

import collections
import logging
from dataclasses import dataclass

import numpy as np

from voice.media.rtp import Unwrapper

logger = logging.getLogger(__name__)

MAX_PACKETS = 512  # far more than max_depth_ms of any sane packetisation


@dataclass(frozen=True)
class JitterSettings:
    """How much the buffer delays audio and how it conceals loss."""

    depth_ms: int = 60
    """Playout delay at the start of a stream."""
    min_depth_ms: int = 40
    """The adaptive depth never goes below this."""
    max_depth_ms: int = 200
    """The adaptive depth never goes above this."""
    adaptive: bool = True
    """Grow on late packets, shrink when slack goes unused."""
    conceal_frames: int = 3
    """Lost frames replaced by the last good frame, attenuated, before the output turns to silence."""
    attenuation: float = 0.5
    """Gain applied per concealed frame (0.5, 0.25, ...)."""
    shrink_window: int = 50
    """Ticks of unused slack (at least one frame) before the depth shrinks by one frame."""
    resync_ms: int = 2000
    """A timestamp jump larger than this (either way) restarts the stream instead of counting packets late."""

    def __post_init__(self):
        if not 0 <= self.min_depth_ms <= self.depth_ms <= self.max_depth_ms:
            raise ValueError("jitter depths must satisfy 0 <= min_depth_ms <= depth_ms <= max_depth_ms")
        if self.conceal_frames < 0 or not 0 <= self.attenuation <= 1 or self.shrink_window < 1:
            raise ValueError("conceal_frames >= 0, attenuation in [0, 1] and shrink_window >= 1 required")
        if self.resync_ms <= self.max_depth_ms:
            raise ValueError("resync_ms must exceed max_depth_ms")


@dataclass
class JitterStats:
    """Counters since the buffer was created."""

    received: int = 0
    duplicates: int = 0
    late: int = 0
    reordered: int = 0
    lost: int = 0
    concealed: int = 0
    resyncs: int = 0
    grown: int = 0
    shrunk: int = 0
    played: int = 0
    overflows: int = 0


class JitterBuffer:
    """Reorders decoded packets (int16 sample arrays) and plays them out one frame per ``pop()``."""

    def __init__(self, settings: JitterSettings | None = None, *, rate: int = 8000, frame_samples: int = 160):
        self.settings = settings or JitterSettings()
        self.rate = rate
        self.frame = frame_samples
        self.stats = JitterStats()
        self._silence = np.zeros(frame_samples, dtype=np.int16)
        self._seq = Unwrapper(16)
        self._ts = Unwrapper(32)
        self._recent = collections.deque(maxlen=256)  # ext seqs played or buffered, for duplicate detection
        self._recent_set: set[int] = set()
        self._other = collections.deque(maxlen=256)  # ext seqs of other payloads (DTMF) in the same stream
        self._restart(None)

    @property
    def depth_ms(self) -> float:
        """The current target playout delay."""
        return self._depth * 1000.0 / self.rate

    @property
    def buffered_ms(self) -> float:
        """Audio received and not yet played (from the cursor to the newest packet's end)."""
        if self._cursor is None or not self._packets:
            return 0.0
        newest = max(ts + len(s) for ts, (_, s) in self._packets.items())
        return max(0, newest - self._cursor) * 1000.0 / self.rate

    def _restart(self, ssrc: int | None) -> None:
        """Forget the stream: the next packet anchors a new playout cursor."""
        self._packets: dict[int, tuple[int, np.ndarray]] = {}
        self._cursor: int | None = None
        self._ssrc = ssrc
        self._highest_seq: int | None = None
        self._last_played_seq: int | None = None
        self._last_frame = self._silence
        self._gap_run = self.settings.conceal_frames + 1  # idle: concealment exhausted
        self._depth = self._ms(self.settings.depth_ms)
        self._min_level: int | None = None
        self._window = 0
        self._hold = 0
        self._seq.reset()
        self._ts.reset()
        self._recent.clear()
        self._recent_set.clear()
        self._other.clear()

    def _ms(self, ms: float) -> int:
        return int(round(ms * self.rate / 1000.0))

    def push(self, sequence: int, timestamp: int, samples: np.ndarray, ssrc: int | None = None) -> str:
        """Add one decoded packet; returns "ok", "duplicate", "late", "resync" or "overflow"."""
        status = "ok"
        if self._ssrc is not None and ssrc is not None and ssrc != self._ssrc:
            self._resync(ssrc)
            status = "resync"
        self._ssrc = ssrc if ssrc is not None else self._ssrc
        ext_seq, ext_ts = self._seq.extend(sequence), self._ts.extend(timestamp)
        if ext_seq in self._recent_set:
            self.stats.duplicates += 1
            return "duplicate"
        if self._cursor is not None and abs(ext_ts - self._cursor) > self._ms(self.settings.resync_ms):
            self._resync(ssrc)
            ext_seq, ext_ts = self._seq.extend(sequence), self._ts.extend(timestamp)
            status = "resync"
        if self._cursor is None or self._idle():
            self._cursor = ext_ts - self._depth  # (re)anchor at the start of a stream or talkspurt
        elif ext_ts + len(samples) <= self._cursor:
            self.stats.late += 1
            self._grow()
            return "late"
        if len(self._packets) >= MAX_PACKETS:
            self.stats.overflows += 1  # a flood of future packets: keep memory bounded
            return "overflow"
        self._store(ext_seq, ext_ts, samples)
        return status

    def note_other(self, sequence: int) -> None:
        """Record a sequence number used by another payload of the stream (DTMF), so it is not counted lost."""
        self._other.append(self._seq.extend(sequence))

    def _store(self, ext_seq: int, ext_ts: int, samples: np.ndarray) -> None:
        self.stats.received += 1
        if self._highest_seq is not None and ext_seq < self._highest_seq:
            self.stats.reordered += 1
        self._highest_seq = ext_seq if self._highest_seq is None else max(self._highest_seq, ext_seq)
        self._packets[ext_ts] = (ext_seq, np.asarray(samples, dtype=np.int16))
        self._remember(ext_seq)

    def _remember(self, ext_seq: int) -> None:
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(ext_seq)
        self._recent_set.add(ext_seq)

    def _resync(self, ssrc: int | None) -> None:
        self.stats.resyncs += 1
        logger.debug("jitter buffer resync (ssrc %s)", ssrc)
        self._restart(ssrc)

    def _idle(self) -> bool:
        """No audio buffered and concealment over: a new packet may re-anchor the cursor without a glitch."""
        return not self._packets and self._gap_run > self.settings.conceal_frames

    def _grow(self) -> None:
        if self.settings.adaptive and self._depth + self.frame <= self._ms(self.settings.max_depth_ms):
            self._depth += self.frame
            self._hold += 1
            self.stats.grown += 1

    def pop(self) -> np.ndarray:
        """The next frame of audio (int16, ``frame_samples`` long): real, concealed or silence."""
        if self._cursor is None:
            return self._silence
        if self._hold:
            self._hold -= 1  # growing the delay: play the last frame again, keep the cursor
            return self._conceal()
        self._adapt()
        frame, covered = self._take(self._cursor, self._cursor + self.frame)
        self._cursor += self.frame
        if covered == 0:
            return self._conceal()
        self._gap_run = 0
        self._last_frame = frame
        self.stats.played += 1
        return frame

    def _take(self, start: int, end: int) -> tuple[np.ndarray, int]:
        """Copy buffered samples in [start, end) into a frame; returns it and how many samples were covered."""
        frame = np.zeros(self.frame, dtype=np.int16)
        covered = 0
        for ts in sorted(k for k in self._packets if k < end):
            seq, samples = self._packets[ts]
            lo, hi = max(ts, start), min(ts + len(samples), end)
            if hi > lo:
                frame[lo - start:hi - start] = samples[lo - ts:hi - ts]
                covered += hi - lo
            if ts + len(samples) <= end:
                del self._packets[ts]
                self._count_loss(seq)
        return frame, covered

    def _count_loss(self, seq: int) -> None:
        last = self._last_played_seq
        if last is not None and seq > last + 1:
            other = sum(1 for o in self._other if last < o < seq)
            self.stats.lost += seq - last - 1 - other
        if self._last_played_seq is None or seq > self._last_played_seq:
            self._last_played_seq = seq

    def _conceal(self) -> np.ndarray:
        self._gap_run += 1
        if self._gap_run > self.settings.conceal_frames:
            return self._silence
        self.stats.concealed += 1
        gain = self.settings.attenuation ** self._gap_run
        return (self._last_frame.astype(np.float32) * gain).astype(np.int16)

    def _adapt(self) -> None:
        """Shrink by one frame when at least a frame of slack stayed unused for a whole window."""
        if not self.settings.adaptive or not self._packets:
            return
        newest = max(ts + len(s) for ts, (_, s) in self._packets.items())
        level = newest - self._cursor
        self._min_level = level if self._min_level is None else min(self._min_level, level)
        self._window += 1
        if self._window < self.settings.shrink_window:
            return
        floor = self._ms(self.settings.min_depth_ms)
        # Without jitter the level seen at a tick lies between depth and depth + one frame, by arrival phase.
        if self._min_level >= self._depth + 2 * self.frame:
            self._skip()  # more buffered than the target all along (clock drift, a burst): drop a frame
        elif self._min_level >= 2 * self.frame and self._depth - self.frame >= floor:
            self._depth -= self.frame  # a whole frame of slack was never needed: lower the target
            self._skip()
        self._min_level, self._window = None, 0

    def _skip(self) -> None:
        self._take(self._cursor, self._cursor + self.frame)
        self._cursor += self.frame
        self.stats.shrunk += 1
