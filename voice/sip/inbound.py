"""Calls that come to us: INVITE screening (trust, limit, codec), answer, ACK, CANCEL, re-INVITE/UPDATE.

Replaces ``VoIPPhone._callback_MSG_Invite``, which answered every INVITE (no limit, no allowlist), created
pyVoIP RTP clients for every offered codec (8-bit audio) and sent its responses to the registrar's address
rather than to where the INVITE came from.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from typing import Callable

from voice.sip import builder, sdp
from voice.sip.call import Call, CallState, Direction, EndReason
from voice.sip.core import SipCore
from voice.sip.dialog import Dialog
from voice.sip.media import open_session, session_port
from voice.sip.message import SipMessage, SipParseError, parse_name_addr
from voice.sip.settings import SipAccount

logger = logging.getLogger(__name__)

T2 = 4.0
ALLOW_HEADERS = (("Allow", builder.ALLOW), ("Supported", builder.SUPPORTED))


class Inbound:
    """Handles INVITEs addressed to us and answers the resulting calls."""

    def __init__(self, core: SipCore, on_incoming_call: Callable[[Call], None] | None,
                 account_for_user: Callable[[str], SipAccount | None], control):
        self.core = core
        self.on_incoming_call = on_incoming_call
        self.account_for_user = account_for_user
        self.control = control

    # -- new INVITE -----------------------------------------------------------------------------------------
    def on_invite(self, msg: SipMessage) -> None:
        """Screen a new INVITE and, if acceptable, ring the application."""
        core = self.core
        if core.get_call(msg.call_id) is not None:
            core.reply(msg, 482, "Loop Detected")  # same Call-ID, new branch: a fork or a loop
            return
        if not core.is_trusted(msg.source[0]):
            logger.warning("INVITE from untrusted %s refused", msg.source[0])
            core.reply(msg, 403, "Forbidden")
            return
        if len(core.active_calls()) >= core.settings.max_calls:
            core.reply(msg, 486, "Busy Here")
            return
        required = [t.strip() for v in msg.header_values("Require") for t in v.split(",") if t.strip()]
        if required:  # e.g. 100rel (PRACK) or timer: extensions we do not implement
            core.reply(msg, 420, "Bad Extension", headers=(("Unsupported", ", ".join(required)),))
            return
        negotiated = self._negotiate(msg)
        if negotiated is None:
            return
        self._ring(msg, negotiated)

    def _negotiate(self, msg: SipMessage) -> sdp.Negotiated | None:
        warning = (("Warning", '305 - "Incompatible media format"'),)
        if not msg.body_raw:
            self.core.reply(msg, 488, "Not Acceptable Here (offer required)", headers=warning)
            return None
        try:
            offer = sdp.parse_offer(msg)
        except sdp.SdpError as exc:
            self.core.reply(msg, 488, f"Not Acceptable Here ({exc})", headers=warning)
            return None
        negotiated = sdp.negotiate(offer, self.core.settings.codecs)
        if negotiated is None:
            self.core.reply(msg, 488, "Not Acceptable Here", headers=warning)
        return negotiated

    def _ring(self, msg: SipMessage, negotiated: sdp.Negotiated) -> None:
        core = self.core
        user = _request_user(msg)
        account = self.account_for_user(user)
        dialed = account.number if account else (user or msg.headers["To"]["number"] or "")
        call = Call(self.control, msg.call_id, Direction.INBOUND, msg.headers["From"]["number"] or "",
                    dialed, CallState.RINGING)
        tag = builder.new_tag()
        contact = core.contact(account.username if account else user, msg.source[0])
        call.leg.dialog = Dialog.from_invite(msg, tag, contact)
        call.leg.invite, call.leg.negotiated, call.leg.account = msg, negotiated, account
        call.leg.session_id = random.randint(10**6, 10**9)
        call.leg.ring_deadline = time.monotonic() + core.settings.ring_timeout_seconds
        core.add_call(call)
        core.reply(msg, 100, "Trying")
        core.reply(msg, 180, "Ringing", to_tag=tag, headers=(("Contact", contact),))
        logger.info("incoming call %s to %s", call.call_id[:12], _mask(dialed))
        if self.on_incoming_call is None:
            self.reject(call, 480)
            return
        threading.Thread(target=self._notify_app, args=(call,), name=f"sip-incoming:{call.call_id[:8]}",
                         daemon=True).start()

    def _notify_app(self, call: Call) -> None:
        try:
            self.on_incoming_call(call)
        except Exception:  # the application failed to take the call: refuse it cleanly
            logger.exception("on_incoming_call failed for %s", call.call_id[:12])
            if call.state is CallState.RINGING:
                self.reject(call, 500)

    # -- answering ------------------------------------------------------------------------------------------
    def answer(self, call: Call) -> bool:
        """200 OK with our SDP on a fresh RTP session; False if the call is no longer ringing."""
        leg, core = call.leg, self.core
        with call.lock:
            if call.direction is not Direction.INBOUND or call.state is not CallState.RINGING:
                return False
            try:
                call.media, leg.media_port = open_session(
                    core.media_factory, core.pool, leg.negotiated.remote, leg.negotiated.payload_type,
                    leg.negotiated.dtmf_payload_type, call.deliver_dtmf)
            except OSError as exc:
                logger.error("call %s: cannot open media: %s", call.call_id[:12], exc)
                self.final(call, 500, EndReason.MEDIA_ERROR)
                return False
            leg.local_sdp = self._answer_sdp(call)
            self._send_ok(call, leg.invite, leg.local_sdp)
            return call.mark_answered()

    def _answer_sdp(self, call: Call) -> bytes:
        leg = call.leg
        host = self.core.endpoint.advertised_host(leg.invite.source[0])
        fmt = [(leg.negotiated.payload_type, leg.negotiated.codec)]
        port = session_port(call.media, leg.media_port)
        return sdp.build_sdp(host, port, fmt, leg.negotiated.dtmf_payload_type, leg.session_id, leg.sdp_version,
                             name=self.core.settings.user_agent)

    def _send_ok(self, call: Call, req: SipMessage, body: bytes) -> None:
        """Send 200 OK to an INVITE and retransmit it (Timer G) until the ACK arrives."""
        leg = call.leg
        headers = (("Contact", leg.dialog.contact),) + ALLOW_HEADERS
        leg.ok_data = self.core.reply(req, 200, "OK", to_tag=leg.dialog.local_tag, headers=headers, body=body,
                                      content_type="application/sdp")
        leg.ok_dest = req.source
        t1 = self.core.settings.t1_seconds
        leg.ok_interval, leg.ok_next = t1, time.monotonic() + t1
        leg.ok_deadline = time.monotonic() + 64 * t1

    def reject(self, call: Call, code: int) -> None:
        """Final error response to a ringing inbound call."""
        with call.lock:
            if call.direction is Direction.INBOUND and call.state is CallState.RINGING:
                self.final(call, code, EndReason.REJECTED)

    def final(self, call: Call, code: int, reason: str) -> None:
        """Final error response to the INVITE of a ringing inbound call, and end it."""
        self.core.reply(call.leg.invite, code, to_tag=call.leg.dialog.local_tag)
        self.core.end_call(call, reason, code)

    # -- in-dialog -------------------------------------------------------------------------------------------
    def on_ack(self, msg: SipMessage) -> None:
        """The ACK to our 200 OK stops its retransmission."""
        call = self.core.get_call(msg.call_id)
        if call is not None and call.leg.dialog is not None and call.leg.dialog.matches(msg):
            call.leg.ok_data = None

    def on_cancel(self, msg: SipMessage) -> None:
        """CANCEL before answer: 200 to the CANCEL, 487 to the INVITE."""
        call = self.core.get_call(msg.call_id)
        if call is None or call.direction is not Direction.INBOUND or call.leg.invite.branch != msg.branch:
            self.core.reply(msg, 481, "Call/Transaction Does Not Exist")
            return
        self.core.reply(msg, 200, "OK", to_tag=call.leg.dialog.local_tag)
        with call.lock:
            if call.state is CallState.RINGING:
                self.final(call, 487, EndReason.CANCELLED)

    def on_reinvite(self, call: Call, msg: SipMessage) -> None:
        """Session refresh, hold or re-INVITE/UPDATE: accept with our unchanged SDP (and follow a moved peer)."""
        leg = call.leg
        if leg.dialog.remote_seq is not None and msg.cseq[0] <= leg.dialog.remote_seq:
            self.core.reply(msg, 500, "Out of order", to_tag=leg.dialog.local_tag)
            return
        leg.dialog.remote_seq = msg.cseq[0]
        self._follow_remote(call, msg)
        if msg.method == "INVITE" and call.state is CallState.ANSWERED:
            self._send_ok(call, msg, leg.local_sdp)
        else:
            headers = (("Contact", leg.dialog.contact),) + ALLOW_HEADERS
            body = leg.local_sdp if msg.body_raw and leg.local_sdp else b""
            self.core.reply(msg, 200, "OK", to_tag=leg.dialog.local_tag, headers=headers, body=body,
                            content_type="application/sdp" if body else None)

    def _follow_remote(self, call: Call, msg: SipMessage) -> None:
        if not msg.body_raw or call.media is None:
            return
        try:
            offer = sdp.parse_offer(msg)
        except sdp.SdpError:
            return
        set_remote = getattr(call.media, "set_remote", None)
        if offer.port and callable(set_remote) and (offer.host, offer.port) != call.leg.negotiated.remote:
            set_remote((offer.host, offer.port))

    def tick(self, call: Call, now: float) -> None:
        """Retransmit an unacknowledged 200 OK; give up (BYE) after 64*T1; time out unanswered ringing."""
        leg = call.leg
        if leg.ok_data is not None and now >= leg.ok_next:
            if now >= leg.ok_deadline:
                leg.ok_data = None
                logger.warning("call %s: no ACK for our 200 OK", call.call_id[:12])
                self.control.hangup(call, EndReason.NO_ACK)
                return
            self.core.send(leg.ok_data, leg.ok_dest)
            leg.ok_interval = min(leg.ok_interval * 2, T2)
            leg.ok_next = now + leg.ok_interval
        if call.state is CallState.RINGING and now >= leg.ring_deadline:
            with call.lock:
                if call.state is CallState.RINGING:
                    self.final(call, 480, EndReason.NO_ANSWER)


def _request_user(msg: SipMessage) -> str:
    try:
        return parse_name_addr(f"<{msg.uri}>")["number"] or ""
    except SipParseError:
        return ""


def _mask(number: str) -> str:
    """Log only the tail of phone numbers (STYLE: no full numbers at INFO)."""
    return ("*" * max(0, len(number) - 4)) + number[-4:]
