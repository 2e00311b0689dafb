"""PocketSphinx: the built-in English recognizer (its wheel ships the model), used when no Vosk model is installed.

Adaptation: for a phrase list the engine builds a small trigram model of the business's phrases plus a built-in
corpus of caller phrasing, opened to the most common English words of the general model, and a dictionary
restricted to that vocabulary (new words get espeak-ng pronunciations). Besides better accuracy this makes the
decoder several times faster than with the general 70,000-word model. Built models are cached by phrase-list key,
so a knowledge-base change simply produces a new key.

Telephone audio is upsampled to 16 kHz: the shipped acoustic model was trained on wideband features, and
measured on G.711 speech, narrowband front-end settings (lower ``upperf``) only made it worse.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from voice.asr import lexicon, phrases as phrase_tools
from voice.asr.base import AsrEngine, AsrError, AsrStream, Partial, Result, Word, check_pcm
from voice.asr.lm import build_arpa

logger = logging.getLogger(__name__)

FRAME_RATE = 100  # PocketSphinx frames per second


@dataclass(frozen=True)
class PocketSphinxSettings:
    model_dir: str = ""
    """Folder with ``en-us/`` (acoustic model), ``en-us.lm.bin`` and ``cmudict-en-us.dict``; empty: the wheel's."""
    background_words: int = 3000
    """How many of the general model's most common words stay reachable in an adapted model."""
    domain_weight: float = 0.8
    """Share of the adapted unigram mass given to the business's own words (the rest: common English)."""
    idle_decoders: int = 4
    """Decoders kept for reuse (each general decoder holds about 90 MB)."""
    partial_every_ms: int = 200
    """How often a stream computes a partial hypothesis."""
    cached_adaptations: int = 8
    """Phrase lists whose built models are kept."""


@dataclass(frozen=True)
class Adaptation:
    key: str
    lm_path: str
    dict_path: str
    words: frozenset[str]


class PocketSphinxEngine(AsrEngine):
    """English PocketSphinx recognizer; one ``Decoder`` per active stream, reused through a small pool."""

    name = "pocketsphinx"
    language = "en"
    sample_rate = 16000

    def __init__(self, settings: PocketSphinxSettings = PocketSphinxSettings(), work_dir: Path | None = None):
        try:
            import pocketsphinx
        except ImportError as exc:
            raise AsrError("PocketSphinx is not installed (pip install pocketsphinx)") from exc
        root = Path(settings.model_dir or pocketsphinx.get_model_path())
        self.hmm, self.general_lm = root / "en-us" / "en-us", root / "en-us" / "en-us.lm.bin"
        self.dictionary = root / "en-us" / "cmudict-en-us.dict"
        if not (self.hmm / "mdef").is_file() or not self.dictionary.is_file():
            raise AsrError(f"no PocketSphinx English model in {root}")
        self.settings = settings
        self._own_dir = work_dir is None
        self.work_dir = Path(work_dir or tempfile.mkdtemp(prefix="callbox-ps-"))
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._idle: dict[str, list] = {}
        self._adaptations: OrderedDict[str, Adaptation] = OrderedDict()
        self._background: dict[str, float] | None = None

    def _new_decoder(self, adaptation: Adaptation | None):
        from pocketsphinx import Decoder

        kwargs = {"hmm": str(self.hmm), "samprate": self.sample_rate, "loglevel": "FATAL"}
        if adaptation is None:
            kwargs.update(lm=str(self.general_lm), dict=str(self.dictionary))
        else:
            kwargs.update(lm=adaptation.lm_path, dict=adaptation.dict_path)
        try:
            return Decoder(**kwargs)
        except RuntimeError as exc:
            raise AsrError(f"PocketSphinx could not start: {exc}") from exc

    def _take(self, key: str, adaptation: Adaptation | None):
        with self._lock:
            pool = self._idle.get(key)
            if pool:
                return pool.pop()
        return self._new_decoder(adaptation)

    def release(self, key: str, decoder) -> None:
        """Return a stream's decoder to the pool (dropped when the pool is full)."""
        with self._lock:
            if sum(len(p) for p in self._idle.values()) < self.settings.idle_decoders:
                self._idle.setdefault(key, []).append(decoder)

    def stream(self, phrases: Sequence[str] | None = None, *, closed: bool = False) -> "PocketSphinxStream":
        """A stream decoding with the general model, or with a model adapted to ``phrases``."""
        adaptation = self.adapt(phrases, closed=closed) if phrases else None
        key = adaptation.key if adaptation else "general"
        return PocketSphinxStream(self, self._take(key, adaptation), key)

    def adapt(self, phrases: Sequence[str], *, closed: bool = False) -> Adaptation:
        """Build (or reuse) the language model and dictionary for a phrase list."""
        key = phrase_tools.phrases_key(phrases, closed)
        with self._lock:
            if key in self._adaptations:
                self._adaptations.move_to_end(key)
                return self._adaptations[key]
        adaptation = self._build(key, phrases, closed)
        with self._lock:
            self._adaptations[key] = adaptation
            while len(self._adaptations) > self.settings.cached_adaptations:
                old, _ = self._adaptations.popitem(last=False)
                self._idle.pop(old, None)
        return adaptation

    def _build(self, key: str, phrases: Sequence[str], closed: bool) -> Adaptation:
        domain = phrase_tools.sentences(phrases, self.language)
        if not domain:
            raise ValueError("the phrase list has no words to adapt to")
        corpus = domain if closed else domain + phrase_tools.generic_sentences(self.language)
        background = {} if closed else self.background()
        vocabulary = {w for s in corpus for w in s} | set(background)
        known = lexicon.read_dictionary(self.dictionary, vocabulary)
        lines = lexicon.dictionary_lines(vocabulary, known)
        sayable = {line.split(" ", 1)[0].split("(", 1)[0] for line in lines}
        corpus = [[w for w in s if w in sayable] for s in corpus]
        arpa = build_arpa([s for s in corpus if s], {w: p for w, p in background.items() if w in sayable},
                          weight=self.settings.domain_weight)
        folder = self.work_dir / key
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(folder / "domain.arpa", arpa)
        _write_atomic(folder / "domain.dict", "\n".join(lines) + "\n")
        logger.info("adapted PocketSphinx model %s: %d sentences, %d words", key, len(corpus), len(sayable))
        return Adaptation(key, str(folder / "domain.arpa"), str(folder / "domain.dict"), frozenset(sayable))

    def background(self) -> dict[str, float]:
        """The general model's most common words with normalized unigram probabilities (computed once)."""
        with self._lock:
            if self._background is not None:
                return self._background
        cached = self.work_dir / f"background-{self.settings.background_words}.json"
        try:
            background = json.loads(cached.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            background = self._compute_background()
            _write_atomic(cached, json.dumps(background))
        with self._lock:
            self._background = background
        return background

    def _compute_background(self) -> dict[str, float]:
        from pocketsphinx import Config, LogMath, NGramModel

        model = NGramModel(Config(), LogMath(), str(self.general_lm))
        words = lexicon.read_dictionary(self.dictionary)
        scored = sorted(((model.prob([w]), w) for w in words if w.isalpha() or "'" in w), reverse=True)
        top = scored[:self.settings.background_words]
        weights = [1.0001 ** score for score, _ in top]  # LogMath's default base
        total = sum(weights)
        return {w: x / total for (_, w), x in zip(top, weights)}

    def close(self) -> None:
        """Drop pooled decoders and the adapted models built in a private folder."""
        with self._lock:
            self._idle.clear()
            self._adaptations.clear()
        if self._own_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)


