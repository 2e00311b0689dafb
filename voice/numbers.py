"""Registered-extension mode: one SIP account per active phone number, kept in step with the database.

``NumberSync.sync()`` reads the phone numbers (at start and every ``[voice] resync_seconds``), registers new
and changed accounts, unregisters removed or deactivated ones, and writes each registration outcome back to the
number's ``registrationStatus`` through the database writer (the SIP thread that reports it never waits on it).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from appliance import phone_numbers
from appliance.security import SecretBox
from data.ai import PhoneNumber
from voice.cdr_writer import DbWriter
from voice.sip import RegistrationStatus, SipAccount, SipAgent

logger = logging.getLogger(__name__)

_STATUS = {RegistrationStatus.REGISTERED: "registered", RegistrationStatus.REGISTERING: "registering",
           RegistrationStatus.UNREGISTERED: "unregistered", RegistrationStatus.FAILED: "failed",
           RegistrationStatus.UNREACHABLE: "failed"}


@dataclass(frozen=True)
class Binding:
    """A phone number registered by this process."""

    number_id: str
    org_id: str
    account: SipAccount


class NumberSync:
    """Keeps the agent's registrations equal to the active phone numbers that have SIP credentials."""

    def __init__(self, agent: SipAgent | None, box: SecretBox, writer: DbWriter):
        self.agent, self.box, self.writer = agent, box, writer
        self._bindings: dict[str, Binding] = {}
        self._lock = threading.Lock()

    def bindings(self) -> dict[str, Binding]:
        """Registered numbers by number."""
        with self._lock:
            return dict(self._bindings)

    def account_for(self, number_id: str | None) -> SipAccount | None:
        """The SIP account of a phone number this process registers (None: not registered here)."""
        with self._lock:
            return next((b.account for b in self._bindings.values() if b.number_id == number_id), None)

    def sync(self) -> tuple[int, int]:
        """Register what is new or changed, unregister what is gone; returns (registered, removed) counts."""
        wanted = self._wanted()
        with self._lock:
            current = dict(self._bindings)
        removed = [n for n in current if n not in wanted]
        changed = [b for n, b in wanted.items() if current.get(n) != b]
        for number in removed:
            self.agent.unregister(number)
            with self._lock:
                self._bindings.pop(number, None)
        for binding in changed:
            with self._lock:
                self._bindings[binding.account.number] = binding
            self.agent.register(binding.account)
        if removed or changed:
            logger.info("phone numbers synced: %d registered, %d removed", len(changed), len(removed))
        return len(changed), len(removed)

    def _wanted(self) -> dict[str, Binding]:
        rows = (PhoneNumber.select().where(PhoneNumber.is_active & PhoneNumber.sip_server.is_null(False)
                                           & PhoneNumber.sip_username.is_null(False))
                .order_by(PhoneNumber.created_at))
        wanted: dict[str, Binding] = {}
        for row in rows:
            binding = self._binding(row)
            if binding is None:
                continue
            if binding.account.number in wanted:  # the same number in two workspaces: one SIP binding only
                logger.warning("number %s is set up in more than one workspace; registering the first", row.id)
                continue
            wanted[binding.account.number] = binding
        return wanted

    def _binding(self, row: PhoneNumber) -> Binding | None:
        if not (row.sip_server or "").strip() or not (row.sip_username or "").strip():
            return None
        if (row.sip_transport or "udp").lower() != "udp":
            self._report(row.id, "failed", f"SIP transport {row.sip_transport} is not supported (only udp)")
            return None
        try:
            password = phone_numbers.sip_password(row, self.box) or ""
            account = SipAccount(number=row.number, server=row.sip_server.strip(), username=row.sip_username.strip(),
                                 password=password, port=row.sip_port or 5060, display_name=row.display_name or "")
        except ValueError as exc:  # also a password sealed with another key
            self._report(row.id, "failed", str(exc)[:200])
            return None
        return Binding(row.id, row.organization_id, account)

    def on_registration(self, account: SipAccount, status: RegistrationStatus, detail: str) -> None:
        """``SipAgent`` callback: write the number's live registration state."""
        with self._lock:
            binding = self._bindings.get(account.number)
        if binding is None:
            return
        error = None if status is RegistrationStatus.REGISTERED else (detail or status.value)[:500] or None
        if status is RegistrationStatus.UNREACHABLE:
            error = f"registrar unreachable: {detail}" if detail else "registrar unreachable"
        self._report(binding.number_id, _STATUS.get(status, "failed"), error)

    def _report(self, number_id: str, status: str, error: str | None) -> None:
        self.writer.submit(phone_numbers.set_registration, number_id, status, error)

    def clear(self) -> None:
        """Forget every binding (the agent unregisters them itself when it stops)."""
        with self._lock:
            self._bindings.clear()
