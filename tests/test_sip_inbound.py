"""Inbound calls from SIPp on loopback: answered with audio both ways, BYE from either side, CANCEL, re-INVITE."""
from __future__ import annotations

import os

import numpy as np
import pytest

from tests.sipp.harness import Inbox, make_agent, needs_sipp, sipp, wait_until  # noqa: F401 (fixtures)
from tests.sipp.pcap import dtmf_pcap, tone_pcap
from voice.sip import CallState, Direction, EndReason

pytestmark = needs_sipp
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="SIPp plays pcaps through a raw socket (root only)")


def dominant_hz(pcm: bytes, rate: int = 8000) -> float:
    """Frequency of the strongest spectral peak of 16-bit PCM."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum[1:]) + 1) * rate / len(samples)


def read_audio(call, seconds: float) -> bytes:
    """Read ``seconds`` of received audio (non-silent frames only)."""
    frames = []
    for _ in range(int(seconds * 50)):
        frame = call.media.read_frame(timeout=0.5)
        if frame and np.abs(np.frombuffer(frame, "<i2")).max() > 500:
            frames.append(frame)
    return b"".join(frames)


def tone(freq: float, seconds: float) -> bytes:
    t = np.arange(int(8000 * seconds)) / 8000
    return (8000 * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()


def test_inbound_call_answered_with_audio_both_ways(make_agent, sipp):
    heard = {}

    def talk(call):
        call.media.write(tone(1000, 2.0))
        heard["pcm"] = read_audio(call, 2.0)

    inbox = Inbox(then=talk)
    agent = make_agent(inbox)
    peer = sipp("uac_call.xml", remote=f"127.0.0.1:{agent.port}", rtp_echo=True, service="7000",
                extra=("-d", "3000")).start()
    call = inbox.next()
    assert peer.wait() == 0, peer.transcript()
    assert call.direction is Direction.INBOUND and call.dialed_number == "7000" and call.remote_number == "5551234"
    assert inbox.answered == [True] and not inbox.errors
    assert wait_until(lambda: call.state is CallState.ENDED, 3)
    assert call.ended_reason == EndReason.REMOTE_BYE
    assert len(heard["pcm"]) > 8000, "the echoed audio did not come back"
    assert abs(dominant_hz(heard["pcm"]) - 1000) < 20  # our tone went out as PCMU and came back intact


@needs_root
def test_inbound_audio_from_pcap_is_received_as_16_bit_pcm(make_agent, sipp, tmp_path):
    heard = {}
    inbox = Inbox(then=lambda call: heard.setdefault("pcm", read_audio(call, 2.0)))
    agent = make_agent(inbox)
    pcap = tone_pcap(tmp_path / "tone.pcap", freq=440.0, seconds=1.0)
    peer = sipp("uac_pcap.xml", {"@PCAP@": str(pcap)}, remote=f"127.0.0.1:{agent.port}", extra=("-d", "2500"))
    peer.start()
    call = inbox.next()
    assert peer.wait() == 0, peer.transcript()
    assert wait_until(lambda: "pcm" in heard, 5)
    assert len(heard["pcm"]) >= 0.8 * 16000  # most of the second of tone arrived
    assert abs(dominant_hz(heard["pcm"]) - 440) < 10
    assert wait_until(lambda: call.ended_reason == EndReason.REMOTE_BYE, 3)


@needs_root
def test_rfc2833_dtmf_from_the_caller_reaches_on_dtmf(make_agent, sipp, tmp_path):
    digits: list[str] = []

    def listen(call):
        call.on_dtmf = digits.append

    agent = make_agent(Inbox(then=listen))
    pcap = dtmf_pcap(tmp_path / "dtmf.pcap", "159#")
    peer = sipp("uac_pcap.xml", {"@PCAP@": str(pcap)}, remote=f"127.0.0.1:{agent.port}", extra=("-d", "2000"))
    peer.start()
    assert peer.wait() == 0, peer.transcript()
    assert wait_until(lambda: len(digits) >= 4, 3)
    assert "".join(digits) == "159#"


def test_dtmf_sent_by_us_travels_as_rfc2833_and_comes_back(make_agent, sipp):
    digits: list[str] = []

    def press(call):
        call.on_dtmf = digits.append
        call.media.send_dtmf("42*")

    agent = make_agent(Inbox(then=press))
    peer = sipp("uac_call.xml", remote=f"127.0.0.1:{agent.port}", rtp_echo=True, extra=("-d", "2000")).start()
    assert peer.wait() == 0, peer.transcript()
    assert wait_until(lambda: len(digits) >= 3, 2)
    assert "".join(digits) == "42*"


def test_agent_hangs_up_with_bye(make_agent, sipp):
    inbox = Inbox(then=lambda call: call.hangup())
    agent = make_agent(inbox)
    peer = sipp("uac_wait_bye.xml", remote=f"127.0.0.1:{agent.port}").start()
    assert peer.wait() == 0, peer.transcript()
    call = inbox.next()
    assert agent.get_call(call.call_id) is call and agent.calls() == []
    assert call.state is CallState.ENDED and call.ended_reason == EndReason.LOCAL_HANGUP


def test_cancel_before_answer_ends_the_ringing_call(make_agent, sipp):
    inbox = Inbox(answer=False)
    agent = make_agent(inbox)
    peer = sipp("uac_cancel.xml", remote=f"127.0.0.1:{agent.port}").start()
    call = inbox.next()
    assert peer.wait() == 0, peer.transcript()
    assert wait_until(lambda: call.state is CallState.ENDED, 2)
    assert call.ended_reason == EndReason.CANCELLED and call.status_code == 487
    assert call.answer() is False  # too late: answering a cancelled call is refused, not an error


def test_reinvite_update_and_in_dialog_options_keep_the_call(make_agent, sipp):
    inbox = Inbox()
    agent = make_agent(inbox)
    peer = sipp("uac_reinvite.xml", remote=f"127.0.0.1:{agent.port}").start()
    call = inbox.next()
    assert peer.wait() == 0, peer.transcript()
    assert wait_until(lambda: call.ended_reason == EndReason.REMOTE_BYE, 2)


def test_sip_info_dtmf_reaches_on_dtmf(make_agent, sipp):
    digits: list[str] = []
    agent = make_agent(Inbox(then=lambda call: setattr(call, "on_dtmf", digits.append)))
    peer = sipp("uac_info_dtmf.xml", remote=f"127.0.0.1:{agent.port}").start()
    assert peer.wait() == 0, peer.transcript()
    assert wait_until(lambda: digits == ["7"], 2)
