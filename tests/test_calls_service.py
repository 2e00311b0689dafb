"""The call records service as the voice agent drives it: lifecycle, outbox events, post-call analysis (real Huey in
immediate mode), live view, concurrency, recordings, and E.164 numbers."""
from __future__ import annotations

import datetime as dt
import wave

import pytest

from appliance import calls, calls_list, calls_query, calls_recording, phone
from appliance.errors import NotFound, UnsupportedMediaType, ValidationError
from appliance.security import SecretBox
from appliance.settings import update_settings
from data.ai import Event
from data.base import utcnow
from data.calls import Call, CallEvent
from data.db import database
from jobs import analysis

CONVERSATION = [
    ("AI", "Hello, thanks for calling Bright Smile Dental. How can I help you today?", 0.0, 3.5, None),
    ("CALLER", "Hi, I would like to book a cleaning next Saturday. My name is Jane Smith.", 4.0, 8.0, 0.91),
    ("AI", "You're all set for Saturday at eleven a.m. We'll see you then!", 8.5, 11.0, None),
    ("CALLER", "Wonderful, thank you so much. Bye!", 11.5, 13.0, 0.88),
]


@pytest.fixture
def org(app, make_account):
    account = make_account()
    with database.connection_context():
        yield account.org_id


def outbox(org_id: str) -> list[str]:
    return [e.event for e in Event.select().where(Event.organization == org_id).order_by(Event.created_at, Event.id)]


def timeline(call_id: str) -> list[str]:
    return [e.event_type for e in CallEvent.select().where(CallEvent.call == call_id)
            .order_by(CallEvent.created_at, CallEvent.id)]


def write_wav(path, seconds: float = 2.0, rate: int = 8000, channels: int = 2) -> None:
    frames = int(seconds * rate)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\x01\x00" * frames * channels)


def test_a_whole_call_ends_analysed_with_events_in_the_outbox(org):
    call_id = calls.start_call(org, direction="inbound", from_number="(212) 555-0123", to_number="+1 212 555 0142",
                               assistant_id="asst_x", sip_call_id="abc@pbx", language="en")
    call = Call.get_by_id(call_id)
    assert call_id.startswith("call_") and call.status == "active" and call.is_live
    assert (call.from_number, call.to_number) == ("+12125550123", "+12125550142")
    calls.mark_answered(call_id)
    calls.mark_answered(call_id)  # repeating is harmless
    for speaker, text, start, end, confidence in CONVERSATION:
        calls.add_segment(call_id, speaker, text, start, end, confidence)
    calls.add_event(call_id, "intent", {"intent": "appointment_booking"})
    calls.update_live(call_id, current_transcript="bye", ai_confidence=0.87)
    calls.finish_call(call_id, status="completed", ended_reason="caller_hangup")

    call = Call.get_by_id(call_id)
    assert call.status == "completed" and call.ended_at >= call.answered_at >= call.started_at
    assert call.duration_seconds == int((call.ended_at - call.answered_at).total_seconds())
    assert call.ended_reason == "caller_hangup" and call.current_transcript is None
    assert timeline(call_id) == ["started", "answered", "intent", "ended"]
    # post-call analysis ran on the worker queue (immediate mode in tests) and filled what the call did not set
    assert call.analyzed_at is not None and call.outcome == "BOOKING" and call.handled_by == "AI"
    assert call.sentiment == "positive" and call.intent_detected == "appointment_booking"
    assert "booking" in call.topics and call.keywords and call.summary.startswith("Caller:")
    assert call.ai_confidence == 0.87 and call.resolved is True
    assert outbox(org) == ["call.started", "call.answered", "call.ended", "call.transcript.available"]
    ended = Event.get((Event.organization == org) & (Event.event == "call.ended"))
    assert ended.data["callId"] == call_id and ended.data["endedReason"] == "caller_hangup"
    assert ended.data["status"] == "completed" and ended.data["endedAt"].endswith("Z")


