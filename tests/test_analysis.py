"""Post-call analysis: summary, sentiment, keywords, intent, outcome, resolution, topics."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from appliance.analysis import OUTCOMES, analyze
from appliance.errors import ValidationError
from voice.dialog import Conversation, InMemoryBooking, KnowledgeIndex
from voice.dialog.demo_kb import demo_items, demo_profile

BOOKING_CALL = [
    {"speaker": "AI", "text": "Hello, thanks for calling Bright Smile Dental. How can I help you today?"},
    {"speaker": "CALLER", "text": "Hi, how much is a cleaning? And do you take Delta Dental insurance?"},
    {"speaker": "AI", "text": "A check-up with a professional cleaning costs a hundred and twenty dollars."},
    {"speaker": "CALLER", "text": "Great. I would like to book a cleaning next Saturday. My name is Jane Smith."},
    {"speaker": "AI", "text": "You're all set for Saturday at eleven a.m. We'll see you then!"},
    {"speaker": "CALLER", "text": "Wonderful, thank you so much. Bye!"},
]


def test_booking_call():
    result = analyze(BOOKING_CALL, knowledge=KnowledgeIndex.build(demo_items()))
    assert result.outcome == "BOOKING" and result.resolved and result.intent == "appointment_booking"
    assert result.sentiment == "positive" and result.sentiment_score > 0.3
    assert "cleaning" in result.keywords and not any("jane" in k or "smith" in k for k in result.keywords)
    assert {"pricing", "insurance", "booking"} <= set(result.topics)
    assert result.summary.startswith("Caller: Hi, how much is a cleaning?") and len(result.summary.split()) <= 61
    assert json.loads(json.dumps(result.to_dict()))["outcome"] == "BOOKING"


def test_complaint_transferred_call_is_not_resolved():
    result = analyze([
        {"speaker": "CALLER", "text": "This is terrible. I was overcharged and your receptionist was rude."},
        {"speaker": "AI", "text": "I'm really sorry to hear that. Let me connect you with someone from our team."},
        {"speaker": "AGENT", "text": "Hi, this is Maria from billing, I can fix that for you."},
    ], events=[{"eventType": "call.transferred", "eventData": {"to": "sip:frontdesk"}}])
    assert result.outcome == "TRANSFER" and not result.resolved
    assert result.intent == "complaint" and result.sentiment == "negative" and "complaint" in result.topics


def test_information_call_resolved_by_the_ai():
    result = analyze([{"speaker": "CALLER", "text": "what time do you close on friday"},
                      {"speaker": "AI", "text": "We're open Monday to Friday from eight a.m. to six p.m."}])
    assert (result.outcome, result.resolved, result.intent) == ("INFO", True, "business_hours_inquiry")
    assert "hours" in result.topics


@pytest.mark.parametrize("transcript, events, outcome", [
    ([], None, "MISSED"),
    (None, [{"eventType": "call.missed"}], "MISSED"),
    ([{"speaker": "CALLER", "text": "Hi, it's Tom, please call me back about my crown."}], ["voicemail.received"],
     "VOICEMAIL"),
    ([{"speaker": "AI", "text": "Hello?"}], None, "OTHER"),
    ([{"speaker": "CALLER", "text": "I'd like an appointment"}, {"speaker": "AI", "text": "Done."}],
     [{"type": "appointment.booked"}], "BOOKING"),
])
def test_outcomes(transcript, events, outcome):
    result = analyze(transcript, events=events)
    assert result.outcome == outcome and result.outcome in OUTCOMES
    assert result.resolved == (outcome in ("INFO", "BOOKING"))


def test_engine_transcript_round_trip():
    now = dt.datetime(2025, 11, 26, 15, 0, tzinfo=dt.timezone.utc)
    conv = Conversation(demo_profile(), KnowledgeIndex.build(demo_items()), InMemoryBooking(lambda: now),
                        lambda: now, "+15550001111")
    conv.greet()
    for line in ("I want to talk to a real person",):
        conv.handle(line)
    result = analyze(conv.transcript)
    assert result.outcome == "TRANSFER" and result.intent == "transfer_request"


def test_bad_and_huge_input():
    with pytest.raises(ValidationError):
        analyze("just a string")
    with pytest.raises(ValidationError):
        analyze([["not", "a", "dict"]])
    result = analyze([{"speaker": "CALLER", "text": "price of a cleaning please " * 3000},
                      {"speaker": "AI", "text": None}, {"text": "no speaker given"}])
    assert result.outcome in OUTCOMES and len(result.summary) < 600
    empty = analyze([{"speaker": "CALLER", "text": "   "}])
    assert empty.outcome == "MISSED" and empty.keywords == ()
