"""Calls we place: INVITE with digest auth (401 and 407), provisional responses, a correct ACK, CANCEL.

Stock ``SIPClient.invite`` blocks the receive socket, treats anything but 401/100/180 as a reason to keep reading,
cannot answer 407, and returns on 100/180 leaving the rest to ``_callback_RESP_OK``, whose ACK invents a new
To-tag (the PBX then drops the call at ~30 s). Here every response is routed to its transaction and the ACK for
a 2xx is built from the confirmed dialog.
"""
from __future__ import annotations

import logging
import random
import time

from appliance.errors import CallboxError
from voice.sip import builder, digest, sdp
from voice.sip.call import Call, CallState, Direction, EndReason
from voice.sip.core import SipCore
from voice.sip.dialog import Dialog
from voice.sip.media import open_session
from voice.sip.message import SipMessage, SipParseError, parse_name_addr, uri_host_port
from voice.sip.settings import SipAccount
from voice.sip.transaction import ClientTransaction

logger = logging.getLogger(__name__)

MAX_AUTH_ATTEMPTS = 2
_FAILURE_REASONS = {486: EndReason.BUSY, 600: EndReason.BUSY, 487: EndReason.CANCELLED, 408: EndReason.NO_ANSWER,
                    480: EndReason.NO_ANSWER, 488: EndReason.CODEC_MISMATCH, 606: EndReason.CODEC_MISMATCH,
                    603: EndReason.REJECTED, 403: EndReason.REJECTED}


class SipCallError(CallboxError):
    """The call could not be placed."""

    code, status = "SIP_CALL_FAILED", 502


class CallLimitReached(SipCallError):
    """Too many concurrent calls."""

    code, status = "CALL_LIMIT_REACHED", 503


