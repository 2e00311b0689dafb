"""Blind transfer (RFC 3515 REFER, RFC 5589): REFER with digest auth, NOTIFY sipfrag progress, fallback on refusal.

pyVoIP has no REFER at all. ``transfer()`` blocks its caller (never the SIP receive thread) until the transfer
target answered (True: we hang up, the call ends as ``transferred``) or the PBX refused or the transfer failed
(False: the call stays up, ``Call.last_transfer_error`` says why, so the dialog can offer a callback instead).
"""
from __future__ import annotations

import logging
import threading
import time

from voice.sip import digest
from voice.sip.call import Call, CallState, EndReason
from voice.sip.core import SipCore
from voice.sip.message import SipMessage, uri_host_port

logger = logging.getLogger(__name__)

MAX_AUTH_ATTEMPTS = 2


class Transfer:
    """One REFER in progress."""

    def __init__(self, refer_to: str):
        self.refer_to = refer_to
        self.accepted = False
        self.success: bool | None = None
        self.error: str | None = None
        self._done = threading.Event()

    def finish(self, success: bool, error: str | None = None) -> None:
        """Record the outcome (first one wins) and wake the waiting ``transfer()``."""
        if self.success is None:
            self.success, self.error = success, error
        self._done.set()

    def wait(self, timeout: float) -> bool:
        return self._done.wait(max(0.0, timeout))


class Transfers:
    """Sends REFERs and follows their NOTIFYs."""

    def __init__(self, core: SipCore, control):
        self.core = core
        self.control = control

    def transfer(self, call: Call, target: str, timeout: float | None = None) -> bool:
        """Blind-transfer an answered call to ``target`` (a number or SIP URI)."""
        timeout = self.core.settings.transfer_timeout_seconds if timeout is None else timeout
        deadline = time.monotonic() + timeout
        with call.lock:
            if call.state is not CallState.ANSWERED or call.leg.dialog is None:
                return self._fail(call, None, "call is not answered")
            if call.leg.refer is not None:
                return self._fail(call, None, "a transfer is already in progress")
            xfer = call.leg.refer = Transfer(self._refer_uri(call, target))
        error = self._send_refer(call, xfer, deadline)
        if error:
            return self._fail(call, xfer, error)
        if not xfer.wait(deadline - time.monotonic()):
            return self._fail(call, xfer, "no final NOTIFY before the transfer timeout")
        if not xfer.success:
            return self._fail(call, xfer, xfer.error or "transfer failed")
        call.leg.refer = None
        if call.state is not CallState.ENDED:
            self.control.hangup(call, EndReason.TRANSFERRED)
        return True

    def _refer_uri(self, call: Call, target: str) -> str:
        target = target.strip().strip("<>")
        if target.lower().startswith("sip:"):
            return target
        if call.leg.account is not None:
            return f"sip:{target}@{call.leg.account.sip_domain}"
        host, port = uri_host_port(call.leg.dialog.remote_target)
        return f"sip:{target}@{host}:{port}"

    def _send_refer(self, call: Call, xfer: Transfer, deadline: float) -> str | None:
        """REFER until accepted; returns an error text, or None once the PBX accepted it (202)."""
        auth: tuple[str, str] | None = None
        dialog = call.leg.dialog
        for _ in range(MAX_AUTH_ATTEMPTS + 1):
            headers = [("Refer-To", f"<{xfer.refer_to}>"), ("Referred-By", dialog.local_uri)]
            if auth:
                headers.append(auth)
            data, branch = dialog.request("REFER", self.core.sent_by(dialog.destination()[0]), headers=headers,
                                          user_agent=self.core.settings.user_agent)
            tx = self.core.transactions.start("REFER", data, dialog.destination(), branch)
            resp = tx.wait(max(0.0, min(deadline - time.monotonic(), self.core.settings.transaction_timeout + 1)))
            if resp is None:
                return "no answer to REFER"
            if resp.status_code < 300:
                xfer.accepted = True
                return None
            if resp.status_code not in (401, 407):
                return f"REFER refused: {resp.status_code} {resp.reason}".strip()
            auth, error = self._credentials(call, resp)
            if error:
                return error
        return "REFER credentials rejected"

    def _credentials(self, call: Call, resp: SipMessage) -> tuple[tuple[str, str] | None, str | None]:
        account = call.leg.account
        if account is None:
            return None, f"REFER challenged ({resp.status_code}) but the call has no account credentials"
        try:
            challenge = digest.challenge_from(resp)
            value = digest.authorization(challenge, "REFER", call.leg.dialog.remote_target, account.digest_user,
                                         account.password)
        except digest.DigestError as exc:
            return None, f"REFER authentication failed: {exc}"
        return (challenge.response_header, value), None

    def _fail(self, call: Call, xfer: Transfer | None, error: str) -> bool:
        logger.info("transfer of call %s failed: %s", call.call_id[:12], error)
        call.last_transfer_error = error
        if xfer is not None and call.leg.refer is xfer:
            call.leg.refer = None
        if call.on_transfer_failed is not None:
            call._fire(call.on_transfer_failed, error)
        return False

    def on_notify(self, call: Call, msg: SipMessage) -> None:
        """NOTIFY (Event: refer) with a sipfrag body: follow the transfer's progress."""
        self.core.reply(msg, 200, "OK", to_tag=call.leg.dialog.local_tag)
        xfer = call.leg.refer
        if xfer is None or not (msg.header("Event") or "").lower().startswith("refer"):
            return
        code = sipfrag_status(msg.body_raw)
        if code is not None and code >= 200:
            xfer.finish(code < 300, None if code < 300 else f"transfer target answered {code}")
        elif (msg.header("Subscription-State") or "").lower().startswith("terminated"):
            xfer.finish(False, "transfer subscription ended without a final status")

    def on_bye_during_transfer(self, call: Call) -> bool:
        """A BYE after the PBX accepted our REFER means it took the caller: count it as transferred."""
        xfer = call.leg.refer
        if xfer is not None and xfer.accepted:
            xfer.finish(True)
            return True
        return False


def sipfrag_status(body: bytes) -> int | None:
    """The status code of a ``message/sipfrag`` body (``SIP/2.0 200 OK``), or None."""
    first_line = body.decode("utf-8", "replace").strip().split("\n", 1)[0].split()
    if len(first_line) >= 2 and first_line[0].upper() == "SIP/2.0" and first_line[1].isdigit():
        return int(first_line[1])
    return None

