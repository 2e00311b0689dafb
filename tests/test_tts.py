"""Piper synthesis with the packaged English voice: streaming by sentence, the prompt cache, and what it refuses."""
from __future__ import annotations

import time

import numpy as np
import pytest

from tests.audio_helpers import piper_engine
from voice.tts import PiperEngine, PiperSettings, TtsError, make_tts, split_text
from voice.tts.cache import AudioCache
from voice.vad import level_dbfs

GREETING = ("Thank you for calling Bright Smile Dental. Our opening hours are Monday to Friday, from eight in the "
            "morning to six in the evening. How can I help you today?")


@pytest.fixture(scope="module")
def voice():
    return piper_engine()


def _seconds(pcm: bytes, rate: int) -> float:
    return len(pcm) / 2 / rate


def test_packaged_voice_is_found_and_speaks(voice):
    assert voice.sample_rate == 22050 and voice.language.startswith("en")
    assert voice.model_path.name == "en_US-joe-medium.onnx"
    pcm, rate = voice.synthesize("How much does a teeth cleaning cost?")
    assert rate == voice.sample_rate
    assert 1.0 < _seconds(pcm, rate) < 4.0
    samples = np.frombuffer(pcm, dtype="<i2")
    assert np.abs(samples).max() > 20000  # normalized to the configured peak, not near-silence
    assert level_dbfs(pcm) > -30


def test_split_text_keeps_sentences_and_cuts_long_ones():
    assert split_text("Hello there. How are you?  Fine!") == ["Hello there.", "How are you?", "Fine!"]
    long = "We are open Monday, Tuesday, Wednesday, Thursday and Friday, from eight to six, and on Saturday too."
    chunks = split_text(long, max_words=8)
    assert len(chunks) > 1 and " ".join(chunks) == long
    assert split_text(" ... ") == [] and split_text("") == []


def test_piper_varies_its_voice_unless_told_not_to(voice):
    engine = PiperEngine.load(voice.model_path, PiperSettings(cache_bytes=0))
    assert engine.sentence("Let me check.") != engine.sentence("Let me check.")
    assert voice._render("Let me check.") == voice._render("Let me check.")  # noise scales 0 (test helper voice)


def test_streaming_yields_the_first_sentence_before_the_rest_is_synthesized():
    engine = PiperEngine.load(piper_engine().model_path, PiperSettings(cache_bytes=0))
    began = time.perf_counter()
    stream = engine.synthesize_stream(GREETING)
    first = next(stream)
    first_at = time.perf_counter() - began
    rest = list(stream)
    total = time.perf_counter() - began
    print(f"\nPiper first chunk after {first_at * 1000:.0f} ms, all {total * 1000:.0f} ms, "
          f"audio {_seconds(first + b''.join(rest), engine.sample_rate):.2f} s")
    assert len(rest) == len(split_text(GREETING)) - 1 >= 2
    assert first_at < total * 0.6
    assert engine.last_first_chunk_seconds == pytest.approx(first_at, abs=0.05)
    pause = b"\x00\x00" * (engine.sample_rate * engine.settings.sentence_pause_ms // 1000)
    assert first.endswith(pause) and not rest[-1].endswith(pause)


def test_common_prompts_come_from_the_cache(voice):
    prompt = "Let me check that for you, one moment."
    misses, hits = voice.cache.misses, voice.cache.hits
    first, _ = voice.synthesize(prompt)
    began = time.perf_counter()
    again, _ = voice.synthesize(prompt)
    assert time.perf_counter() - began < 0.01
    assert again == first
    assert (voice.cache.misses, voice.cache.hits) == (misses + 1, hits + 1)


def test_audio_cache_is_bounded_by_bytes():
    cache = AudioCache(max_bytes=1000, max_entry_bytes=600)
    cache.put("a", b"x" * 400)
    cache.put("b", b"y" * 400)
    assert cache.get("a") == b"x" * 400  # a is now the most recently used
    cache.put("c", b"z" * 400)
    assert cache.get("b") is None and cache.get("a") and cache.get("c")
    assert cache.size_bytes == 800 and len(cache) == 2
    cache.put("big", b"q" * 700)
    assert cache.get("big") is None


def test_missing_or_broken_voices_give_clear_errors(tmp_path):
    with pytest.raises(TtsError, match="cannot load Piper voice"):
        PiperEngine.load(tmp_path / "nothing.onnx")
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    (tmp_path / "bad.onnx.json").write_text('{"audio": {"sample_rate": 22050}}')
    with pytest.raises(TtsError, match="cannot load Piper voice"):
        PiperEngine.load(tmp_path / "bad.onnx")
    with pytest.raises(TtsError, match="no Piper voice for language 'xx'"):
        make_tts(tmp_path, "xx")