class Outbound:
    """Places calls and follows their INVITE transaction to the end."""

    def __init__(self, core: SipCore, control):
        self.core = core
        self.control = control

    def place_call(self, to: str, account: SipAccount | None = None, caller_id: str = "") -> Call:
        """Send an INVITE; the returned call moves DIALING → RINGING → ANSWERED (or ENDED with a reason)."""
        if len(self.core.active_calls()) >= self.core.settings.max_calls:
            raise CallLimitReached(f"{self.core.settings.max_calls} calls already up")
        uri, dest = self._target(to, account)
        try:
            dest = self.core.resolve(*dest)
        except OSError as exc:
            raise SipCallError(f"cannot resolve {dest[0]}: {exc}") from exc
        try:
            port = self.core.pool.reserve()
        except OSError as exc:
            raise SipCallError(str(exc)) from exc
        call = self._new_call(uri, dest, account, caller_id, port)
        self.core.add_call(call)
        self._send_invite(call, dest)
        return call

    def _target(self, to: str, account: SipAccount | None) -> tuple[str, tuple[str, int]]:
        to = to.strip()
        if to.lower().startswith(("sip:", "<sip:")):
            uri = to.strip("<>")
            host_port = uri_host_port(uri)
            return uri, (account.server, account.port) if account else host_port
        if not to or any(ch in to for ch in " <>@;\"\r\n"):
            raise SipCallError(f"not a phone number or SIP URI: {to!r}")
        if account:
            return f"sip:{to}@{account.sip_domain}", (account.server, account.port)
        if not self.core.settings.default_outbound:
            raise SipCallError("no account given and no default_outbound trunk configured")
        host, _, port = self.core.settings.default_outbound.partition(":")
        return f"sip:{to}@{self.core.settings.default_outbound}", (host, int(port or 5060))

    def _new_call(self, uri: str, dest: tuple[str, int], account: SipAccount | None, caller_id: str,
                  port: int) -> Call:
        core = self.core
        user = account.username if account else (caller_id or "callbox")
        domain = account.sip_domain if account else core.endpoint.advertised_host(dest[0])
        display = f'"{account.display_name}" ' if account and account.display_name else ""
        remote = parse_name_addr(f"<{uri}>")
        call = Call(self.control, builder.new_call_id(core.endpoint.advertised_host(dest[0])), Direction.OUTBOUND,
                    remote["number"] or remote["host"], remote["number"] or "", CallState.DIALING)
        leg = call.leg
        leg.dialog = Dialog(call.call_id, builder.new_tag(), "", f"{display}<sip:{user}@{domain}>", f"<{uri}>", uri,
                            core.contact(user, dest[0]), peer=dest)
        leg.account, leg.media_port, leg.session_id = account, port, random.randint(10**6, 10**9)
        host = core.endpoint.advertised_host(dest[0])
        leg.local_sdp = sdp.build_sdp(host, port, sdp.offer_formats(core.settings.codecs),
                                      core.settings.dtmf_payload_type, leg.session_id, name=core.settings.user_agent)
        leg.ring_deadline = time.monotonic() + core.settings.ring_timeout_seconds
        return call

    def _send_invite(self, call: Call, dest: tuple[str, int], auth: tuple[str, str] | None = None) -> None:
        leg = call.leg
        headers = [("Allow", builder.ALLOW), ("Supported", builder.SUPPORTED)]
        if auth:
            headers.append(auth)
        data, branch = leg.dialog.request("INVITE", self.core.sent_by(dest[0]), headers=headers, body=leg.local_sdp,
                                          content_type="application/sdp", user_agent=self.core.settings.user_agent)
        leg.invite = SipMessage(data)
        leg.invite_tx = self.core.transactions.start("INVITE", data, dest, branch,
                                                     on_response=self._on_response, on_timeout=self._on_timeout)

    # -- responses ------------------------------------------------------------------------------------------
    def _on_response(self, tx: ClientTransaction, resp: SipMessage) -> None:
        call = self.core.get_call(resp.call_id)
        if call is None:
            return
        code = resp.status_code
        if code < 200:
            if code > 100 and resp.headers["To"]["tag"]:
                call.leg.dialog.confirm(resp)  # early dialog: remember the callee's tag and target
            if code > 100:
                call.mark_ringing()
            if call.leg.cancel_pending:
                self._send_cancel(call)
        elif code < 300:
            self._on_success(call, tx, resp)
        elif code in (401, 407) and call.state is not CallState.ENDED:
            self._ack_failure(tx, resp)
            self._retry_with_auth(call, tx, resp)
        else:
            self._ack_failure(tx, resp)
            reason = _FAILURE_REASONS.get(code, EndReason.FAILED)
            self.core.end_call(call, reason, code)

    def _on_success(self, call: Call, tx: ClientTransaction, resp: SipMessage) -> None:
        leg = call.leg
        leg.dialog.confirm(resp)
        ack, _ = leg.dialog.request("ACK", self.core.sent_by(tx.dest[0]), seq=leg.invite.cseq[0],
                                    user_agent=self.core.settings.user_agent)
        leg.ok_data = None
        leg.ack_data = ack
        self.core.send(ack, leg.dialog.destination())
        if call.state is CallState.ENDED:  # cancelled or hung up while the 200 was on its way
            self.control.send_bye(call)
            return
        try:
            negotiated = sdp.negotiate(sdp.parse_offer(resp), self.core.settings.codecs)
        except (sdp.SdpError, SipParseError):
            negotiated = None
        if negotiated is None:
            self._abandon(call, EndReason.CODEC_MISMATCH)
            return
        self._start_media(call, negotiated)

    def _abandon(self, call: Call, reason: str) -> None:
        """End a call whose 2xx we already ACKed (the dialog exists, so BYE it)."""
        self.core.end_call(call, reason)
        self.control.send_bye(call)

    def _start_media(self, call: Call, negotiated: sdp.Negotiated) -> None:
        leg = call.leg
        leg.negotiated = negotiated
        host = self.core.endpoint.advertised_host(leg.dialog.peer[0])
        leg.sdp_version += 1  # what a later re-INVITE is answered with: only the codec in use
        leg.local_sdp = sdp.build_sdp(host, leg.media_port, [(negotiated.payload_type, negotiated.codec)],
                                      negotiated.dtmf_payload_type, leg.session_id, leg.sdp_version,
                                      name=self.core.settings.user_agent)
        try:
            call.media, _ = open_session(self.core.media_factory, self.core.pool, negotiated.remote,
                                         negotiated.payload_type, negotiated.dtmf_payload_type, call.deliver_dtmf,
                                         port=leg.media_port)
        except OSError as exc:
            logger.error("call %s: cannot open media: %s", call.call_id[:12], exc)
            self._abandon(call, EndReason.MEDIA_ERROR)
            return
        if not call.mark_answered():  # hung up while the media was opening
            self._abandon(call, call.ended_reason or EndReason.LOCAL_HANGUP)

    def _ack_failure(self, tx: ClientTransaction, resp: SipMessage) -> None:
        """ACK for a non-2xx final response: same branch and Request-URI as the INVITE, To from the response."""
        inv = SipMessage(tx.data)  # the INVITE of this transaction (a retry with credentials is a new one)
        ack = builder.build_request("ACK", inv.uri, via=self.core.sent_by(tx.dest[0]), branch=tx.branch,
                                    from_=inv.header("From"), to=resp.header("To"), call_id=resp.call_id,
                                    cseq=inv.cseq[0], routes=inv.header_values("Route"),
                                    user_agent=self.core.settings.user_agent)
        tx.ack_data = ack
        self.core.send(ack, tx.dest)

    def _retry_with_auth(self, call: Call, tx: ClientTransaction, resp: SipMessage) -> None:
        leg = call.leg
        leg.auth_attempts += 1
        try:
            if leg.account is None:
                raise digest.DigestError("challenged, but there are no credentials for this peer")
            challenge = digest.challenge_from(resp)
            if leg.auth_attempts > MAX_AUTH_ATTEMPTS or (leg.auth_attempts > 1 and not challenge.stale):
                raise digest.DigestError("credentials rejected")
            value = digest.authorization(challenge, "INVITE", leg.invite.uri, leg.account.digest_user,
                                         leg.account.password)
        except digest.DigestError as exc:
            logger.warning("call %s: authentication failed: %s", call.call_id[:12], exc)
            self.core.end_call(call, EndReason.AUTH_FAILED, resp.status_code)
            return
        self._send_invite(call, tx.dest, (challenge.response_header, value))

    def _on_timeout(self, tx: ClientTransaction) -> None:
        call = next((c for c in self.core.active_calls() if c.leg.invite_tx is tx), None)
        if call is not None:
            self.core.end_call(call, EndReason.TIMEOUT, 408)

    def on_stray_response(self, resp: SipMessage) -> None:
        """A retransmitted 2xx to an INVITE whose transaction is over: our ACK was lost, send it again."""
        call = self.core.get_call(resp.call_id)
        if call is None or resp.cseq[1] != "INVITE" or not 200 <= resp.status_code < 300:
            return
        if call.leg.ack_data:
            self.core.send(call.leg.ack_data, call.leg.dialog.destination())

    # -- cancel ---------------------------------------------------------------------------------------------
    def cancel(self, call: Call, reason: str) -> None:
        """Stop a call we are dialing: CANCEL once the far end has answered provisionally."""
        self.core.end_call(call, reason)
        tx = call.leg.invite_tx
        if tx is None or tx.final is not None:
            return
        if tx.provisional is not None:
            self._send_cancel(call)
        else:
            call.leg.cancel_pending = True  # RFC 3261 §9.1: wait for a provisional response before CANCEL

    def _send_cancel(self, call: Call) -> None:
        leg, tx = call.leg, call.leg.invite_tx
        leg.cancel_pending = False
        inv = leg.invite
        data = builder.build_request("CANCEL", inv.uri, via=self.core.sent_by(tx.dest[0]), branch=tx.branch,
                                     from_=inv.header("From"), to=inv.header("To"), call_id=inv.call_id,
                                     cseq=inv.cseq[0], routes=inv.header_values("Route"),
                                     user_agent=self.core.settings.user_agent)
        self.core.transactions.start("CANCEL", data, tx.dest, tx.branch)

    def tick(self, call: Call, now: float) -> None:
        """Cancel calls that ring too long."""
        if call.state in (CallState.DIALING, CallState.RINGING) and now >= call.leg.ring_deadline:
            self.cancel(call, EndReason.NO_ANSWER)
