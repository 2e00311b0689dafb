"""Piper text-to-speech, streamed sentence by sentence so playback starts while the rest is synthesized.

Each sentence is synthesized on its own and cached by its text (greetings, "Let me check that for you", closing
lines recur on every call), so a common prompt costs nothing after its first use. Only espeak-ng phonemization is
serialized (its state is per process); the ONNX inference of concurrent calls runs in parallel.
"""
from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from appliance.errors import CallboxError
from voice.tts.cache import AudioCache
from voice.tts.espeak import ESPEAK_LOCK

logger = logging.getLogger(__name__)

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")
_CLAUSE_END = re.compile(r"(?<=,)\s+")


class TtsError(CallboxError):
    """Speech synthesis is not available."""

    code, status = "SERVICE_UNAVAILABLE", 503


@dataclass(frozen=True)
class PiperSettings:
    threads: int = 1
    """ONNX threads per synthesis (several calls synthesize at once on few cores)."""
    cache_bytes: int = 16 << 20
    """Memory for cached sentences (16 MB holds about 6 minutes of 22 kHz audio)."""
    max_chunk_words: int = 18
    """Longer sentences are split at commas, so the first audio comes sooner."""
    sentence_pause_ms: int = 150
    """Silence added between sentences."""
    volume: float = 0.9
    """Peak level of each sentence (headroom for resampling and G.711)."""
    length_scale: float | None = None
    """Speaking rate (<1 faster); None: the voice's own."""
    noise_scale: float | None = None
    """Variation of the voice (0: the same text always gives the same audio); None: the voice's own."""
    noise_w_scale: float | None = None
    """Variation of phoneme durations (0: none); None: the voice's own."""


def split_text(text: str, max_words: int = 18) -> list[str]:
    """Sentences of ``text``; long ones cut at commas into chunks of about ``max_words``."""
    chunks = []
    for sentence in (s.strip() for s in _SENTENCE_END.split(text or "")):
        if not sentence:
            continue
        current: list[str] = []
        for clause in _CLAUSE_END.split(sentence):
            if current and len(" ".join(current + [clause]).split()) > max_words:
                chunks.append(" ".join(current))
                current = []
            current.append(clause)
        chunks.append(" ".join(current))
    return [c for c in chunks if re.search(r"\w", c)]


class PiperEngine:
    """A loaded Piper voice."""

    name = "piper"

    def __init__(self, voice, model_path: Path, settings: PiperSettings = PiperSettings()):
        self.voice, self.model_path, self.settings = voice, model_path, settings
        self.sample_rate: int = voice.config.sample_rate
        self.language = str(getattr(voice.config, "espeak_voice", "") or "und")
        self.cache = AudioCache(settings.cache_bytes)
        self.last_first_chunk_seconds = 0.0

    @classmethod
    def load(cls, model_path: Path | str, settings: PiperSettings = PiperSettings()) -> "PiperEngine":
        """Load ``voice.onnx`` with its ``voice.onnx.json``."""
        model_path = Path(model_path)
        config_path = Path(f"{model_path}.json")
        try:
            import onnxruntime
            from piper.config import PiperConfig
            from piper.voice import PiperVoice
        except ImportError as exc:
            raise TtsError("Piper is not installed (pip install piper-tts)") from exc
        try:
            config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads, options.inter_op_num_threads = settings.threads, 1
            session = onnxruntime.InferenceSession(str(model_path), sess_options=options,
                                                   providers=["CPUExecutionProvider"])
        except (OSError, ValueError, KeyError) as exc:
            raise TtsError(f"cannot load Piper voice {model_path}: {exc}") from exc
        except Exception as exc:  # onnxruntime raises its own exception types for a corrupt model
            raise TtsError(f"cannot load Piper voice {model_path}: {exc}") from exc
        logger.info("loaded Piper voice %s (%d Hz)", model_path.name, config.sample_rate)
        return cls(PiperVoice(session=session, config=config), model_path, settings)

    def synthesize_stream(self, text: str) -> Iterator[bytes]:
        """16-bit mono PCM at ``sample_rate``, one chunk per sentence (or clause), as soon as each is ready."""
        began = time.perf_counter()
        chunks = split_text(text, self.settings.max_chunk_words)
        pause = b"\x00\x00" * (self.sample_rate * self.settings.sentence_pause_ms // 1000)
        for index, chunk in enumerate(chunks):
            audio = self.sentence(chunk)
            if index == 0:
                self.last_first_chunk_seconds = time.perf_counter() - began
            yield audio + pause if index < len(chunks) - 1 else audio

    def synthesize(self, text: str) -> tuple[bytes, int]:
        """The whole text as one PCM buffer and its sample rate."""
        return b"".join(self.synthesize_stream(text)), self.sample_rate

    def sentence(self, text: str) -> bytes:
        """One sentence, from the cache when it was said before."""
        key = text  # settings are fixed per engine, so the text alone identifies the audio
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        audio = self._render(text)
        self.cache.put(key, audio)
        return audio

    def _render(self, text: str) -> bytes:
        from piper.config import SynthesisConfig

        with ESPEAK_LOCK:
            phonemes = self.voice.phonemize(text)
        syn = SynthesisConfig(length_scale=self.settings.length_scale, noise_scale=self.settings.noise_scale,
                              noise_w_scale=self.settings.noise_w_scale)
        parts = []
        for sentence_phonemes in phonemes:
            if not sentence_phonemes:
                continue
            ids = self.voice.phonemes_to_ids(sentence_phonemes)
            audio = np.asarray(self.voice.phoneme_ids_to_audio(ids, syn), dtype=np.float32).reshape(-1)
            peak = float(np.max(np.abs(audio))) if audio.size else 0.0
            if peak > 1e-6:
                audio = audio * (self.settings.volume / peak)
            parts.append((np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes())
        return b"".join(parts)

    def memory_bytes(self) -> int:
        """Size of the voice model plus the cache."""
        return self.model_path.stat().st_size + self.cache.size_bytes
