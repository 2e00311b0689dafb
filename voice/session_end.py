"""How a call session ends: its reason, outcome and handler, the stereo recording, and the record's last line.

Runs on the session's pipeline thread after the call is over, so writing the WAV never happens on an RTP thread.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from voice.media_tap import tap_of

if TYPE_CHECKING:
    from voice.dialog import Reply
    from voice.session import CallSession

logger = logging.getLogger(__name__)

# SIP end reasons as the call record names them (ours, set by the session, win over these)
_SIP_REASONS = {"remote_bye": "remote_hangup", "local_hangup": "assistant_hangup", "shutdown": "shutdown"}


@dataclass
class SessionEnd:
    """What the session learned along the way that decides the record's ending."""

    reason: str | None = None
    transferred: bool = False
    voicemail: bool = False
    booked: bool = False
    answered_turns: int = 0
    recording: str | None = None

    def note_reply(self, reply: "Reply") -> None:
        """Count what the dialog did (answers, bookings) for the outcome."""
        if reply.appointment_id:
            self.booked = True
        if reply.action == "answer" and reply.knowledge_id:
            self.answered_turns += 1

    def outcome(self, turns: int) -> str:
        """The record's outcome: TRANSFER, VOICEMAIL, BOOKING, INFO, MISSED (caller never spoke) or OTHER."""
        if self.transferred:
            return "TRANSFER"
        if self.voicemail:
            return "VOICEMAIL"
        if self.booked:
            return "BOOKING"
        if self.answered_turns:
            return "INFO"
        return "MISSED" if turns == 0 else "OTHER"

    def ended_reason(self, session: "CallSession") -> str:
        """Our own reason if the session set one, else the SIP layer's."""
        if self.reason:
            return self.reason
        sip = session.call.ended_reason or "unknown"
        return _SIP_REASONS.get(sip, sip)

    def finish(self, session: "CallSession") -> None:
        """Stop the speaker, write the recording, close the record, tell the owner (never raises)."""
        from voice.session import State

        try:
            session.transition(State.ENDED)
            if session.call.is_active:
                session.call.hangup()
            session.speaker.stop()
            _close(session)
            self.recording = _write_recording(session)
            reason = self.ended_reason(session)
            turns = sum(1 for line in session.lines if line.startswith("CALLER:"))
            session.cdr.event("media", {"reason": reason, "durationSeconds": round(session.call.duration, 1),
                                        "turns": turns, **_media_stats(session)})
            session.cdr.finish(status="completed", ended_reason=reason,
                               handled_by="HYBRID" if self.transferred else "AI", outcome=self.outcome(turns),
                               recording_path=self.recording)
            logger.info("call %s finished: %s, %d turns", session.call.call_id[:12], reason, turns)
        except Exception:  # the record must be closed by someone; log loudly rather than kill the thread silently
            logger.exception("call %s: finishing the session failed", session.call.call_id[:12])
        finally:
            if session.on_finished is not None:
                session.on_finished(session)


def _close(session: "CallSession") -> None:
    if session._asr_thread.is_alive():  # a stream still being built must be given back too
        session._asr_thread.join(10)
    asr = session._asr
    if asr is not None:
        asr.close()


def _media_stats(session: "CallSession") -> dict:
    stats = getattr(session.call.media, "stats", None) or {}
    keys = ("packets_in", "packets_out", "lost", "late", "underruns", "barge_ins", "send_interval_dev_p99_ms")
    found = {k: stats.get(k) for k in keys if k in stats}
    tap = tap_of(session.call.media)
    if tap is not None:  # how far the pipeline fell behind the 20 ms clock
        found.update(pipelineBacklogMaxMs=tap.max_backlog * 20, pipelineOverflows=tap.overflows)
    return found


def _write_recording(session: "CallSession") -> str | None:
    """The stereo WAV (caller left, AI right) under recordings/<org>/<yyyy>/<mm>/; its path relative to there."""
    root = session.context.recordings_root
    tap = tap_of(session.call.media)
    recorder = tap.recorder if tap is not None else None
    if root is None or recorder is None or recorder.duration <= 0:
        return None
    now = dt.datetime.now(dt.timezone.utc)
    relative = Path(session.context.org_id) / f"{now:%Y}" / f"{now:%m}" / f"{session.context.record_id}.wav"
    try:
        recorder.write_wav(root / relative)
    except OSError as exc:
        logger.error("call %s: recording not written: %s", session.call.call_id[:12], exc)
        return None
    return relative.as_posix()
