"""Knowledge retrieval: paraphrases, recognition errors, unknown questions, vocabulary, speed; and profile checks."""
from __future__ import annotations

import time

import pytest

from appliance.errors import ValidationError
from voice.dialog import AssistantProfile, KnowledgeIndex, KnowledgeItem
from voice.dialog.demo_kb import demo_items, demo_profile
from voice.dialog.repair import sound_key


@pytest.fixture(scope="module")
def index():
    return KnowledgeIndex.build(demo_items())


@pytest.mark.parametrize("said, expected", [
    ("what are your hours", "kb_demo_hours"),
    ("where can I leave my car", "kb_demo_parking"),
    ("how much for invisible braces", "kb_demo_price_aligners"),
    ("do you take cigna", "kb_demo_insurance"),
    ("my tooth broke and it really hurts", "kb_demo_emergency"),
    ("can my kid see the dentist", "kb_demo_children"),
    # recognizer-style: lower case, sound-alike words, split words
    ("what do you charge for teeth widening", "kb_demo_price_whitening"),
    ("what's the cost of clear a liners", "kb_demo_price_aligners"),
    ("is there barking", "kb_demo_parking"),
    ("what do in plants cost", "kb_demo_price_implant"),
])
def test_paraphrases_and_misheard_words_find_the_item(index, said, expected):
    assert index.best(said).item.id == expected


def test_confident_for_a_close_paraphrase_and_not_for_unknown_topics(index):
    assert index.best("how much does teeth whitening cost").confidence >= 0.8
    for unknown in ("do you do botox", "what is the capital of france", "how much are veneers",
                    "can I bring my dog"):
        match = index.best(unknown)
        assert match is None or match.confidence < 0.5, (unknown, match)


def test_nothing_for_stop_words_or_noise(index):
    assert index.search("um uh what is it") == []
    assert index.search("") == []
    found = index.search("zzzz qqqq")
    assert found == [] or found[0].confidence < 0.2


def test_inactive_items_are_not_indexed_and_empty_index_answers_nothing():
    items = [KnowledgeItem("kb_1", "Do you deliver?", "Yes, within 5 miles.", is_active=False),
             KnowledgeItem("kb_2", "Are you open Sundays?", "No, we are closed on Sundays.")]
    index = KnowledgeIndex.build(items)
    assert len(index) == 1 and index.get("kb_1") is None
    assert index.best("do you deliver") is None or index.best("do you deliver").item.id == "kb_2"
    assert KnowledgeIndex.build([]).search("anything") == []


def test_priority_item_wins_a_tie():
    items = [KnowledgeItem("kb_a", "What about pain?", "See a doctor."),
             KnowledgeItem("kb_b", "What about pain?", "Call us now.", is_priority=True)]
    assert KnowledgeIndex.build(items).best("what about pain").item.id == "kb_b"


def test_vocabulary_lists_surface_words_for_the_recognizer(index):
    words = index.vocabulary()
    assert {"aligners", "insurance", "parking", "saturday"} <= set(words)
    assert all(w.isalpha() and w == w.lower() for w in words)


def test_sound_key_folds_voicing():
    assert sound_key("barking") == sound_key("parking")
    assert sound_key("feelings") == sound_key("fillings")


def test_search_is_fast_with_500_items():
    items = [KnowledgeItem(f"kb_{i}", f"How much does service number {i} with option {i % 7} cost?",
                           f"Service {i} costs ${100 + i}.", (f"Price of service {i}?",), "pricing")
             for i in range(460)] + demo_items()
    index = KnowledgeIndex.build(items)
    queries = ["how much is a cleaning", "what time do you close on friday", "do you take walk ins",
               "i lost my aligner", "price of service 42"] * 20
    started = time.perf_counter()
    for q in queries:
        index.search(q)
    per_query_ms = (time.perf_counter() - started) * 1000 / len(queries)
    assert per_query_ms < 100  # a guard against gross regressions only; bench/brain.py measures p50/p99


def test_profile_validation():
    with pytest.raises(ValidationError):
        AssistantProfile(transfer_confidence_threshold=1.5)
    with pytest.raises(ValidationError):
        AssistantProfile(timezone="Mars/Olympus")
    with pytest.raises(ValidationError):
        AssistantProfile(business_hours={"funday": ("09:00", "17:00")})
    with pytest.raises(ValidationError):
        AssistantProfile(business_hours={"monday": ("18:00", "09:00")})
    profile = AssistantProfile(business_hours={"Monday": {"open": "9:00", "close": "17:30"}}, languages=["EN", "es"])
    assert profile.business_hours == {"monday": ("09:00", "17:30")} and profile.served_languages() == {"en", "es"}
    assert AssistantProfile.from_dict(demo_profile().to_dict()) == demo_profile()
    with pytest.raises(ValidationError):
        AssistantProfile.from_dict({"name": "x", "evil": 1})
