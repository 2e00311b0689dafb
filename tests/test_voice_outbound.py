"""Outbound calls with answering-machine detection: a person gets the assistant, a machine gets a message."""
from __future__ import annotations

import time

import pytest

from appliance import calls
from appliance.brain_demo import DEMO_NUMBER
from data.ai import PhoneNumber
from data.db import database
from tests.test_voice_call import engines, make_service  # noqa: F401  (fixtures)
from tests.voice_caller import probe_factory
from tests.voice_env import events_of, speech, wait_finished
from voice.amd import AmdDetector, AmdResult, AmdSettings
from voice.sip import SipAgent, SipSettings

MACHINE_GREETING = ("Hi, you have reached Dana Whitfield. I can't take your call right now. "
                    "Please leave your name and number after the tone and I will get back to you.")


def _frames(pcm: bytes):
    return [pcm[i:i + 320] for i in range(0, len(pcm) - 319, 320)]


def test_detector_tells_a_person_from_a_machine(engines):  # noqa: F811
    silence = bytes(320)
    person = AmdDetector()
    hello = speech(engines, "Hello?") + bytes(320 * 60)
    decisions = [d for d in map(person.feed, _frames(hello)) if d]
    assert decisions and decisions[0].result is AmdResult.HUMAN, decisions

    machine = AmdDetector()
    decisions = [d for d in map(machine.feed, _frames(speech(engines, MACHINE_GREETING))) if d]
    assert decisions[0].result is AmdResult.MACHINE and decisions[0].reason in ("long_greeting", "max_words")

    mute = AmdDetector(AmdSettings(initial_silence_ms=1000))
    decisions = [d for d in map(mute.feed, [silence] * 60) if d]
    assert decisions[0].result is AmdResult.MACHINE and decisions[0].reason == "initial_silence"
    with pytest.raises(ValueError):
        AmdSettings(greeting_ms=0)


@pytest.fixture
def callee():
    """A phone on loopback that answers and says ``callee.greeting`` (set by the test)."""
    state = {"greeting": b"", "calls": []}

    def answer(call):
        state["calls"].append(call)
        if call.answer():
            call.media.play(state["greeting"])

    agent = SipAgent(SipSettings(bind_host="127.0.0.1", bind_port=0, rtp_port_min=41000, rtp_port_max=41998,
                                 t1_seconds=0.1, keepalive_seconds=0.0), answer, media_factory=probe_factory).start()
    agent.state = state
    yield agent
    agent.stop()


def _dial(service, callee) -> str:
    with database.connection_context():
        number = PhoneNumber.get(PhoneNumber.number == DEMO_NUMBER)
        record_id = calls.start_call(number.organization_id, direction="outbound", from_number=DEMO_NUMBER,
                                     to_number="dana", phone_number_id=number.id)
    assert service.originate(record_id, number.organization_id, f"sip:dana@127.0.0.1:{callee.port}",
                             phone_number_id=number.id) == "dialing"
    return record_id


def _record(record_id: str):
    from data.calls import Call

    with database.connection_context():
        return Call.get_by_id(record_id)


@pytest.mark.slow
def test_machine_gets_a_voicemail_message(make_service, callee, engines):  # noqa: F811
    callee.state["greeting"] = speech(engines, MACHINE_GREETING)
    service = make_service()
    record_id = _dial(service, callee)
    callee_call = None
    for _ in range(200):
        if callee.state["calls"]:
            callee_call = callee.state["calls"][0]
            break
        time.sleep(0.05)
    assert callee_call is not None and callee_call.wait_ended(60), "the agent did not hang up on the machine"
    wait_finished(service)
    record = _record(record_id)
    assert record.outcome == "VOICEMAIL" and record.ended_reason == "voicemail", record.ended_reason
    amd = [d for k, d in events_of(record_id) if k == "amd"]
    assert amd and amd[0]["result"] == "machine"
    heard = set(engines.recognizer("en").transcribe(callee_call.media.audio(), 8000).text.lower().split())
    # The message's content words; recognition of one phrase may slip, so several of them must be heard.
    message_words = {"tried", "reach", "again", "later", "call", "back", "time", "goodbye", "smile", "dental"}
    assert len(heard & message_words) >= 3, heard


@pytest.mark.slow
def test_person_gets_the_assistant(make_service, callee, engines):  # noqa: F811
    callee.state["greeting"] = speech(engines, "Hello?")
    service = make_service()
    record_id = _dial(service, callee)
    for _ in range(200):
        if callee.state["calls"]:
            break
        time.sleep(0.05)
    callee_call = callee.state["calls"][0]
    assert callee_call.wait_answered(10)
    span = callee_call.media.wait_speech_end(0.0, 25, quiet=0.8)
    assert span is not None
    heard = engines.recognizer("en").transcribe(callee_call.media.audio(span[0] - 0.1, span[1] + 0.1), 8000).text
    assert "sophie" in heard.lower() or "calling" in heard.lower() or "help" in heard.lower(), heard
    callee_call.hangup()
    wait_finished(service)
    amd = [d for k, d in events_of(record_id) if k == "amd"]
    assert amd and amd[0]["result"] == "human"
    assert _record(record_id).status == "completed"
