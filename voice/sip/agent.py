"""``SipAgent``: the SIP side of the voice agent as one object the rest of the process wires in.

It listens on one UDP port for both modes a PBX uses: registered extensions (``register(account)`` per phone
number) and trunk peers sending INVITEs straight to the port from allowlisted addresses.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from voice.sip.call import Call
from voice.sip.control import Control
from voice.sip.core import SipCore
from voice.sip.media import MediaFactory, default_media_factory
from voice.sip.message import SipMessage
from voice.sip.registration import Registration, RegistrationStatus, StatusCallback
from voice.sip.settings import SipAccount, SipSettings

logger = logging.getLogger(__name__)

TICK_SECONDS = 0.05
FORGET_EVERY = 200  # ticks (~10 s) between sweeps of ended calls


class SipAgent:
    """Answers and places SIP calls; see ``Call`` for what the application does with one."""

    def __init__(self, settings: SipSettings, on_incoming_call: Callable[[Call], None] | None = None, *,
                 media_factory: MediaFactory | None = None, on_registration: StatusCallback | None = None):
        self.settings = settings
        self.on_registration = on_registration
        self._core = SipCore(settings, self._on_message, media_factory or default_media_factory)
        self._control = Control(self._core, on_incoming_call, self._account_for_user)
        self._registrations: dict[str, Registration] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------------------
    def start(self) -> "SipAgent":
        """Bind the SIP port and start the receive and housekeeping threads."""
        self._core.endpoint.start()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._housekeeping, name="sip-housekeeping", daemon=True)
        self._thread.start()
        logger.info("SIP agent listening on %s:%s/udp", self.settings.bind_host, self.port)
        return self

    def stop(self) -> None:
        """Hang up every call, remove registrations, and release the port (bounded: a few seconds at most)."""
        if self._thread is None:
            return
        self._control.hangup_all()
        with self._lock:
            registrations = list(self._registrations.values())
        stoppers = [threading.Thread(target=r.stop, kwargs={"wait": 2.0}, daemon=True) for r in registrations]
        for t in stoppers:
            t.start()
        for t in stoppers:
            t.join(timeout=3.0)
        self._stopping.set()
        self._thread.join(timeout=2.0)
        self._thread = None
        self._core.transactions.clear()
        self._core.endpoint.stop()

    def __enter__(self) -> "SipAgent":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The UDP port actually bound (useful with ``bind_port=0``)."""
        return self._core.endpoint.myPort

    @property
    def rtp_ports_in_use(self) -> int:
        """RTP ports held by calls (0 once every call has ended: nothing leaks)."""
        return self._core.pool.in_use

    @property
    def malformed_count(self) -> int:
        """How many unparseable datagrams were received."""
        return self._core.endpoint.malformed_count

    # -- registrations ----------------------------------------------------------------------------------------
    def register(self, account: SipAccount) -> Registration:
        """Register (and keep registered) one account; replaces an earlier account for the same number."""
        old = None
        with self._lock:
            old = self._registrations.get(account.number)
            registration = Registration(self._core, account, self.on_registration)
            self._registrations[account.number] = registration
        if old is not None:
            old.stop(wait=1.0)
        self._core.trust_host(account.server)
        registration.start()
        return registration

    def unregister(self, number: str) -> None:
        """Remove an account's registration."""
        with self._lock:
            registration = self._registrations.pop(number, None)
        if registration is not None:
            registration.stop()

    def registration_status(self, number: str) -> RegistrationStatus:
        """Live status of the account registered for ``number``."""
        with self._lock:
            registration = self._registrations.get(number)
        return registration.status if registration else RegistrationStatus.UNREGISTERED

    def registrations(self) -> dict[str, Registration]:
        """Every registration by phone number."""
        with self._lock:
            return dict(self._registrations)

    def _account_for_user(self, user: str) -> SipAccount | None:
        with self._lock:
            accounts = [r.account for r in self._registrations.values()]
        return next((a for a in accounts if user and user in (a.username, a.number)), None)

    # -- calls ---------------------------------------------------------------------------------------------------
    def place_call(self, to: str, account: SipAccount | str | None = None, caller_id: str = "") -> Call:
        """Dial ``to`` (number or SIP URI) through ``account`` (or its number), else the default trunk."""
        if isinstance(account, str):
            with self._lock:
                registration = self._registrations.get(account)
            if registration is None:
                raise ValueError(f"no SIP account for number {account!r}")
            account = registration.account
        return self._control.outbound.place_call(to, account, caller_id)

    def calls(self) -> list[Call]:
        """Calls that have not ended."""
        return self._core.active_calls()

    def get_call(self, call_id: str) -> Call | None:
        """A live or recently ended call by Call-ID."""
        return self._core.get_call(call_id)

    # -- internals ------------------------------------------------------------------------------------------
    def _on_message(self, msg: SipMessage) -> None:
        core = self._core
        if not msg.is_request:
            if core.transactions.match(msg) is None:
                self._control.on_response(msg)
            return
        if not msg.has_required_headers():
            logger.info("dropping %s without mandatory headers from %s:%s", msg.method, *msg.source)
            return
        if msg.method != "ACK" and core.responses.replay(msg):
            return  # retransmission: answered again from the cache, not processed twice
        self._control.on_request(msg)

    def _housekeeping(self) -> None:
        ticks = 0
        while not self._stopping.wait(TICK_SECONDS):
            now = time.monotonic()
            with self._lock:
                registrations = list(self._registrations.values())
            jobs = [self._core.transactions.tick, self._core.responses.tick, self._control.tick]
            for job in jobs + [r.tick for r in registrations]:
                try:
                    job(now)
                except Exception:  # keep the timers running for every other call
                    logger.exception("SIP housekeeping step failed")
            ticks += 1
            if ticks % FORGET_EVERY == 0:
                self._core.forget_ended()
