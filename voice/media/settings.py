"""Settings of the media layer: one frozen dataclass, built once from the voice configuration and passed down."""
from __future__ import annotations

from dataclasses import dataclass, field

from voice.media.jitter import JitterSettings
from voice.media.pacer import PRIORITIES

IDLE_MODES = ("silence", "none")


@dataclass(frozen=True)
class MediaSettings:
    """How an RtpSession buffers, paces and signals."""

    jitter: JitterSettings = field(default_factory=JitterSettings)
    """Receive jitter buffer depth and concealment."""
    idle: str = "silence"
    """What the sender does when nothing is queued: "silence" (comfort silence packets) or "none" (send nothing)."""
    sender_priority: str = "realtime"
    """Send thread priority, best effort: "realtime" (SCHED_RR, else nice), "nice" or "normal"."""
    pacer_spin_ms: float = 0.2
    """At normal priority, the last stretch before each send is spun rather than slept (a real-time thread
    wakes precisely and does not spin)."""
    read_queue_frames: int = 500
    """Received frames kept for a slow reader before the oldest are dropped (500 = 10 s)."""
    max_playback_seconds: float = 600.0
    """Upper bound of audio queued for sending."""
    dtmf_duration_ms: int = 100
    """Length of each sent DTMF digit."""
    dtmf_volume: int = 10
    """Volume of sent DTMF digits in -dBm0 (RFC 4733)."""
    dscp: int = 46
    """DSCP of outgoing RTP (46 = EF, expedited forwarding); 0 leaves the system default."""

    def __post_init__(self):
        if self.sender_priority not in PRIORITIES:
            raise ValueError(f"sender_priority must be one of {PRIORITIES}, not {self.sender_priority!r}")
        if self.idle not in IDLE_MODES:
            raise ValueError(f"idle must be one of {IDLE_MODES}, not {self.idle!r}")
        if self.read_queue_frames < 1 or self.max_playback_seconds <= 0 or self.dtmf_duration_ms < 20:
            raise ValueError("read_queue_frames >= 1, max_playback_seconds > 0 and dtmf_duration_ms >= 20 required")
        if not 0 <= self.dtmf_volume <= 63 or not 0 <= self.dscp <= 63 or self.pacer_spin_ms < 0:
            raise ValueError("dtmf_volume and dscp must be 0..63, pacer_spin_ms >= 0")