def test_analysis_is_idempotent_and_keeps_what_the_call_set(org):
    call_id = calls.start_call(org, direction="inbound", from_number="+12125550123", to_number="1001")
    calls.mark_answered(call_id)
    calls.add_segment(call_id, "CALLER", "This is terrible, I was overcharged and your receptionist was rude.",
                      0, 4, 0.6)
    calls.add_segment(call_id, "AGENT", "Hi, this is Maria from billing, I can fix that for you.", 5, 8, 0.8)
    calls.finish_call(call_id, status="completed", ended_reason="agent_hangup", outcome="OTHER")
    first = Call.get_by_id(call_id)
    assert first.outcome == "OTHER" and first.handled_by == "HUMAN" and first.ai_confidence == 0.7
    assert first.extension == "1001" and first.sentiment == "negative"
    assert analysis.run_analysis(call_id) is True  # delivered again
    again = Call.get_by_id(call_id)
    assert (again.summary, again.sentiment, again.outcome, again.topics) == (
        first.summary, first.sentiment, first.outcome, first.topics)
    assert outbox(org).count("call.transcript.available") == 1
    assert analysis.run_analysis("call_doesnotexist") is False


def test_missed_call_and_finishing_twice(org):
    call_id = calls.start_call(org, direction="outbound", from_number="+12125550142", to_number="+12125550188")
    calls.finish_call(call_id, status="no_answer", ended_reason="timeout")
    calls.finish_call(call_id, status="completed", ended_reason="again")  # ignored: already finished
    call = Call.get_by_id(call_id)
    assert (call.status, call.ended_reason, call.duration_seconds, call.outcome) == ("no_answer", "timeout", 0,
                                                                                      "MISSED")
    assert outbox(org).count("call.ended") == 1 and "call.transcript.available" not in outbox(org)
    assert call.summary == "No conversation took place."


def test_transfer_event_tells_webhooks(org):
    call_id = calls.start_call(org, direction="inbound", from_number="+12125550123", to_number="+12125550142")
    calls.add_event(call_id, "transferred", {"to": "1002"})
    assert "call.transferred" in outbox(org)
    transferred = Event.get((Event.organization == org) & (Event.event == "call.transferred"))
    assert transferred.data["transfer"] == {"to": "1002"}


@pytest.mark.parametrize("action, error", [
    (lambda org, cid: calls.start_call(org, direction="sideways", from_number="1", to_number="2"), ValidationError),
    (lambda org, cid: calls.add_segment(cid, "ROBOT", "hi", 0, 1), ValidationError),
    (lambda org, cid: calls.add_segment(cid, "AI", "   ", 0, 1), ValidationError),
    (lambda org, cid: calls.add_segment(cid, "AI", "hi", 3, 1), ValidationError),
    (lambda org, cid: calls.add_segment(cid, "AI", "hi", 0, 1, confidence=150), ValidationError),
    (lambda org, cid: calls.add_event(cid, "", {}), ValidationError),
    (lambda org, cid: calls.add_event(cid, "x", ["not", "a", "dict"]), ValidationError),
    (lambda org, cid: calls.finish_call(cid, status="answered", ended_reason="x"), ValidationError),
    (lambda org, cid: calls.finish_call(cid, status="completed", ended_reason="x", outcome="WON"), ValidationError),
    (lambda org, cid: calls.mark_answered("call_unknown"), NotFound),
    (lambda org, cid: calls.add_segment("call_unknown", "AI", "hi", 0, 1), NotFound),
    (lambda org, cid: calls.update_live("call_unknown", current_transcript="x"), NotFound),
    (lambda org, cid: calls.finish_call("call_unknown", status="failed", ended_reason="x"), NotFound),
])
def test_bad_input_is_refused_clearly(org, action, error):
    call_id = calls.start_call(org, direction="inbound", from_number="+12125550123", to_number="+12125550142")
    with pytest.raises(error):
        action(org, call_id)
    assert Call.get_by_id(call_id).status == "active"


def test_numbers_follow_the_workspace_region(org, config):
    update_settings(org, {"defaultRegion": "GB"}, SecretBox(config.secret_key()))
    call_id = calls.start_call(org, direction="inbound", from_number="020 7183 8750",
                               to_number="<sip:1001@10.0.0.1>")
    call = Call.get_by_id(call_id)
    assert (call.from_number, call.to_number, call.extension) == ("+442071838750", "1001", "1001")
    odd = Call.get_by_id(calls.start_call(org, direction="inbound", from_number="", to_number="Unknown"))
    assert (odd.from_number, odd.to_number) == ("anonymous", "Unknown")
    assert phone.to_e164("+49 30 1234567", "US") == "+49301234567"
    with pytest.raises(ValidationError):
        phone.to_e164("call me maybe", "US")


