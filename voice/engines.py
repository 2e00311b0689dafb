"""The speech engines of the voice process, built once at start and passed to every call.

``Engines`` owns one recognizer and one voice per language that was asked for at start; calls in a language
with no engine of its own fall back to the default language's (and say so in the log). Nothing here is global:
``build_engines`` is called by the process wiring (``voice.service``) and by tests, and the object is handed down.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence

from appliance.config import Config
from appliance.errors import CallboxError
from voice.asr import AsrEngine, AsrStream, make_asr
from voice.media import g711
from voice.media.resample import resample
from voice.tts import PiperEngine, make_tts, split_text

logger = logging.getLogger(__name__)

TELEPHONE_RATE = 8000
FIRST_CHUNK_WORDS = 8
PRIMER_TEXT = "Hello, I have a question about my appointment next week."


@dataclass
class Engines:
    """Loaded recognizers and voices by language (two-letter code)."""

    asr: dict[str, AsrEngine]
    tts: dict[str, PiperEngine]
    default_language: str = "en"
    load_seconds: float = 0.0
    _warm: set[str] = field(default_factory=set)
    _primers: dict[int, bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def recognizer(self, language: str | None) -> AsrEngine:
        """The recognizer for ``language`` (the default language's when there is none)."""
        return self.asr.get(_short(language)) or self.asr[self.default_language]

    def voice(self, language: str | None) -> PiperEngine:
        """The voice for ``language`` (the default language's when there is none)."""
        return self.tts.get(_short(language)) or self.tts[self.default_language]

    def asr_stream(self, language: str | None, phrases: Sequence[str] | None) -> AsrStream:
        """A primed recognition stream adapted to ``phrases`` (the general model if adaptation fails)."""
        engine = self.recognizer(language)
        stream = None
        if phrases:
            try:
                stream = engine.stream(list(phrases))
            except (ValueError, CallboxError, OSError) as exc:
                logger.warning("recognizer adaptation failed, using the general model: %s", exc)
        stream = stream or engine.stream(None)
        self._prime(engine, stream)
        return stream

    def _prime(self, engine: AsrEngine, stream: AsrStream) -> None:
        # A fresh decoder normalizes features with its built-in initial means, which fit telephone audio badly:
        # measured, the first utterance of a new PocketSphinx decoder lost its last word ("opening hours" ->
        # "opening yard") where the second did not. One short telephone-band utterance first fixes that.
        primer = self._primers.get(engine.sample_rate)
        if primer is None:
            voice = self.voice(engine.language)
            pcm, rate = voice.synthesize(PRIMER_TEXT)
            phone = g711.decode(g711.encode(resample(pcm, rate, TELEPHONE_RATE), g711.PCMU), g711.PCMU)
            primer = self._primers.setdefault(engine.sample_rate, resample(phone, TELEPHONE_RATE, engine.sample_rate))
        stream.accept(primer)
        stream.final()

    def speak_8k(self, language: str | None, text: str) -> Iterator[bytes]:
        """``text`` as 8 kHz 16-bit PCM, one chunk per sentence, each as soon as it is synthesized.

        A long first sentence is cut at its first comma so the caller hears the start of the reply sooner
        (synthesis time grows with the length of the chunk)."""
        voice = self.voice(language)
        pause = bytes(2 * TELEPHONE_RATE * voice.settings.sentence_pause_ms // 1000)
        chunks = first_chunk_split(split_text(text, voice.settings.max_chunk_words))
        for index, (chunk, sentence_end) in enumerate(chunks):
            audio = resample(voice.sentence(chunk), voice.sample_rate, TELEPHONE_RATE)
            last = index == len(chunks) - 1
            yield audio + pause if sentence_end and not last else audio

    def warm(self, language: str | None, texts: Iterable[str], phrases: Sequence[str] | None = None) -> None:
        """Synthesize common prompts into the voice's cache and build the recognizer adaptation ahead of calls."""
        for text in texts:
            if text and text not in self._warm:
                for _ in self.speak_8k(language, text):
                    pass
                with self._lock:
                    self._warm.add(text)
        if phrases:
            self.asr_stream(language, phrases).close()

    def memory_bytes(self) -> int:
        """What the loaded models hold, approximately."""
        return sum(e.memory_bytes() for e in self.asr.values()) + sum(v.memory_bytes() for v in self.tts.values())

    def close(self) -> None:
        """Free the recognizers."""
        for engine in self.asr.values():
            engine.close()


def first_chunk_split(chunks: list[str], words: int = FIRST_CHUNK_WORDS) -> list[tuple[str, bool]]:
    """(chunk, ends a sentence) pairs, the first chunk cut at a comma when it is longer than ``words``."""
    pairs = [(chunk, True) for chunk in chunks]
    if pairs and len(chunks[0].split()) > words and ", " in chunks[0]:
        head, tail = chunks[0].split(", ", 1)
        if len(head.split()) >= 3:
            pairs[0:1] = [(head + ",", False), (tail, True)]
    return pairs


def _short(language: str | None) -> str:
    return (language or "").lower()[:2]


def build_engines(config: Config, languages: Iterable[str] = ()) -> Engines:
    """Load the default language's engines (required) and those of ``languages`` that have models."""
    began = time.perf_counter()
    default = _short(config.voice.language) or "en"
    asr = {default: make_asr(config, default, config.voice.asr_engine)}
    tts = {default: make_tts(config, default)}
    for language in {_short(x) for x in languages if x} - {default}:
        _load_optional(config, language, asr, tts)
    engines = Engines(asr, tts, default, round(time.perf_counter() - began, 2))
    logger.info("speech engines ready in %.1f s: recognizers %s, voices %s", engines.load_seconds,
                {k: v.name for k, v in asr.items()}, sorted(tts))
    return engines


def _load_optional(config: Config, language: str, asr: dict, tts: dict) -> None:
    try:
        engine = make_asr(config, language, config.voice.asr_engine)
        if _short(engine.language) == language:  # not the English fallback
            asr[language] = engine
    except CallboxError as exc:
        logger.warning("no recognizer for %s: %s", language, exc)
    try:
        tts[language] = make_tts(config, language)
    except CallboxError as exc:
        logger.warning("no voice for %s (calls in it use %s): %s", language, config.voice.language, exc)
