"""Registered-extension mode: digest 401/407, refresh, un-REGISTER (SIPp registrar) and Kamailio restarts."""
from __future__ import annotations

import pytest

from tests.sipp.harness import Inbox, make_agent, needs_sipp, sipp, wait_until  # noqa: F401 (fixtures)
from tests.sipp.kamailio import KAMAILIO, Kamailio
from voice.sip import EndReason, RegistrationStatus, SipAccount

pytestmark = needs_sipp
needs_kamailio = pytest.mark.skipif(KAMAILIO is None, reason="Kamailio (Debian package kamailio) is not installed")


def account(port: int, password: str = "s3cret", number: str = "5550001") -> SipAccount:
    return SipAccount(number=number, server="127.0.0.1", port=port, username="1001", password=password)


def test_register_401_refresh_407_and_unregister(make_agent, sipp):
    seen: list[RegistrationStatus] = []
    agent = make_agent(on_registration=lambda acc, status, detail: seen.append(status))
    peer = sipp("uas_registrar.xml").start()
    registration = agent.register(account(peer.port))
    assert registration.wait_for(RegistrationStatus.REGISTERED, 5), registration.detail
    assert wait_until(lambda: registration.expires_in == 60, 5), peer.transcript()  # refreshed through a 407
    assert agent.registration_status("5550001") is RegistrationStatus.REGISTERED
    agent.unregister("5550001")
    assert agent.registration_status("5550001") is RegistrationStatus.UNREGISTERED
    assert peer.wait() == 0, peer.transcript()
    assert wait_until(lambda: seen[-1:] == [RegistrationStatus.UNREGISTERED], 2)
    assert seen[:2] == [RegistrationStatus.REGISTERING, RegistrationStatus.REGISTERED]


def test_unreachable_registrar_is_reported_and_retried(make_agent):
    agent = make_agent(t1_seconds=0.05)
    registration = agent.register(account(9))  # discard port: nobody answers
    assert registration.wait_for(RegistrationStatus.UNREACHABLE, 6)
    assert registration.detail == "registrar did not answer"


@needs_kamailio
def test_kamailio_registration_routes_calls_and_survives_a_restart(make_agent, sipp, tmp_path):
    kamailio = Kamailio(tmp_path).start()
    try:
        inbox = Inbox()
        agent = make_agent(inbox, keepalive_seconds=1.0)
        registration = agent.register(account(kamailio.port))
        assert registration.wait_for(RegistrationStatus.REGISTERED, 5), registration.detail
        assert registration.expires_in == 60  # kamailio's max_expires, not the 300 s asked for
        _call_through(kamailio, sipp, inbox)

        kamailio.stop()  # the PBX goes away and comes back with an empty location table
        assert registration.wait_for(RegistrationStatus.UNREACHABLE, 5), registration.status
        kamailio.start()
        assert registration.wait_for(RegistrationStatus.REGISTERED, 15), registration.detail
        _call_through(kamailio, sipp, inbox)
    finally:
        kamailio.stop()


def _call_through(kamailio, sipp, inbox):
    peer = sipp("uac_call.xml", remote=f"127.0.0.1:{kamailio.port}", service="1001", rtp_echo=True,
                extra=("-d", "500")).start()
    call = inbox.next()
    assert peer.wait() == 0, peer.transcript() + kamailio.log.read_text()[-2000:]
    assert call.dialed_number == "5550001"  # Request-URI user 1001 routed to the account's number
    assert wait_until(lambda: call.ended_reason == EndReason.REMOTE_BYE, 3), (call.state, call.ended_reason)


@needs_kamailio
def test_kamailio_rejects_a_wrong_password(make_agent, tmp_path):
    kamailio = Kamailio(tmp_path).start()
    try:
        agent = make_agent()
        registration = agent.register(account(kamailio.port, password="wrong"))
        assert registration.wait_for(RegistrationStatus.FAILED, 5), registration.status
        assert "credentials rejected" in registration.detail
    finally:
        kamailio.stop()
