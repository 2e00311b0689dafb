"""Call control: routes requests to inbound/outbound/transfer handling and enforces call limits over time.

Also the ``CallControl`` behind ``Call.answer/reject/hangup/transfer``.
"""
from __future__ import annotations

import logging
import re
from typing import Callable

from voice.sip.call import Call, CallState, Direction, EndReason
from voice.sip.core import SipCore
from voice.sip.inbound import ALLOW_HEADERS, Inbound
from voice.sip.media import packets_received
from voice.sip.message import SipMessage
from voice.sip.outbound import Outbound
from voice.sip.settings import SipAccount
from voice.sip.transfer import Transfers

logger = logging.getLogger(__name__)

_DTMF_RELAY = re.compile(r"^\s*Signal\s*=\s*([0-9A-Da-d*#])", re.MULTILINE)
RX_CHECK_SECONDS = 0.5
_OPTIONS_HEADERS = ALLOW_HEADERS + (("Accept", "application/sdp"),)


class Control:
    """Dispatches SIP requests about calls and implements the public call operations."""

    def __init__(self, core: SipCore, on_incoming_call: Callable[[Call], None] | None,
                 account_for_user: Callable[[str], SipAccount | None]):
        self.core = core
        self.inbound = Inbound(core, on_incoming_call, account_for_user, self)
        self.outbound = Outbound(core, self)
        self.transfers = Transfers(core, self)

    # -- CallControl protocol ---------------------------------------------------------------------------------
    def answer(self, call: Call) -> bool:
        return self.inbound.answer(call)

    def reject(self, call: Call, code: int) -> None:
        self.inbound.reject(call, code)

    def transfer(self, call: Call, target: str, timeout: float | None) -> bool:
        return self.transfers.transfer(call, target, timeout)

    def hangup(self, call: Call, reason: str) -> None:
        """BYE an answered call, CANCEL one we are dialing, refuse one that is ringing here."""
        with call.lock:
            state = call.state
            if state is CallState.ENDED:
                return
            if state is CallState.ANSWERED:
                self.core.end_call(call, reason)
        if state is CallState.ANSWERED:
            call.leg.ok_data = None
            self.send_bye(call)
        elif call.direction is Direction.INBOUND:
            with call.lock:
                if call.state is CallState.RINGING:
                    self.inbound.final(call, 480, reason)
        else:
            self.outbound.cancel(call, reason)

    def send_bye(self, call: Call) -> None:
        """Send BYE in the call's dialog (fire and forget; the transaction layer retransmits)."""
        dialog = call.leg.dialog
        dest = dialog.destination()
        data, branch = dialog.request("BYE", self.core.sent_by(dest[0]), user_agent=self.core.settings.user_agent)
        self.core.transactions.start("BYE", data, dest, branch)

    # -- requests -------------------------------------------------------------------------------------------
    def on_request(self, msg: SipMessage) -> None:
        """Handle one request (retransmissions were already answered from the response cache)."""
        if msg.method == "ACK":
            self.inbound.on_ack(msg)
        elif msg.method == "CANCEL":
            self.inbound.on_cancel(msg)
        elif msg.headers["To"]["tag"]:
            self._in_dialog(msg)
        elif msg.method == "INVITE":
            self.inbound.on_invite(msg)
        elif not self.core.is_trusted(msg.source[0]):
            self.core.reply(msg, 403, "Forbidden")
        elif msg.method == "OPTIONS":
            self.core.reply(msg, 200, "OK", headers=_OPTIONS_HEADERS)
        elif msg.method == "NOTIFY":
            self.core.reply(msg, 200, "OK")  # unsolicited NOTIFY (e.g. message-summary): accept, ignore
        else:
            self.core.reply(msg, 405, "Method Not Allowed", headers=ALLOW_HEADERS)

    def _in_dialog(self, msg: SipMessage) -> None:
        call = self.core.get_call(msg.call_id)
        if call is None or call.leg.dialog is None or not call.leg.dialog.matches(msg):
            self.core.reply(msg, 481, "Call/Transaction Does Not Exist")
            return
        tag = call.leg.dialog.local_tag
        if msg.method == "BYE":
            self._on_bye(call, msg)
        elif msg.method in ("INVITE", "UPDATE"):
            self.inbound.on_reinvite(call, msg)
        elif msg.method == "NOTIFY":
            self.transfers.on_notify(call, msg)
        elif msg.method == "INFO":
            self._on_info(call, msg)
        elif msg.method == "OPTIONS":
            self.core.reply(msg, 200, "OK", to_tag=tag, headers=_OPTIONS_HEADERS)
        elif msg.method == "REFER":
            self.core.reply(msg, 403, "Transfer of this agent is not supported", to_tag=tag)
        else:
            self.core.reply(msg, 405, "Method Not Allowed", to_tag=tag, headers=ALLOW_HEADERS)

    def _on_bye(self, call: Call, msg: SipMessage) -> None:
        self.core.reply(msg, 200, "OK", to_tag=call.leg.dialog.local_tag)
        call.leg.ok_data = None
        reason = EndReason.TRANSFERRED if self.transfers.on_bye_during_transfer(call) else EndReason.REMOTE_BYE
        self.core.end_call(call, reason)

    def _on_info(self, call: Call, msg: SipMessage) -> None:
        """SIP INFO DTMF (application/dtmf-relay or application/dtmf), for PBXs that do not send RFC 2833."""
        self.core.reply(msg, 200, "OK", to_tag=call.leg.dialog.local_tag)
        kind = (msg.header("Content-Type") or "").split(";")[0].strip().lower()
        text = msg.body_raw.decode("utf-8", "replace")
        match = _DTMF_RELAY.search(text) if kind == "application/dtmf-relay" else None
        digit = match.group(1) if match else (text.strip()[:1] if kind == "application/dtmf" else "")
        if digit:
            call.deliver_dtmf(digit.upper())

    def on_response(self, msg: SipMessage) -> None:
        """Responses that matched no live transaction (retransmitted 2xx)."""
        self.outbound.on_stray_response(msg)

    # -- time ----------------------------------------------------------------------------------------------------
    def tick(self, now: float) -> None:
        """Retransmissions, ring timeouts, maximum duration and dead-media detection."""
        settings = self.core.settings
        for call in self.core.active_calls():
            if call.direction is Direction.INBOUND:
                self.inbound.tick(call, now)
            else:
                self.outbound.tick(call, now)
            if call.state is not CallState.ANSWERED:
                continue
            if settings.max_call_seconds and call.duration > settings.max_call_seconds:
                self.hangup(call, EndReason.MAX_DURATION)
            elif settings.rtp_timeout_seconds and call.media is not None and now >= call.leg.rx_check_at:
                self._check_media(call, now)

    def _check_media(self, call: Call, now: float) -> None:
        """End a call whose media has received nothing for ``rtp_timeout_seconds`` (the peer vanished)."""
        leg = call.leg
        leg.rx_check_at = now + RX_CHECK_SECONDS
        count = packets_received(call.media)
        if count is None:
            return
        if count != leg.rx_packets or not leg.rx_changed_at:
            leg.rx_packets, leg.rx_changed_at = count, now
        elif now - leg.rx_changed_at > self.core.settings.rtp_timeout_seconds:
            logger.info("call %s: no RTP for %.1f s", call.call_id[:12], now - leg.rx_changed_at)
            self.hangup(call, EndReason.RTP_TIMEOUT)

    def hangup_all(self, reason: str = EndReason.SHUTDOWN) -> None:
        """End every live call (agent stopping)."""
        for call in self.core.active_calls():
            self.hangup(call, reason)

