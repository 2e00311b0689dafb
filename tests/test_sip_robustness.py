"""Screening and robustness against SIPp and raw datagrams: OPTIONS, 486, 488, 403, malformed input, timeouts."""
from __future__ import annotations

import socket

from tests.sipp.harness import Inbox, make_agent, needs_sipp, sipp, wait_until  # noqa: F401 (fixtures)
from voice.sip import CallState, EndReason

pytestmark = needs_sipp


def test_options_qualify_gets_200_with_allow(make_agent, sipp):
    agent = make_agent(Inbox())
    peer = sipp("uac_options.xml", remote=f"127.0.0.1:{agent.port}").start()
    assert peer.wait() == 0, peer.transcript()


def test_486_busy_here_above_the_concurrency_limit(make_agent, sipp):
    inbox = Inbox()
    agent = make_agent(inbox, max_calls=1)
    first = sipp("uac_call.xml", remote=f"127.0.0.1:{agent.port}", rtp_echo=True, extra=("-d", "3000")).start()
    held = inbox.next()
    assert wait_until(lambda: held.state is CallState.ANSWERED, 2)
    second = sipp("uac_busy.xml", remote=f"127.0.0.1:{agent.port}").start()
    assert second.wait() == 0, second.transcript()
    assert inbox.calls.empty()  # the busy call never reached the application
    assert first.wait() == 0, first.transcript()


def test_488_for_an_offer_without_a_supported_codec(make_agent, sipp):
    inbox = Inbox()
    agent = make_agent(inbox)
    peer = sipp("uac_codec.xml", remote=f"127.0.0.1:{agent.port}").start()
    assert peer.wait() == 0, peer.transcript()
    assert inbox.calls.empty()


def test_403_for_an_invite_from_outside_the_allowlist(make_agent, sipp):
    inbox = Inbox()
    agent = make_agent(inbox, allowlist=("127.0.0.1/32",))
    peer = sipp("uac_forbidden.xml", remote=f"127.0.0.1:{agent.port}", local_ip="127.0.0.2").start()
    assert peer.wait() == 0, peer.transcript()
    assert inbox.calls.empty()


def test_unanswered_call_gets_480_after_the_ring_timeout(make_agent, sipp):
    inbox = Inbox(answer=False)
    agent = make_agent(inbox, ring_timeout_seconds=1.0)
    peer = sipp("uac_noanswer.xml", remote=f"127.0.0.1:{agent.port}").start()
    call = inbox.next()
    assert peer.wait() == 0, peer.transcript()
    assert call.ended_reason == EndReason.NO_ANSWER and call.status_code == 480


def test_a_call_without_media_ends_with_rtp_timeout(make_agent, sipp):
    inbox = Inbox()
    agent = make_agent(inbox, rtp_timeout_seconds=1.0)
    peer = sipp("uac_wait_bye.xml", remote=f"127.0.0.1:{agent.port}").start()  # SIPp sends no RTP here
    call = inbox.next()
    assert peer.wait() == 0, peer.transcript()
    assert call.ended_reason == EndReason.RTP_TIMEOUT
    assert 1.0 <= call.duration < 4.0


def test_a_call_that_never_ends_is_cut_at_max_duration(make_agent, sipp):
    inbox = Inbox()
    agent = make_agent(inbox, max_call_seconds=1.0)
    peer = sipp("uac_wait_bye.xml", remote=f"127.0.0.1:{agent.port}", rtp_echo=True).start()
    call = inbox.next()
    assert peer.wait() == 0, peer.transcript()
    assert call.ended_reason == EndReason.MAX_DURATION
    assert 1.0 <= call.duration < 2.5


def test_missing_ack_ends_the_call_with_bye(make_agent, sipp):
    inbox = Inbox()
    agent = make_agent(inbox, rtp_timeout_seconds=0, t1_seconds=0.05)  # gives up after 64*T1 = 3.2 s
    peer = sipp("uac_no_ack.xml", remote=f"127.0.0.1:{agent.port}").start()
    call = inbox.next()
    assert peer.wait() == 0, peer.transcript()
    assert call.ended_reason == EndReason.NO_ACK