def test_live_calls_show_recent_turns_and_partial_words(org):
    live = calls.start_call(org, direction="inbound", from_number="+12125550123", to_number="+12125550142")
    done = calls.start_call(org, direction="inbound", from_number="+12125550124", to_number="+12125550142")
    calls.finish_call(done, status="completed", ended_reason="hangup")
    for n in range(8):
        calls.add_segment(live, "AI" if n % 2 else "CALLER", f"turn {n}", n, n + 0.5)
    calls.update_live(live, current_transcript="I would like to", ai_confidence=92)
    found = calls.live_calls(org)
    assert [item["call"].id for item in found] == [live]
    transcript = found[0]["currentTranscript"]
    assert [t["text"] for t in transcript] == [f"turn {n}" for n in range(2, 8)] + ["I would like to"]
    assert transcript[-1]["partial"] is True and found[0]["call"].ai_confidence == 0.92
    assert found[0]["durationSeconds"] >= 0


def _call_at(org: str, start: dt.datetime, minutes: float | None) -> None:
    end = start + dt.timedelta(minutes=minutes) if minutes is not None else None
    Call.create(organization=org, direction="inbound", status="completed" if end else "active",
                from_number="+12125550123", to_number="+12125550142", started_at=start, ended_at=end,
                created_at=start, updated_at=start)


def test_concurrency_now_peak_and_series(org, config):
    hour = utcnow().replace(minute=0, second=0, microsecond=0)
    two_back = hour - dt.timedelta(hours=2)
    # two hours back: three calls overlap (10:05-10:35, 10:10-10:20, 10:15-10:50), one later alone (10:40-10:45)
    for offset, length in ((5, 30), (10, 10), (15, 35), (40, 5)):
        _call_at(org, two_back + dt.timedelta(minutes=offset), length)
    long_start = two_back - dt.timedelta(minutes=30)  # started before the series, ends in an hour
    _call_at(org, long_start, (utcnow() + dt.timedelta(hours=1) - long_start).total_seconds() / 60)
    _call_at(org, max(utcnow() - dt.timedelta(seconds=30), hour), None)  # live now, within this hour
    result = calls.concurrency(org)
    assert result == {"current": 1, "peak": 4, "limit": calls_query.DEFAULT_CONCURRENCY_LIMIT}
    series = calls.concurrency_series(org, "hour", 4)
    assert [p["timestamp"] for p in series] == [hour - dt.timedelta(hours=3 - i) for i in range(4)]
    assert [p["count"] for p in series] == [1, 4, 1, 2]
    update_settings(org, {"maxConcurrentCalls": 25}, SecretBox(config.secret_key()))
    assert calls.concurrency(org)["limit"] == 25
    minutes = calls.concurrency_series(org, "minute", 5)
    assert len(minutes) == 5 and minutes[-1]["count"] >= 1
    with pytest.raises(ValidationError):
        calls.concurrency_series(org, "fortnight", 3)


def test_finish_with_a_recording_the_voice_agent_wrote(org, config):
    call_id = calls.start_call(org, direction="inbound", from_number="+12125550123", to_number="+12125550142")
    relative, path = calls_recording.recording_target(org, call_id, config.recordings_dir)
    assert path.parent == config.recordings_dir.resolve() / org / f"{utcnow():%Y}" / f"{utcnow():%m}"
    write_wav(path, seconds=3.0)
    calls.finish_call(call_id, status="completed", ended_reason="hangup", recording_path=str(path))
    call = Call.get_by_id(call_id)
    assert (call.recording_path, call.recording_format, call.recording_duration_seconds) == (relative, "wav", 3)
    assert call.recording_size == path.stat().st_size
    assert "call.recording.available" in outbox(org)


