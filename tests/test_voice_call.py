"""A real call end to end: a SIP caller on loopback asks the demo assistant a question and hears the answer.

The caller is our SIP stack with an instrumented RTP endpoint (``tests.voice_caller``); the agent is the real
``VoiceService`` with the real engines (PocketSphinx, Piper), the real database and the real dialog engine.
"""
from __future__ import annotations

import re
import time

import pytest

from appliance.brain_demo import DEMO_NUMBER
from appliance.datadir import open_database
from appliance.demo import seed_demo
from data.db import database
from jobs.queue import bind_queues
from tests.sipp.harness import needs_sipp
from tests.voice_caller import SPEECH_DBFS, Caller, level_dbfs
from tests.voice_env import (AGENT_SIP, QUESTION, answer_always, events_of, record_of, segments_of, speech,
                             wait_finished, wav_channels)
from voice.engines import build_engines
from voice.service import VoiceService
from voice.session import SessionSettings
from voice.sip import SipSettings

pytestmark = pytest.mark.slow

HOURS_WORDS = re.compile(r"\b(monday|friday|saturday|sunday|open|eight|nine)\b")


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    from tests.conftest import make_config

    built = build_engines(make_config(tmp_path_factory.mktemp("engines")))
    yield built
    built.close()


@pytest.fixture
def make_service(config, engines):
    """``make_service(sip=..., session=...)``: the demo workspace behind a started voice agent."""
    open_database(config)
    bind_queues(config)
    seed_demo(config)
    answer_always(config)
    started = []

    def build(sip: dict | None = None, **session) -> VoiceService:
        settings = SessionSettings(**{"end_of_turn_ms": 500, **session})
        service = VoiceService(config, engines, sip=SipSettings(**{**AGENT_SIP, **(sip or {})}),
                               session=settings).start()
        started.append(service)
        return service

    yield build
    for service in started:
        service.stop()
    database.close()


@pytest.fixture
def caller():
    phone = Caller()
    yield phone
    phone.stop()


def _greeting(probe, timeout: float = 20.0) -> tuple[float, float]:
    span = probe.wait_speech_end(0.0, timeout, quiet=0.8)
    assert span is not None, "no greeting heard"
    return span


def _ask(probe, engines, text: str) -> float:
    """Say ``text``; returns when its last frame was sent."""
    count = len(probe.sent_speech)
    probe.play(speech(engines, text))
    deadline = time.monotonic() + 15
    while len(probe.sent_speech) == count and time.monotonic() < deadline:
        time.sleep(0.02)
    return probe.sent_speech[-1][1]


def _hear(probe, engines, since: float, timeout: float = 25.0) -> tuple[str, tuple[float, float]]:
    span = probe.wait_speech_end(since, timeout, quiet=1.2)
    assert span is not None, "no reply heard"
    audio = probe.audio(span[0] - 0.1, span[1] + 0.1)
    return engines.recognizer("en").transcribe(audio, 8000).text.lower(), span


def test_caller_asks_the_hours_and_hears_them(make_service, caller, engines, config):
    service = make_service()
    call = caller.call(DEMO_NUMBER, service.sip.port)
    probe = call.media
    _greeting(probe)
    ended = _ask(probe, engines, QUESTION)
    heard, span = _hear(probe, engines, ended)
    if re.search(r"\b(understood|asking|mean)\b", heard):  # the assistant checked what we meant: confirm
        ended = _ask(probe, engines, "Yes.")
        heard, span = _hear(probe, engines, ended)
    assert HOURS_WORDS.search(heard), heard
    latency = span[0] - ended
    assert latency < 2.5, f"reply started {latency:.2f} s after the question ended"
    call.hangup()
    wait_finished(service)

    record = record_of(call.call_id)
    assert record.status == "completed" and record.direction == "inbound"
    assert record.ended_reason == "remote_hangup" and record.handled_by == "AI"
    kinds = [kind for kind, _ in events_of(record.id)]
    for wanted in ("started", "answered", "turn", "ended"):
        assert wanted in kinds, kinds
    turns = [data for kind, data in events_of(record.id) if kind == "turn"]
    assert "Monday" in turns[-1]["reply"] and turns[-1]["knowledgeId"]
    assert all(t["responseMs"] > t["endpointMs"] and t["asrMs"] > 0 and t["caller"] for t in turns), turns
    speakers = [speaker for speaker, _ in segments_of(record.id)]
    assert speakers[0] == "AI" and "CALLER" in speakers
    assert record.recording_path, "no recording"
    channels, seconds = wav_channels(config.recordings_dir / record.recording_path)
    assert channels == 2 and seconds > 3


