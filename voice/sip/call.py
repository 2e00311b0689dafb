"""One SIP call as the rest of the voice agent sees it: a state machine with media attached.

``Call`` is the public face; the SIP work behind ``answer``/``hangup``/``transfer`` is done by the agent's
call control (``voice.sip.control``), which keeps the dialog and transaction details in ``Call.leg``.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Protocol

if TYPE_CHECKING:
    from voice.sip.dialog import Dialog
    from voice.sip.message import SipMessage
    from voice.sip.sdp import Negotiated
    from voice.sip.settings import SipAccount
    from voice.sip.transaction import ClientTransaction

logger = logging.getLogger(__name__)


class CallState(Enum):
    DIALING = "dialing"
    """Outbound: INVITE sent, nothing heard back yet (or only 100 Trying)."""
    RINGING = "ringing"
    """Inbound: waiting for ``answer()``; outbound: the far end is alerting (180/183)."""
    ANSWERED = "answered"
    ENDED = "ended"


class Direction(Enum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class EndReason:
    """The reasons a call ends with (``Call.ended_reason``)."""

    LOCAL_HANGUP = "local_hangup"
    REMOTE_BYE = "remote_bye"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    TIMEOUT = "timeout"
    NO_ACK = "no_ack"
    MAX_DURATION = "max_duration"
    RTP_TIMEOUT = "rtp_timeout"
    TRANSFERRED = "transferred"
    SHUTDOWN = "shutdown"
    AUTH_FAILED = "auth_failed"
    CODEC_MISMATCH = "codec_mismatch"
    MEDIA_ERROR = "media_error"


class CallControl(Protocol):
    def answer(self, call: "Call") -> bool: ...
    def reject(self, call: "Call", code: int) -> None: ...
    def hangup(self, call: "Call", reason: str) -> None: ...
    def transfer(self, call: "Call", target: str, timeout: float | None) -> bool: ...


@dataclass
class Leg:
    """SIP-side state of a call (owned by the call control, not part of the public API)."""

    dialog: "Dialog | None" = None
    invite: "SipMessage | None" = None
    """The INVITE that created the call (received, or the last one we sent)."""
    invite_tx: "ClientTransaction | None" = None
    negotiated: "Negotiated | None" = None
    account: "SipAccount | None" = None
    local_sdp: bytes = b""
    sdp_version: int = 1
    session_id: int = 0
    media_port: int = 0
    ok_data: bytes | None = None
    """Our 200 OK to an INVITE, retransmitted until the ACK arrives."""
    ok_dest: tuple[str, int] | None = None
    ack_data: bytes | None = None
    """Our ACK to the 2xx of an outbound call, re-sent if that 2xx is retransmitted."""
    cancel_pending: bool = False
    rx_packets: int = -1
    rx_changed_at: float = 0.0
    rx_check_at: float = 0.0
    ok_next: float = 0.0
    ok_interval: float = 0.0
    ok_deadline: float = 0.0
    ring_deadline: float = 0.0
    refer: Any = None
    """The transfer in progress (``voice.sip.transfer.Transfer``)."""
    auth_attempts: int = 0


class Call:
    """A live or finished call. Thread-safe; callbacks run on their own short-lived threads."""

    def __init__(self, control: CallControl, call_id: str, direction: Direction, remote_number: str,
                 dialed_number: str, state: CallState):
        self._control = control
        self.lock = threading.RLock()
        """Held by the call control around state transitions."""
        self._answered = threading.Event()
        self._ended = threading.Event()
        self.call_id = call_id
        self.direction = direction
        self.remote_number = remote_number
        self.dialed_number = dialed_number
        self.state = state
        self.media: Any = None
        """The call's ``RtpSession`` once answered (16-bit PCM in and out)."""
        self.ended_reason: str | None = None
        self.status_code: int | None = None
        """Final SIP status of a failed outbound call (486, 603, ...)."""
        self.created_at = time.time()
        self.answered_at: float | None = None
        self.ended_at: float | None = None
        self.answered_monotonic: float | None = None
        self.ended_monotonic: float | None = None
        self.on_ended: Callable[["Call"], None] | None = None
        self.on_answered: Callable[["Call"], None] | None = None
        self.on_dtmf: Callable[[str], None] | None = None
        self.on_transfer_failed: Callable[[str], None] | None = None
        """Called with the error when a transfer is refused or fails (the call stays up: offer a fallback)."""
        self.last_transfer_error: str | None = None
        self.leg = Leg()

    def __repr__(self) -> str:
        return f"<Call {self.call_id[:12]} {self.direction.value} {self.state.value}>"

    # -- public API ---------------------------------------------------------------------------------------
    def answer(self) -> bool:
        """Answer a ringing inbound call (200 OK with our SDP); False if it is no longer ringing."""
        return self._control.answer(self)

    def reject(self, code: int = 486) -> None:
        """Refuse a ringing inbound call with a final status (486 Busy, 603 Decline, 404 ...)."""
        self._control.reject(self, code)

    def hangup(self, reason: str = EndReason.LOCAL_HANGUP) -> None:
        """End the call: BYE when answered, CANCEL when dialing, a final error when ringing."""
        self._control.hangup(self, reason)

    def transfer(self, target: str, timeout: float | None = None) -> bool:
        """Blind transfer by REFER; True once the target answered (the call then ends as ``transferred``).

        False when the PBX refused or the transfer failed; the call stays up and ``last_transfer_error`` says
        why, so the caller can fall back (e.g. offer a callback)."""
        return self._control.transfer(self, target, timeout)

    def wait_answered(self, timeout: float) -> bool:
        """Block until answered (True) or ended/timeout (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._ended.is_set():
            if self._answered.wait(min(0.1, max(0.0, deadline - time.monotonic()))):
                return True
        return self._answered.is_set()

    def wait_ended(self, timeout: float) -> bool:
        """Block until the call has ended; True if it did within ``timeout``."""
        return self._ended.wait(timeout)

    @property
    def is_active(self) -> bool:
        return self.state is not CallState.ENDED

    @property
    def duration(self) -> float:
        """Seconds since answer (0 when never answered)."""
        if self.answered_monotonic is None:
            return 0.0
        return (self.ended_monotonic if self._ended.is_set() else time.monotonic()) - self.answered_monotonic

    # -- transitions (used by the call control) ---------------------------------------------------------
    def mark_ringing(self) -> None:
        with self.lock:
            if self.state is CallState.DIALING:
                self.state = CallState.RINGING

    def mark_answered(self) -> bool:
        """Enter ANSWERED; False if the call already ended or was answered."""
        with self.lock:
            if self.state in (CallState.ANSWERED, CallState.ENDED):
                return False
            self.state = CallState.ANSWERED
            self.answered_at, self.answered_monotonic = time.time(), time.monotonic()
        self._answered.set()
        self._fire(self.on_answered)
        return True

    def mark_ended(self, reason: str, status_code: int | None = None) -> bool:
        """Enter ENDED once (stops media, fires ``on_ended``); False if it had already ended."""
        with self.lock:
            if self.state is CallState.ENDED:
                return False
            self.state = CallState.ENDED
            self.ended_reason, self.status_code = reason, status_code or self.status_code
            self.ended_at, self.ended_monotonic = time.time(), time.monotonic()
        self._stop_media()
        self._ended.set()
        logger.info("call %s ended: %s", self.call_id[:12], reason)
        self._fire(self.on_ended)
        return True

    def deliver_dtmf(self, digit: str) -> None:
        """Called by the media session for each RFC 2833 (or SIP INFO) digit."""
        if self.on_dtmf:
            self._fire(self.on_dtmf, digit)

    def _stop_media(self) -> None:
        media = self.media
        if media is not None:
            try:
                media.stop()
            except Exception:  # media teardown must not prevent the call from ending
                logger.exception("stopping media of call %s failed", self.call_id[:12])

    def _fire(self, callback: Callable | None, arg: Any = None) -> None:
        if callback is None:
            return
        value = self if arg is None else arg
        threading.Thread(target=_run_callback, args=(callback, value), name=f"call-cb:{self.call_id[:8]}",
                         daemon=True).start()


def _run_callback(callback: Callable, value: Any) -> None:
    try:
        callback(value)
    except Exception:  # an application bug in a callback must not take the SIP agent down
        logger.exception("call callback %r failed", callback)
