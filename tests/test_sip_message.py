"""Parsing, building, digest and SDP: the pure parts of voice.sip, including inputs stock pyVoIP chokes on."""
from __future__ import annotations

import pytest

from voice.sip import builder, digest, sdp
from voice.sip.dialog import Dialog
from voice.sip.message import SipMessage, SipParseError, parse_message
from voice.sip.pyvoip import SIPMessage

INVITE = (
    "INVITE sip:7000@10.0.0.5:5060 SIP/2.0\r\n"
    "v: SIP/2.0/UDP 10.0.0.9:5070;branch=z9hG4bKa1;rport, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKb2\r\n"
    "f: \"Alice, Inc\" <sips:alice@pbx.example>;tag=ft1;x=1\r\n"
    "t: <tel:+15551234>\r\n"
    "i: abc@host\r\n"
    "CSEQ: 7 INVITE\r\n"
    "m: <sip:alice@10.0.0.9:5070>\r\n"
    "Record-Route: <sip:p1.example;lr>, <sip:p2.example;lr>\r\n"
    "Subject: a folded\r\n  header line\r\n"
    "c: application/sdp\r\n"
    "l: {length}\r\n\r\n{body}"
)
SDP = ("v=0\no=- 1 1 IN IP4 10.0.0.9\ns=-\nc=IN IP4 10.0.0.9\nt=0 0\n"
       "m=audio 4000 RTP/AVP 18 8 0 96\na=rtpmap:96 telephone-event/8000\na=fmtp:96 0-15\n"
       "a=rtpmap:120 opus/48000/2\n\r\n\r\nnot sdp after a blank line")


def invite(body: str = SDP) -> bytes:
    return INVITE.format(length=len(body.encode()), body=body).encode()


def test_parses_compact_folded_multi_value_headers_that_stock_pyvoip_cannot():
    with pytest.raises(Exception):
        SIPMessage(invite())  # stock parser: compact forms, a body with a blank line
    msg = parse_message(invite(), ("10.0.0.99", 5070))
    assert msg.method == "INVITE" and msg.call_id == "abc@host" and msg.cseq == (7, "INVITE")
    assert [v["address"] for v in msg.headers["Via"]] == [("10.0.0.9", "5070"), ("10.0.0.1", "5060")]
    assert msg.branch == "z9hG4bKa1"
    assert msg.headers["From"]["tag"] == "ft1" and msg.headers["From"]["caller"] == "Alice, Inc"
    assert msg.headers["To"]["number"] == "+15551234" and msg.headers["To"]["tag"] == ""
    assert msg.header("Subject") == "a folded header line"
    assert msg.header_values("Record-Route") == ["<sip:p1.example;lr>", "<sip:p2.example;lr>"]
    offer = sdp.parse_offer(msg)
    assert offer.host == "10.0.0.9" and offer.port == 4000
    assert offer.formats == ((18, "PT18"), (8, "PCMA"), (0, "PCMU"), (96, "TELEPHONE-EVENT"))


@pytest.mark.parametrize("data", [
    b"", b"\r\n\r\n", b"GARBAGE\r\n\r\n", b"INVITE  SIP/2.0\r\n\r\n", b"INVITE sip:x SIP/9.9\r\n\r\n",
    b"INVITE sip:x SIP/2.0\r\nNoColonHere\r\n\r\n", b"SIP/2.0 200 OK\r\nContent-Length: x\r\n\r\n",
    b"INVITE sip:x SIP/2.0\r\nCSeq: 1\r\n\r\n", b"INVITE sip:x SIP/2.0\r\nFrom: <>\r\n\r\n",
    b"\xff\xfe\r\n\r\n", b"A" * 70000,
])
def test_malformed_input_raises_parse_error_only(data):
    with pytest.raises(SipParseError):
        parse_message(data)


def test_response_copies_vias_and_adds_rport_and_received():
    msg = parse_message(invite(), ("192.0.2.7", 40000))
    out = parse_message(builder.build_response(msg, 180, to_tag="tt9"))
    top = out.headers["Via"][0]
    assert top["rport"] == "40000" and top["received"] == "192.0.2.7" and top["branch"] == "z9hG4bKa1"
    assert len(out.headers["Via"]) == 2 and out.headers["To"]["tag"] == "tt9"
    assert out.header_values("Record-Route") == msg.header_values("Record-Route")
    assert out.status_code == 180 and out.reason == "Ringing"


