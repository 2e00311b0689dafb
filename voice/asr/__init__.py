"""Speech recognition: one engine interface (``AsrEngine``), Vosk as the primary engine, PocketSphinx as the fallback.

``make_asr`` is called during wiring (voice process, worker); the engine it returns is passed to whatever needs it.
"""
from __future__ import annotations

import logging
from pathlib import Path

from voice.asr.base import AsrEngine, AsrError, AsrStream, Partial, Result, Segment, Transcript, Word

logger = logging.getLogger(__name__)

__all__ = ["AsrEngine", "AsrError", "AsrStream", "Partial", "Result", "Segment", "Transcript", "Word", "make_asr"]


def make_asr(config_or_models_dir, language: str = "en", engine: str = "auto") -> AsrEngine:
    """Vosk when a model for ``language`` is installed or shipped by a package, else PocketSphinx (English).

    ``config_or_models_dir`` is the appliance ``Config`` or the models folder itself; ``engine`` may force
    ``vosk`` or ``pocketsphinx``.
    """
    from appliance.models_store import find_model

    models_dir = Path(getattr(config_or_models_dir, "models_dir", config_or_models_dir))
    if engine not in ("auto", "vosk", "pocketsphinx"):
        raise AsrError(f"unknown speech recognition engine {engine!r} (auto, vosk, pocketsphinx)")
    if engine in ("auto", "vosk"):
        model = find_model(models_dir, "vosk", language)
        if model is not None:
            from voice.asr.vosk_engine import VoskEngine
            return VoskEngine.load(model.path, model.language, models_dir=models_dir)
        if engine == "vosk":
            raise AsrError(f"no Vosk model for language {language!r}; install one with: callbox models install")
    if not language.lower().startswith("en"):
        logger.warning("no Vosk model for %r: falling back to English PocketSphinx", language)
    from voice.asr.pocketsphinx_engine import PocketSphinxEngine
    return PocketSphinxEngine(work_dir=models_dir / "cache" / "pocketsphinx")
