"""Outbound calls to SIPp UAS peers: digest auth (401/407), provisional responses, the ACK bug, busy, cancel."""
from __future__ import annotations

import socket
import time

import pytest

from tests.sipp.harness import make_agent, needs_sipp, sipp, wait_until  # noqa: F401 (fixtures)
from voice.sip.pyvoip import SIPClient, SIPMessage
from voice.sip import CallLimitReached, CallState, Direction, EndReason, SipAccount, SipCallError

pytestmark = needs_sipp


def account_for(peer, password: str = "s3cret") -> SipAccount:
    return SipAccount(number="5550001", server="127.0.0.1", port=peer.port, username="1001", password=password)


@pytest.mark.parametrize("scenario", ["uas_auth401.xml", "uas_auth407.xml"])
def test_outbound_call_authenticates_rings_and_is_answered(make_agent, sipp, scenario):
    agent = make_agent()
    peer = sipp(scenario, rtp_echo=True).start()
    call = agent.place_call(f"sip:100@127.0.0.1:{peer.port}", account=account_for(peer))
    assert call.direction is Direction.OUTBOUND and call.remote_number == "100"
    assert call.wait_answered(10), (call.state, call.ended_reason, peer.transcript())
    assert call.media is not None and call.leg.negotiated.codec == "PCMA"  # the answer chose PCMA
    call.hangup()
    assert peer.wait() == 0, peer.transcript()
    assert call.ended_reason == EndReason.LOCAL_HANGUP


def test_outbound_call_with_wrong_password_fails_with_auth_failed(make_agent, sipp):
    agent = make_agent()
    peer = sipp("uas_auth_reject.xml").start()
    call = agent.place_call(f"sip:100@127.0.0.1:{peer.port}", account=account_for(peer, "wrong"))
    assert call.wait_ended(10)
    assert peer.wait() == 0, peer.transcript()  # both 401s ACKed, no third INVITE
    assert call.ended_reason == EndReason.AUTH_FAILED and not call.wait_answered(0)


def test_outbound_busy_is_acked_and_reported(make_agent, sipp):
    agent = make_agent()
    peer = sipp("uas_busy.xml").start()
    call = agent.place_call(f"sip:100@127.0.0.1:{peer.port}")
    assert call.wait_ended(5)
    assert peer.wait() == 0, peer.transcript()  # SIPp got its ACK
    assert call.ended_reason == EndReason.BUSY and call.status_code == 486


def test_outbound_call_nobody_answers_is_cancelled(make_agent, sipp):
    agent = make_agent(ring_timeout_seconds=1.0)
    peer = sipp("uas_no_answer.xml").start()
    call = agent.place_call(f"sip:100@127.0.0.1:{peer.port}")
    assert wait_until(lambda: call.state is CallState.RINGING or not call.is_active, 3)
    assert call.wait_ended(5)
    assert peer.wait() == 0, peer.transcript()  # CANCEL, 200, 487, ACK
    assert call.ended_reason == EndReason.NO_ANSWER


def test_place_call_refuses_bad_targets_and_the_limit(make_agent):
    agent = make_agent(max_calls=0)
    with pytest.raises(CallLimitReached):
        agent.place_call("sip:100@127.0.0.1:5999")
    agent = make_agent()
    with pytest.raises(SipCallError):
        agent.place_call("100")  # no account and no default trunk
    with pytest.raises(SipCallError):
        agent.place_call("1 00;evil")


@pytest.mark.slow
def test_outbound_call_stays_up_past_60_seconds(make_agent, sipp):
    """The pyVoIP ACK bug: the UAS checks our ACK's tags, then holds the call 62 s and hangs up itself."""
    agent = make_agent(t1_seconds=0.5)
    peer = sipp("uas_long_call.xml", rtp_echo=True, timeout=90, extra=("-d", "62000")).start()
    call = agent.place_call(f"sip:100@127.0.0.1:{peer.port}")
    assert call.wait_answered(10), peer.transcript()
    time.sleep(60.5)
    assert call.state is CallState.ANSWERED, (call.ended_reason, peer.transcript())
    assert peer.wait(15) == 0, peer.transcript()
    assert call.ended_reason == EndReason.REMOTE_BYE
    assert call.duration >= 61.5


def test_the_ack_check_catches_stock_pyvoip(sipp):
    """The 60 s test can fail: the same UAS rejects the ACK that stock pyVoIP's ``gen_ack`` builds (new To-tag)."""
    from pyVoIP.RTP import PayloadType, TransmitType

    peer = sipp("uas_long_call.xml", extra=("-d", "200", "-max_retrans", "1"), timeout=10).start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)
        stock = SIPClient("127.0.0.1", peer.port, "1001", "", phone=None, myIP="127.0.0.1",
                          myPort=sock.getsockname()[1])
        media = {40000: {0: PayloadType.PCMU, 101: PayloadType.EVENT}}
        invite = stock.gen_invite("100", "1", media, TransmitType.SENDRECV, stock.gen_branch(), "stock-ack@127.0.0.1")
        sock.sendto(invite.encode(), ("127.0.0.1", peer.port))
        response = SIPMessage(sock.recv(65535))
        while int(response.status) != 200:
            response = SIPMessage(sock.recv(65535))
        sock.sendto(stock.gen_ack(response).encode(), ("127.0.0.1", peer.port))
        assert peer.wait() != 0  # SIPp marked the call failed on the ACK's To-tag
    assert "ack_totag" in peer.transcript() or "regexp" in peer.transcript().lower()
