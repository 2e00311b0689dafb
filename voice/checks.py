"""``callbox doctor`` lines for the voice agent: is there a recognizer and a voice for the configured language?

Only looks for the model files (no model is loaded), so the check stays fast.
"""
from __future__ import annotations

import importlib.util
import logging
from typing import Iterable

from appliance.config import Config

logger = logging.getLogger(__name__)


def speech_checks(config: Config) -> Iterable:
    """One line for speech recognition and one for speech synthesis."""
    from appliance.doctor import FAIL, OK, Check
    from appliance.models_store import find_model

    language, engine = config.voice.language or "en", config.voice.asr_engine
    vosk = find_model(config, "vosk", language) if engine in ("auto", "vosk") else None
    if vosk is not None:
        yield Check(OK, "speech recognition", f"Vosk model {vosk.name} ({vosk.language}, {vosk.source})")
    elif engine == "vosk":
        yield Check(FAIL, "speech recognition", f"[voice] asr_engine is vosk but no Vosk model for {language!r}; "
                                                "install one with: callbox models install PATH")
    elif importlib.util.find_spec("pocketsphinx") is None:
        yield Check(FAIL, "speech recognition", "no Vosk model and PocketSphinx is not installed")
    elif not language.lower().startswith("en"):
        yield Check(FAIL, "speech recognition", f"no Vosk model for {language!r} (PocketSphinx is English only); "
                                                "install one with: callbox models install PATH")
    else:
        yield Check(OK, "speech recognition", "PocketSphinx, built-in English (a Vosk model recognizes better)")
    voice = find_model(config, "piper", language)
    if voice is None:
        yield Check(FAIL, "speech synthesis", f"no Piper voice for {language!r}; the voice agent cannot speak. "
                                              "Install one with: callbox models install PATH")
    else:
        yield Check(OK, "speech synthesis", f"Piper voice {voice.name} ({voice.language}, {voice.source})")
