"""Registered-extension mode: one REGISTER binding per account, kept alive and restored after registrar restarts.

Replaces ``SIPClient.register``, which blocks the receive socket for up to 30 s, cannot answer 407, retries with
recursion and, after three failures, stops the whole phone. Here each account is a small state machine driven
by the agent's tick: register (digest 401/407), refresh at half the granted lifetime, ping the registrar with
OPTIONS between refreshes and, when it stops answering, mark the binding unreachable and re-register as soon as
it answers again (a restarted registrar has forgotten us).
"""
from __future__ import annotations

import logging
import random
import threading
import time
from enum import Enum
from typing import Callable

from voice.sip import builder, digest
from voice.sip.core import SipCore
from voice.sip.message import SipMessage, parse_name_addr
from voice.sip.settings import SipAccount
from voice.sip.transaction import ClientTransaction

logger = logging.getLogger(__name__)

MAX_AUTH_ATTEMPTS = 2


class RegistrationStatus(str, Enum):
    UNREGISTERED = "unregistered"
    REGISTERING = "registering"
    REGISTERED = "registered"
    FAILED = "failed"
    """The registrar refused us (wrong credentials, 403, ...); retried after ``register_retry_seconds``."""
    UNREACHABLE = "unreachable"
    """The registrar does not answer; retried after ``register_retry_seconds``."""


StatusCallback = Callable[[SipAccount, RegistrationStatus, str], None]


