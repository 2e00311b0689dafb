"""Shared set-up of the voice tests: the demo workspace answering on a loopback voice agent, and call records."""
from __future__ import annotations

import time
import wave
from pathlib import Path

from appliance import phone_numbers
from appliance.brain_demo import DEMO_NUMBER
from appliance.security import SecretBox
from data.ai import PhoneNumber
from data.calls import Call as CallRecord, CallEvent, TranscriptSegment
from data.db import database
from voice.media.resample import resample

AGENT_SIP = dict(bind_host="127.0.0.1", bind_port=0, rtp_port_min=30000, rtp_port_max=39998, t1_seconds=0.1,
                 keepalive_seconds=0.0, register_retry_seconds=1.0, max_calls=8)
QUESTION = "What are your opening hours?"


def answer_always(config, number: str = DEMO_NUMBER) -> PhoneNumber:
    """Make the demo number answer with its assistant at any hour and register nowhere (trunk mode)."""
    with database.connection_context():
        row = PhoneNumber.get(PhoneNumber.number == number)
        phone_numbers.update(row, {"businessHours": {"monday": {"open": "09:00", "close": "17:00"}},
                                   "afterHoursAction": "assistant", "sip": {"server": None, "username": None}},
                             SecretBox(config.secret_key()))
        return row


def speech(engines, text: str) -> bytes:
    """``text`` spoken by the Piper voice, at 8 kHz, with a little silence before it (like a person)."""
    voice = engines.voice("en")
    pcm, rate = voice.synthesize(text)
    return bytes(1600) + resample(pcm, rate, 8000)


def record_of(sip_call_id: str) -> CallRecord:
    with database.connection_context():
        return CallRecord.get(CallRecord.sip_call_id == sip_call_id)


def events_of(record_id: str) -> list[tuple[str, dict]]:
    with database.connection_context():
        rows = CallEvent.select().where(CallEvent.call == record_id).order_by(CallEvent.created_at)
        return [(r.event_type, r.data) for r in rows]


def segments_of(record_id: str) -> list[tuple[str, str]]:
    with database.connection_context():
        rows = TranscriptSegment.select().where(TranscriptSegment.call == record_id).order_by(
            TranscriptSegment.start_seconds)
        return [(r.speaker, r.text) for r in rows]


def wait_finished(service, timeout: float = 20.0) -> None:
    """Wait until no session is live and the writer has written everything."""
    deadline = time.monotonic() + timeout
    while service.sessions() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not service.sessions(), "call sessions still running"
    assert service.writer.flush(10)


def wav_channels(path: Path) -> tuple[int, float]:
    with wave.open(str(path)) as wav:
        return wav.getnchannels(), wav.getnframes() / wav.getframerate()