def test_ack_for_2xx_keeps_the_dialog_and_goes_to_the_remote_target():
    dialog = Dialog("cid@x", "ourtag", "", "<sip:1001@pbx>", "<sip:100@pbx>", "sip:100@pbx", "<sip:1001@me:5060>",
                    peer=("10.0.0.5", 5060))
    ok = parse_message(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP me:5060;branch=z9hG4bKq\r\nFrom: <sip:1001@pbx>;tag=ourtag\r\n"
                       b"To: <sip:100@pbx>;tag=theirtag\r\nCall-ID: cid@x\r\nCSeq: 5 INVITE\r\n"
                       b"Contact: <sip:100@10.0.0.8:5080>\r\nRecord-Route: <sip:p2;lr>, <sip:p1;lr>\r\n\r\n")
    dialog.confirm(ok)
    ack = parse_message(dialog.request("ACK", "me:5060", seq=5)[0])
    assert ack.uri == "sip:100@10.0.0.8:5080" and ack.cseq == (5, "ACK") and ack.call_id == "cid@x"
    assert ack.headers["From"]["tag"] == "ourtag" and ack.headers["To"]["tag"] == "theirtag"
    assert ack.header_values("Route") == ["<sip:p1;lr>", "<sip:p2;lr>"]
    assert dialog.destination() == ("p1", 5060)


def test_negotiation_picks_the_first_offered_g711_and_the_offered_event_type():
    offer = sdp.parse_offer(parse_message(invite(), ("10.0.0.9", 5070)))
    chosen = sdp.negotiate(offer, ("PCMU", "PCMA"))
    assert (chosen.payload_type, chosen.codec, chosen.dtmf_payload_type) == (8, "PCMA", 96)
    assert sdp.negotiate(offer, ("G722",)) is None
    body = sdp.build_sdp("203.0.113.4", 20000, [(8, "PCMA")], 96, 42)
    assert b"c=IN IP4 203.0.113.4" in body and b"m=audio 20000 RTP/AVP 8 96" in body


@pytest.mark.parametrize("mline", ["m=audio 4000 RTP/SAVP 0", "m=audio 0 RTP/AVP 0", "m=audio 4000 RTP/AVP 9"])
def test_offers_we_cannot_serve_negotiate_to_nothing(mline):
    body = f"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n{mline}\r\n"
    offer = sdp.parse_offer(parse_message(invite(body)))
    assert sdp.negotiate(offer, ("PCMU", "PCMA")) is None


def test_digest_matches_the_rfc_examples():
    md5 = digest.Challenge("testrealm@host.com", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "MD5", ("auth",))
    assert digest.digest_response(md5, "GET", "/dir/index.html", "Mufasa", "Circle Of Life", "0a4f113b") == \
        "6629fae49393a05397450978507c4ef1"  # RFC 2617 §3.5
    sha = digest.Challenge("http-auth@example.org", "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "SHA-256", ("auth",))
    assert digest.digest_response(sha, "GET", "/dir/index.html", "Mufasa", "Circle of Life",
                                  "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ") == \
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"  # RFC 7616 §3.9.1


def test_challenge_parsing_and_refusals():
    ch = digest.parse_challenge('Digest realm="r, with comma", nonce="n", qop="auth,auth-int", opaque="o", stale=TRUE',
                                proxy=True)
    assert (ch.realm, ch.qop, ch.opaque, ch.stale, ch.response_header) == \
        ("r, with comma", ("auth", "auth-int"), "o", True, "Proxy-Authorization")
    value = digest.authorization(ch, "INVITE", "sip:100@pbx", "1001", "pw")
    assert 'uri="sip:100@pbx"' in value and "qop=auth" in value and 'opaque="o"' in value
    for bad in ('Basic realm="x"', 'Digest realm="x"', 'Digest realm="x", nonce="n", algorithm=SHA-512-256',
                'Digest realm="x", nonce="n", qop="auth-int"'):
        with pytest.raises(digest.DigestError):
            digest.parse_challenge(bad)


def test_sip_message_is_a_pyvoip_message():
    msg = parse_message(invite())
    assert isinstance(msg, SIPMessage) and isinstance(msg, SipMessage)
    assert msg.body["m"][0]["attributes"]["96"]["rtpmap"]["name"] == "telephone-event"


def test_settings_from_the_voice_config_section_and_validation():
    from appliance.config import VoiceConfig
    from voice.sip import SipAccount, SipSettings, settings_from_config

    settings = settings_from_config(VoiceConfig(sip_port=5070))
    assert settings.bind_port == 5070 and settings.allowlist == ("127.0.0.0/8", "::1/128")
    assert settings.allowed_networks[0].num_addresses == 2 ** 24
    with pytest.raises(ValueError):
        SipSettings(allowlist=("not-a-network",))
    with pytest.raises(ValueError):
        SipAccount(number="1", server="pbx", username="u", transport="tls")
    assert "secret" not in repr(SipAccount(number="1", server="pbx", username="u", password="secret"))