class Registration:
    """The binding of one account at its registrar."""

    def __init__(self, core: SipCore, account: SipAccount, on_change: StatusCallback | None = None):
        self.core = core
        self.account = account
        self.on_change = on_change
        self.status = RegistrationStatus.UNREGISTERED
        self.detail = ""
        self.expires_in = 0
        self._lock = threading.RLock()
        self._call_id = builder.new_call_id(core.endpoint.advertised_host(account.server))
        self._tag = builder.new_tag()
        self._seq = random.randint(1, 10000)
        self._active = False
        self._in_flight = False
        self._ping_in_flight = False
        self._next_register = 0.0
        self._next_ping = 0.0
        self._auth_attempts = 0
        self._asked_expires = account.expires
        self._dest: tuple[str, int] | None = None
        self._unregistered = threading.Event()

    # -- control --------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Begin registering (on the next tick)."""
        with self._lock:
            self._active, self._next_register = True, 0.0

    def stop(self, wait: float = 2.0) -> None:
        """Remove the binding (REGISTER with Expires: 0), waiting at most ``wait`` seconds."""
        with self._lock:
            was_registered = self._active and self.status is RegistrationStatus.REGISTERED
            self._active = False
            if was_registered:
                self._asked_expires, self._auth_attempts = 0, 0
                self._send_register()
        if was_registered:
            self._unregistered.wait(wait)
        self._set(RegistrationStatus.UNREGISTERED, "")

    def wait_for(self, status: RegistrationStatus, timeout: float) -> bool:
        """Poll until the status is reached (tests and start-up checks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status is status:
                return True
            time.sleep(0.02)
        return self.status is status

    def tick(self, now: float) -> None:
        """Register, refresh or ping when due."""
        with self._lock:
            if not self._active or self._in_flight:
                return
            if now >= self._next_register:
                self._auth_attempts = 0
                self._send_register()
            elif self._due_ping(now):
                self._ping()

    def _due_ping(self, now: float) -> bool:
        keepalive = self.core.settings.keepalive_seconds
        return (bool(keepalive) and self.status is RegistrationStatus.REGISTERED and not self._ping_in_flight
                and now >= self._next_ping)

    # -- REGISTER -------------------------------------------------------------------------------------------
    def _request_uri(self) -> str:
        acc = self.account
        port = f":{acc.port}" if acc.port != 5060 and acc.sip_domain == acc.server else ""
        return f"sip:{acc.sip_domain}{port}"

    def _send_register(self, auth: tuple[str, str] | None = None) -> None:
        acc = self.account
        try:
            self._dest = self.core.resolve(acc.server, acc.port)
        except OSError as exc:
            self._fail(RegistrationStatus.FAILED, f"cannot resolve {acc.server}: {exc}")
            return
        self._seq += 1
        aor = f"<{acc.aor}>"
        headers = [("Contact", self.core.contact(acc.username, self._dest[0])), ("Expires", str(self._asked_expires)),
                   ("Allow", builder.ALLOW)]
        if auth:
            headers.append(auth)
        data = builder.build_request("REGISTER", self._request_uri(), via=self.core.sent_by(self._dest[0]),
                                     branch=builder.new_branch(), from_=f"{aor};tag={self._tag}", to=aor,
                                     call_id=self._call_id, cseq=self._seq, headers=headers,
                                     user_agent=self.core.settings.user_agent)
        self._in_flight = True
        if self.status is RegistrationStatus.UNREGISTERED and self._asked_expires:
            self._set(RegistrationStatus.REGISTERING, "")  # retries keep showing FAILED/UNREACHABLE until they work
        branch = SipMessage(data).branch
        self.core.transactions.start("REGISTER", data, self._dest, branch, on_response=self._on_response,
                                     on_timeout=self._on_timeout)

    def _on_response(self, tx: ClientTransaction, resp: SipMessage) -> None:
        if resp.status_code < 200:
            return
        with self._lock:
            self._in_flight = False
            code = resp.status_code
            if code < 300:
                self._registered(resp)
            elif code in (401, 407):
                self._answer_challenge(resp)
            elif code == 423 and (resp.header("Min-Expires") or "").isdigit():
                self._asked_expires = int(resp.header("Min-Expires"))
                self._send_register()
            else:
                self._fail(RegistrationStatus.FAILED, f"{code} {resp.reason}".strip())

    def _registered(self, resp: SipMessage) -> None:
        if self._asked_expires == 0:
            self._unregistered.set()
            return
        self.expires_in = self._granted(resp)
        now = time.monotonic()
        self._next_register = now + max(1.0, self.expires_in / 2)
        self._next_ping = now + self.core.settings.keepalive_seconds
        self._asked_expires = self.account.expires
        self._set(RegistrationStatus.REGISTERED, f"expires in {self.expires_in} s")

    def _granted(self, resp: SipMessage) -> int:
        """Lifetime the registrar granted to our contact (its ``expires`` param, else the Expires header)."""
        ours = self.core.sent_by(self._dest[0])
        for value in resp.header_values("Contact"):
            try:
                contact = parse_name_addr(value)
            except ValueError:
                continue
            expires = contact["params"].get("expires")
            if ours in contact["uri"] and expires and expires.isdigit():
                return int(expires)
        header = resp.header("Expires") or ""
        return int(header) if header.isdigit() else self._asked_expires

    def _answer_challenge(self, resp: SipMessage) -> None:
        self._auth_attempts += 1
        try:
            challenge = digest.challenge_from(resp)
            if self._auth_attempts > MAX_AUTH_ATTEMPTS or (self._auth_attempts > 1 and not challenge.stale):
                raise digest.DigestError(f"credentials rejected ({resp.status_code})")
            value = digest.authorization(challenge, "REGISTER", self._request_uri(), self.account.digest_user,
                                         self.account.password)
        except digest.DigestError as exc:
            self._fail(RegistrationStatus.FAILED, str(exc))
            return
        self._send_register((challenge.response_header, value))

    def _on_timeout(self, tx: ClientTransaction) -> None:
        with self._lock:
            self._in_flight = False
            if self._asked_expires == 0:
                self._unregistered.set()
                return
            self._fail(RegistrationStatus.UNREACHABLE, "registrar did not answer")

    def _fail(self, status: RegistrationStatus, detail: str) -> None:
        self._in_flight = False
        self._next_register = time.monotonic() + self.core.settings.register_retry_seconds
        if self._asked_expires == 0:
            self._unregistered.set()
            return
        logger.warning("registration of %s at %s: %s", self.account.username, self.account.server, detail)
        self._set(status, detail)

    # -- keepalive ----------------------------------------------------------------------------------------------
    def _ping(self) -> None:
        dest = self._dest
        uri = self._request_uri()
        data = builder.build_request("OPTIONS", uri, via=self.core.sent_by(dest[0]), branch=builder.new_branch(),
                                     from_=f"<{self.account.aor}>;tag={builder.new_tag()}", to=f"<{uri}>",
                                     call_id=builder.new_call_id(self.core.endpoint.advertised_host(dest[0])),
                                     cseq=1, user_agent=self.core.settings.user_agent)
        self._ping_in_flight = True
        self.core.transactions.start("OPTIONS", data, dest, SipMessage(data).branch, on_response=self._on_pong,
                                     on_timeout=self._on_ping_timeout,
                                     timeout=max(1.0, min(self.core.settings.keepalive_seconds, 8.0)))

    def _on_pong(self, tx: ClientTransaction, resp: SipMessage) -> None:
        if resp.status_code >= 200:
            with self._lock:
                self._ping_in_flight = False
                self._next_ping = time.monotonic() + self.core.settings.keepalive_seconds

    def _on_ping_timeout(self, tx: ClientTransaction) -> None:
        with self._lock:
            self._ping_in_flight = False
            if self._active and self.status is RegistrationStatus.REGISTERED:
                self._set(RegistrationStatus.UNREACHABLE, "registrar stopped answering")
                self._next_register = 0.0  # re-register as soon as it answers again

    # -- status ----------------------------------------------------------------------------------------------
    def _set(self, status: RegistrationStatus, detail: str) -> None:
        changed = status is not self.status
        self.status, self.detail = status, detail
        if changed:
            logger.info("registration %s@%s: %s %s", self.account.username, self.account.server, status.value, detail)
            if self.on_change is not None:
                threading.Thread(target=self._notify, args=(status, detail), daemon=True).start()

    def _notify(self, status: RegistrationStatus, detail: str) -> None:
        try:
            self.on_change(self.account, status, detail)
        except Exception:  # an application callback must not break registration
            logger.exception("registration status callback failed")