def _last_loud(probe, start: float, end: float) -> float:
    """Arrival time of the last packet of agent speech between two times (``start`` when there is none)."""
    return max((r.at for r in list(probe.received) if start <= r.at <= end and r.dbfs >= SPEECH_DBFS),
               default=start)


def test_barge_in_stops_the_greeting_at_once(make_service, caller, engines):
    service = make_service()
    call = caller.call(DEMO_NUMBER, service.sip.port)
    probe = call.media
    deadline = time.monotonic() + 10
    while not probe.speech_spans() and time.monotonic() < deadline:
        time.sleep(0.02)
    first = probe.speech_spans()[0][0]
    time.sleep(max(0.0, first + 1.0 - time.monotonic()))
    question = speech(engines, QUESTION)
    voiced = next(i for i in range(0, len(question), 320) if level_dbfs(question[i:i + 320]) >= SPEECH_DBFS)
    spoke = time.monotonic() + voiced / 16000  # when our first voiced frame goes out (next 20 ms tick at most)
    probe.play(question)
    time.sleep(1.0)
    stopped = _last_loud(probe, spoke - 0.5, spoke + 1.0)
    assert _last_loud(probe, spoke - 0.3, spoke) > spoke - 0.1, "the greeting was not playing when we spoke"
    # The target is 200 ms (measured p50 ~180 ms here, see bench/voice.py); one sample on a shared machine gets
    # 50 ms of slack so that the test fails on a broken barge-in (seconds), not on scheduling noise.
    assert stopped - spoke < 0.25, f"the prompt went on {1000 * (stopped - spoke):.0f} ms after we spoke"
    ended = _ask(probe, engines, "")  # wait for the question to be sent
    heard, _ = _hear(probe, engines, ended)
    assert "bright smile" not in heard and "sophie" not in heard, f"greeting replayed: {heard}"
    call.hangup()
    wait_finished(service)
    kinds = [kind for kind, _ in events_of(record_of(call.call_id).id)]
    assert "barge_in" in kinds


def test_own_echo_does_not_interrupt(make_service, caller):
    service = make_service()
    call = caller.call(DEMO_NUMBER, service.sip.port)
    call.media.echo_gain = 0.1  # our prompt comes back 20 dB down, as on a real line
    span = _greeting(call.media)
    assert span[1] - span[0] > 3.0, "the greeting was cut short by its own echo"
    call.hangup()
    wait_finished(service)
    assert "barge_in" not in [kind for kind, _ in events_of(record_of(call.call_id).id)]


def test_silent_caller_is_prompted_then_hung_up(make_service, caller):
    service = make_service(no_input_seconds=2.0)
    call = caller.call(DEMO_NUMBER, service.sip.port)
    assert call.wait_ended(40), "the agent never hung up on a silent caller"
    wait_finished(service)
    record = record_of(call.call_id)
    assert record.ended_reason == "no_input" and record.outcome == "MISSED"
    no_input = [data for kind, data in events_of(record.id) if kind == "no_input"]
    assert [d["count"] for d in no_input] == [1, 2]


@needs_sipp
def test_calls_above_the_limit_get_486(make_service, caller, sipp):
    service = make_service(sip={"max_calls": 1})
    call = caller.call(DEMO_NUMBER, service.sip.port)
    peer = sipp("uac_busy.xml", remote=f"127.0.0.1:{service.sip.port}", service=DEMO_NUMBER, timeout=10).start()
    assert peer.wait() == 0, peer.transcript()
    call.hangup()
    wait_finished(service)


def test_dtmf_zero_asks_for_a_person(make_service, caller):
    service = make_service()
    call = caller.call(DEMO_NUMBER, service.sip.port)
    _greeting(call.media)
    call.media.send_dtmf("0")
    deadline = time.monotonic() + 20
    record = record_of(call.call_id)
    while time.monotonic() < deadline:
        service.writer.flush(5)
        kinds = [kind for kind, _ in events_of(record.id)]
        if "transfer" in kinds or "transfer_failed" in kinds:
            break
        time.sleep(0.2)
    events = events_of(record.id)
    assert [d["digit"] for k, d in events if k == "dtmf"] == ["0"]
    transfer = [d for k, d in events if k == "transfer"]
    assert transfer and transfer[0]["to"] == "sip:frontdesk@pbx.local" and transfer[0]["reason"] == "request"
    call.hangup()
    wait_finished(service)