class PocketSphinxStream(AsrStream):
    """One utterance at a time through one PocketSphinx decoder."""

    sample_rate = PocketSphinxEngine.sample_rate

    def __init__(self, engine: PocketSphinxEngine, decoder, key: str):
        self._engine, self._decoder, self._key = engine, decoder, key
        self._started = False
        self._since_partial = 0
        self._partial_samples = engine.settings.partial_every_ms * self.sample_rate // 1000
        self._last = ""

    def accept(self, pcm16: bytes) -> Partial | None:
        """Decode more audio; a partial hypothesis every ``partial_every_ms`` when it changed."""
        check_pcm(pcm16)
        if self._decoder is None:
            raise AsrError("the recognition stream is closed")
        if not self._started:
            self._decoder.start_utt()
            self._started, self._last = True, ""
        self._decoder.process_raw(pcm16, False, False)
        self._since_partial += len(pcm16) // 2
        if self._since_partial < self._partial_samples:
            return None
        self._since_partial = 0
        hyp = self._decoder.hyp()
        text = hyp.hypstr if hyp else ""
        if text == self._last:
            return None
        self._last = text
        return Partial(text)

    def final(self) -> Result:
        """Finish the utterance: text, mean word posterior as confidence, word times."""
        if not self._started or self._decoder is None:
            return Result("", 0.0)
        self._decoder.end_utt()
        self._started, self._since_partial = False, 0
        words = tuple(_word(seg) for seg in self._decoder.seg() if _is_word(seg.word))
        if not words:
            return Result("", 0.0)
        confidence = sum(w.confidence for w in words) / len(words)
        return Result(" ".join(w.text for w in words), round(confidence, 3), words)

    def reset(self) -> None:
        """Abandon the current utterance."""
        if self._started and self._decoder is not None:
            self._decoder.end_utt()
        self._started, self._since_partial, self._last = False, 0, ""

    def close(self) -> None:
        """Give the decoder back to the engine."""
        if self._decoder is None:
            return
        self.reset()
        decoder, self._decoder = self._decoder, None
        self._engine.release(self._key, decoder)


def _write_atomic(path: Path, text: str) -> None:
    # The worker and the voice process may build the same key at once; readers must never see half a file.
    partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _is_word(token: str) -> bool:
    return not (token.startswith("<") or token.startswith("[") or token.startswith("+"))


def _word(seg) -> Word:
    text = seg.word.split("(", 1)[0]
    return Word(text, seg.start_frame / FRAME_RATE, (seg.end_frame + 1) / FRAME_RATE, round(float(seg.prob), 3))