MALFORMED = [
    b"\x00\xff\xfe garbage \x01\x02",
    b"HELLO WORLD\r\n\r\n",
    b"INVITE sip:1@127.0.0.1 SIP/2.0\r\nVia SIP/2.0/UDP 127.0.0.1:9\r\n\r\n",
    b"INVITE sip:1@127.0.0.1 SIP/3.0\r\n\r\n",
    b"OPTIONS sip:1@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\n",
    b"SIP/2.0 abc Weird\r\nVia: SIP/2.0/UDP 127.0.0.1:9\r\n\r\n",
    b"BYE sip:1@127.0.0.1 SIP/2.0\r\nCall-ID: only-this\r\n\r\n",
    b"INVITE sip:1@127.0.0.1 SIP/2.0\r\n" + b"X-Pad: " + b"A" * 70000 + b"\r\n\r\n",
]
BAD_WITH_HEADERS = (
    b"INVITE sip:1@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKbad1\r\n"
    b"From: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:1@127.0.0.1>\r\nCall-ID: bad-cseq-1\r\nCSeq: one INVITE\r\n"
    b"Content-Length: 0\r\n\r\n",
    b"INVITE sip:1@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKbad2\r\n"
    b"From: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:1@127.0.0.1>\r\nCall-ID: bad-sdp-2\r\nCSeq: 1 INVITE\r\n"
    b"Content-Type: application/sdp\r\nContent-Length: 40\r\n\r\nv=0\r\nm=audio notaport RTP/AVP 0\r\nc=IN\r\n",
    b"INVITE sip:1@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKbad3\r\n"
    b"From: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:1@127.0.0.1>\r\nCall-ID: short-body-3\r\nCSeq: 1 INVITE\r\n"
    b"Content-Length: 500\r\n\r\nv=0\r\n",
)


def test_malformed_messages_are_answered_400_or_dropped_and_the_listener_survives(make_agent, sipp):
    inbox = Inbox()
    agent = make_agent(inbox)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.bind(("127.0.0.1", 0))
        raw.settimeout(2.0)
        port = raw.getsockname()[1]
        for datagram in MALFORMED:
            raw.sendto(datagram[:65000], ("127.0.0.1", agent.port))
        for template in BAD_WITH_HEADERS:
            raw.sendto(template.replace(b"{port}", str(port).encode()), ("127.0.0.1", agent.port))
            reply = raw.recv(65535)
            assert reply.startswith(b"SIP/2.0 400 "), reply[:200]
    assert agent.malformed_count >= len(BAD_WITH_HEADERS) + 5
    peer = sipp("uac_call.xml", remote=f"127.0.0.1:{agent.port}", rtp_echo=True, extra=("-d", "500")).start()
    assert peer.wait() == 0, peer.transcript()  # a real call still works afterwards
    assert inbox.next().ended_reason in (EndReason.REMOTE_BYE, None)


RAW_INVITE = (
    "INVITE sip:7000@127.0.0.1:{agent} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKnat1;rport\r\n"
    "From: <sip:555@127.0.0.1>;tag=raw1\r\nTo: <sip:7000@127.0.0.1>\r\nCall-ID: nat-test-1\r\nCSeq: 1 INVITE\r\n"
    "Contact: <sip:555@127.0.0.1:{port}>\r\nContent-Type: application/sdp\r\nContent-Length: {length}\r\n\r\n{sdp}")
RAW_SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {rtp} RTP/AVP 0\r\n"


def test_external_address_is_advertised_for_nat(make_agent):
    inbox = Inbox()
    agent = make_agent(inbox, external_host="203.0.113.10", external_port=5099)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.bind(("127.0.0.1", 0))
        raw.settimeout(3)
        port = raw.getsockname()[1]
        body = RAW_SDP.format(rtp=port + 2)
        raw.sendto(RAW_INVITE.format(agent=agent.port, port=port, length=len(body), sdp=body).encode(),
                   ("127.0.0.1", agent.port))
        reply = raw.recv(65535)
        while not reply.startswith(b"SIP/2.0 200"):
            reply = raw.recv(65535)
        assert b"Contact: <sip:7000@203.0.113.10:5099>" in reply
        assert b"c=IN IP4 203.0.113.10" in reply and b"o=Callbox " in reply
        assert b"rport=%d;received=127.0.0.1" % port not in reply  # same host: no received= needed
        assert b";rport=%d" % port in reply
        outbound = agent.place_call(f"sip:100@127.0.0.1:{port}")
        invite = raw.recv(65535)
        while not invite.startswith(b"INVITE"):
            invite = raw.recv(65535)
        assert b"Via: SIP/2.0/UDP 203.0.113.10:5099;" in invite and b"@203.0.113.10:5099>" in invite
        assert b"c=IN IP4 203.0.113.10" in invite and b"m=audio " in invite and b" RTP/AVP 0 8 101" in invite
        outbound.hangup()
    inbound = inbox.next()
    assert wait_until(lambda: inbound.state is CallState.ANSWERED, 2) and inbox.answered == [True]


def test_invite_requiring_an_unsupported_extension_gets_420(make_agent):
    inbox = Inbox()
    agent = make_agent(inbox)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.bind(("127.0.0.1", 0))
        raw.settimeout(3)
        port = raw.getsockname()[1]
        body = RAW_SDP.format(rtp=port + 2)
        invite = RAW_INVITE.format(agent=agent.port, port=port, length=len(body), sdp=body)
        raw.sendto(invite.replace("CSeq: 1 INVITE\r\n", "CSeq: 1 INVITE\r\nRequire: 100rel\r\n").encode(),
                   ("127.0.0.1", agent.port))
        reply = raw.recv(65535)
    assert reply.startswith(b"SIP/2.0 420 ") and b"Unsupported: 100rel" in reply
    assert inbox.calls.empty()
