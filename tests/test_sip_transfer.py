"""Blind transfer by REFER against SIPp playing the PBX: digest-challenged REFER, NOTIFY progress, refusals."""
from __future__ import annotations

from tests.sipp.harness import make_agent, needs_sipp, sipp, wait_until  # noqa: F401 (fixtures)
from voice.sip import CallState, EndReason, SipAccount

pytestmark = needs_sipp


def answered_call(agent, peer):
    account = SipAccount(number="5550001", server="127.0.0.1", port=peer.port, username="1001", password="s3cret")
    call = agent.place_call(f"sip:100@127.0.0.1:{peer.port}", account=account)
    assert call.wait_answered(10), peer.transcript()
    return call


def test_blind_transfer_with_auth_and_notify_succeeds(make_agent, sipp):
    agent = make_agent()
    peer = sipp("uas_refer.xml", rtp_echo=True).start()
    call = answered_call(agent, peer)
    assert call.transfer("200", timeout=10) is True, call.last_transfer_error
    assert call.state is CallState.ENDED and call.ended_reason == EndReason.TRANSFERRED
    assert peer.wait() == 0, peer.transcript()  # 401 answered, both NOTIFYs got 200, BYE sent


def test_refused_transfer_keeps_the_call_and_reports_the_fallback(make_agent, sipp):
    agent = make_agent()
    peer = sipp("uas_refer_refused.xml", rtp_echo=True).start()
    call = answered_call(agent, peer)
    failures: list[str] = []
    call.on_transfer_failed = failures.append
    assert call.transfer("200", timeout=5) is False
    assert "603" in call.last_transfer_error
    assert call.state is CallState.ANSWERED  # still talking: the dialog can offer a callback instead
    assert wait_until(lambda: failures == [call.last_transfer_error], 2)
    call.hangup()
    assert peer.wait() == 0, peer.transcript()


def test_transfer_target_busy_is_reported_from_the_notify(make_agent, sipp):
    agent = make_agent()
    peer = sipp("uas_refer_failed.xml", rtp_echo=True).start()
    call = answered_call(agent, peer)
    assert call.transfer("200", timeout=5) is False
    assert "486" in call.last_transfer_error and call.state is CallState.ANSWERED
    call.hangup()
    assert peer.wait() == 0, peer.transcript()


def test_transfer_of_a_call_that_is_not_answered_is_refused(make_agent, sipp):
    agent = make_agent(ring_timeout_seconds=2.0)
    peer = sipp("uas_no_answer.xml").start()
    call = agent.place_call(f"sip:100@127.0.0.1:{peer.port}")
    assert wait_until(lambda: call.state is CallState.RINGING, 3)
    assert call.transfer("200", timeout=1) is False and call.last_transfer_error == "call is not answered"
    call.hangup()
    assert peer.wait() == 0, peer.transcript()