def test_recordings_outside_the_directory_or_not_wav_are_left_out(org, config, tmp_path):
    outside = tmp_path / "elsewhere.wav"
    write_wav(outside)
    with pytest.raises(ValidationError):
        calls_recording.probe_stored(str(outside), config.recordings_dir)
    with pytest.raises(ValidationError):
        calls_recording.probe_stored("../../secret.key", config.recordings_dir)
    for bad in (str(outside), "../../secret.key", "not-a-wav"):
        call_id = calls.start_call(org, direction="inbound", from_number="+12125550123", to_number="+12125550142")
        if bad == "not-a-wav":
            bad, path = calls_recording.recording_target(org, call_id, config.recordings_dir)
            path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really")
            with pytest.raises(UnsupportedMediaType):
                calls_recording.probe_stored(bad, config.recordings_dir)
        calls.finish_call(call_id, status="completed", ended_reason="hangup", recording_path=bad)
        call = Call.get_by_id(call_id)  # the call is closed all the same, without the recording
        assert call.status == "completed" and call.recording_path is None
        assert timeline(call_id)[-2:] == ["recording_rejected", "ended"]
    assert "call.recording.available" not in outbox(org)


def test_stale_calls_are_closed(org):
    fresh = calls.start_call(org, direction="inbound", from_number="+12125550123", to_number="+12125550142")
    _call_at(org, utcnow() - dt.timedelta(hours=13), None)
    assert calls.close_stale_calls(dt.timedelta(hours=12), org) == 1
    statuses = sorted((c.status, c.ended_reason or "") for c in Call.select().where(Call.organization == org))
    assert statuses == [("active", ""), ("failed", "stale")] and Call.get_by_id(fresh).is_live


def test_demo_history_is_varied_fast_and_seeded_once(org, config):
    import time
    from collections import Counter

    from appliance.calls_demo import seed_calls_demo
    from appliance.demo import DemoContext
    from data.calls import CallNote, CallTag, TranscriptSegment
    from data.models import Organization, User

    ctx = DemoContext(config=config, organization=Organization.get_by_id(org), owner=User.select().first())
    began = time.process_time()  # CPU time: what the seeder costs, whatever else the machine is running
    with database.atomic():
        seed_calls_demo(ctx)
    took = time.process_time() - began
    demo = list(Call.select().where(Call.organization == org))
    assert 1500 <= len(demo) <= 2600 and took < 5, (len(demo), took)
    now = utcnow()
    assert all(now - dt.timedelta(days=62) < c.started_at <= c.ended_at <= now for c in demo)
    for attribute, at_least in (("direction", 2), ("status", 4), ("outcome", 6), ("language", 3),
                                ("handled_by", 3), ("sentiment", 3), ("intent_detected", 5)):
        assert len(Counter(getattr(c, attribute) for c in demo if getattr(c, attribute))) >= at_least, attribute
    assert len({c.duration_seconds for c in demo}) > 200
    assert all((c.sentiment is None) == (c.answered_at is None) for c in demo)  # every row has every column
    with_transcript = {s.call_id for s in TranscriptSegment.select(TranscriptSegment.call)}
    assert 150 <= len(with_transcript) <= 450
    assert CallNote.select().count() >= 10 and CallTag.select().count() >= 20
    assert Event.select().where(Event.organization == org).count() == 0  # history: nothing for webhooks
    first = calls_list.stats(calls_list.Filter.parse(org, {}))
    with database.atomic():
        seed_calls_demo(ctx)  # again: nothing added
    assert Call.select().where(Call.organization == org).count() == len(demo)
    assert first["totalCalls"] == len(demo) and 0 < first["aiHandled"] < len(demo) and first["avgDuration"] > 30


def test_analysis_keeps_what_another_system_said(org):
    started = utcnow() - dt.timedelta(hours=1)
    call = calls.create_external(org, {
        "direction": "inbound", "status": "completed", "fromNumber": "+12125550123", "toNumber": "+12125550142",
        "startedAt": started, "answeredAt": started, "endedAt": started + dt.timedelta(minutes=2),
        "summary": "Given by the PBX", "sentiment": "negative",
        "transcript": [{"speaker": "CALLER", "text": "What time do you close on Friday? Thanks so much!"},
                       {"speaker": "AI", "text": "We close at six p.m.", "startSeconds": 3}]})
    stored = Call.get_by_id(call.id)
    assert (stored.summary, stored.sentiment, stored.sentiment_score) == ("Given by the PBX", "negative", None)
    assert stored.intent_detected == "business_hours_inquiry" and stored.outcome == "INFO"
    assert stored.duration_seconds == 120 and stored.source == "external"
    assert outbox(org) == ["call.ended", "call.transcript.available"]
