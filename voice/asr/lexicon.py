"""Pronunciations for PocketSphinx: the CMU dictionary its wheel ships, and espeak-ng for words it lacks.

Names of people, streets and products ("Invisalign", "Nguyen") are often missing from the dictionary; without a
pronunciation the recognizer cannot say them at all. espeak-ng (bundled with piper-tts) spells them in IPA, which
maps onto the CMU phone set closely enough for recognition.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable

logger = logging.getLogger(__name__)

# Longest first: diphthongs and affricates before their parts.
_IPA_TO_CMU = (
    ("aɪ", "AY"), ("aʊ", "AW"), ("eɪ", "EY"), ("oʊ", "OW"), ("ɔɪ", "OY"), ("tʃ", "CH"), ("dʒ", "JH"),
    ("ɜː", "ER"), ("ɝ", "ER"), ("ɚ", "ER"), ("ɑː", "AA"), ("ɔː", "AO"), ("iː", "IY"), ("uː", "UW"), ("oː", "OW"),
    ("aː", "AA"), ("ɑ", "AA"), ("æ", "AE"), ("ʌ", "AH"), ("ə", "AH"), ("ɐ", "AH"), ("ɔ", "AO"), ("ɛ", "EH"),
    ("ɪ", "IH"), ("ᵻ", "IH"), ("i", "IY"), ("ʊ", "UH"), ("u", "UW"), ("o", "OW"), ("e", "EH"), ("a", "AE"),
    ("b", "B"), ("d", "D"), ("ð", "DH"), ("f", "F"), ("ɡ", "G"), ("g", "G"), ("h", "HH"), ("k", "K"), ("l", "L"),
    ("m", "M"), ("n", "N"), ("ŋ", "NG"), ("p", "P"), ("ɹ", "R"), ("r", "R"), ("s", "S"), ("ʃ", "SH"), ("t", "T"),
    ("θ", "TH"), ("v", "V"), ("w", "W"), ("j", "Y"), ("z", "Z"), ("ʒ", "ZH"), ("ɾ", "T"), ("ʔ", "T"), ("x", "K"),
)
_IGNORED = set("ˈˌː-_ .̩")


def ipa_to_cmu(ipa: str) -> list[str]:
    """CMU phones for an espeak-ng IPA string (unknown symbols are skipped)."""
    phones, i = [], 0
    while i < len(ipa):
        for symbol, phone in _IPA_TO_CMU:
            if ipa.startswith(symbol, i):
                phones.append(phone)
                i += len(symbol)
                break
        else:
            if ipa[i] not in _IGNORED:
                logger.debug("no CMU phone for IPA %r", ipa[i])
            i += 1
    return phones


def guess_pronunciation(word: str) -> str | None:
    """A CMU pronunciation of an out-of-dictionary word from espeak-ng, or None if it cannot say it."""
    try:
        from voice.tts.espeak import ipa
        phones = ipa_to_cmu(ipa(word, "en-us"))
    except (ImportError, RuntimeError) as exc:
        logger.warning("cannot guess a pronunciation for %r: %s", word, exc)
        return None
    return " ".join(phones) or None


def read_dictionary(path: Path, wanted: set[str] | None = None) -> dict[str, list[str]]:
    """word -> its pronunciation lines (``word PH ON ES`` / ``word(2) ...``), only ``wanted`` words if given."""
    entries: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            head = line.split(" ", 1)[0]
            word = head.split("(", 1)[0]
            if wanted is None or word in wanted:
                entries.setdefault(word, []).append(line.rstrip("\n"))
    return entries


def dictionary_lines(words: Iterable[str], known: dict[str, list[str]], guess_missing: bool = True) -> list[str]:
    """Dictionary lines for ``words``: known ones from the dictionary, others guessed (skipped if impossible)."""
    lines = []
    for word in sorted(set(words)):
        if word in known:
            lines.extend(known[word])
        elif guess_missing and word.isalpha() and len(word) <= 30:
            pron = guess_pronunciation(word)
            if pron:
                lines.append(f"{word} {pron}")
                logger.info("guessed pronunciation %s -> %s", word, pron)
    return lines
