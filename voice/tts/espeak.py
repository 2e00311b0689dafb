"""Access to the espeak-ng phonemizer that piper-tts bundles (its own copy and data; no system package needed).

espeak-ng keeps one global current voice inside the process, so every use (Piper's sentence phonemization and the
recognizer's pronunciations for new words) goes through ``ESPEAK_LOCK``.
"""
from __future__ import annotations

import logging
import threading

logger = logging.getLogger(__name__)

# One lock per process, not per engine: the state it guards is the C library's, which is per process.
ESPEAK_LOCK = threading.Lock()
_initialized: list[bool] = []


def _ensure_initialized() -> None:
    from piper import espeakbridge
    from piper.voice import ESPEAK_DATA_DIR

    if not _initialized:
        espeakbridge.initialize(str(ESPEAK_DATA_DIR))
        _initialized.append(True)


def ipa(text: str, voice: str = "en-us") -> str:
    """IPA phonemes of ``text`` as espeak-ng speaks it (stress marks included)."""
    from piper import espeakbridge

    with ESPEAK_LOCK:
        _ensure_initialized()
        espeakbridge.set_voice(voice)
        return " ".join(clause for clause, _, _ in espeakbridge.get_phonemes(text))
