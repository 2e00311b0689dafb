"""Repair of misheard words against a knowledge base's own vocabulary.

A speech recognizer rarely invents non-words; it picks a real word that sounds like the one said ("feelings" for
"fillings", "barking" for "parking", "in plants" for "implants"). So an unknown word is compared with the knowledge
base's words by sound (Metaphone with voiced/unvoiced pairs folded) as well as by spelling, and split words are
re-joined. Repaired words carry a weight below 1 so they count less than words heard as they are.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import jellyfish
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from voice.dialog import text as tx

SPELLING_CUTOFF = 84
"""Least spelling similarity (0-100) for bending an unknown word into a known one."""
JOIN_CUTOFF = 82
"""Least spelling similarity for re-joining split words ("a liners" -> "aligners")."""
SOUND_EXACT_WEIGHT, SOUND_NEAR_WEIGHT = 0.85, 0.6
_FOLD = str.maketrans("BDGVZJ", "PTKFSK")


def sound_key(word: str) -> str:
    """Metaphone code with voiced and unvoiced consonants folded together and a leading H dropped."""
    code = jellyfish.metaphone(word).translate(_FOLD)
    return code[1:] if len(code) > 2 and code[0] == "H" else code


@dataclass(frozen=True)
class Token:
    """One query token: its stem, how sure we are of it (0 unknown .. 1 heard as is)."""

    stem: str
    weight: float


class Repairer:
    """Knows a vocabulary (stems and the surface words they came from) and repairs words against it."""

    def __init__(self, surface_to_stem: dict[str, str], stems: set[str]):
        self.known = stems
        self.long = sorted(s for s in stems if len(s) >= 4 and s.isalpha())
        by_key: dict[str, set[str]] = defaultdict(set)
        for word, stem in surface_to_stem.items():
            if len(word) >= 3 and word.isalpha():
                by_key[sound_key(word)].add(stem)
        self.by_key = {k: sorted(v) for k, v in by_key.items() if k}
        self.keys = sorted(k for k in self.by_key if len(k) >= 3)

    def tokens(self, text: str) -> list[Token]:
        """Content tokens of ``text`` with split words re-joined and unknown words repaired."""
        out = []
        for word, joined in self._join(tx.raw_tokens(text)):
            if joined:
                out.append(Token(word, 0.9))
            elif word not in tx.STOP_WORDS:
                out.append(self.repair(word))
        return out

    def repair(self, word: str) -> Token:
        """The known stem closest to ``word`` by sound or spelling, or the word itself with weight 0."""
        stem = tx.stem(word)
        if stem in self.known:
            return Token(stem, 1.0)
        if len(stem) < 3 or not word.isalpha():
            return Token(stem, 0.0)
        candidates = [self._by_spelling(stem), self._by_sound(word, stem)]
        best = max((c for c in candidates if c is not None), key=lambda c: c.weight, default=None)
        return best or Token(stem, 0.0)

    def _by_spelling(self, stem: str) -> Token | None:
        if len(stem) < 4:
            return None
        hit = process.extractOne(stem, self.long, scorer=fuzz.ratio, score_cutoff=SPELLING_CUTOFF)
        return Token(hit[0], (hit[1] / 100.0) ** 2) if hit else None

    def _by_sound(self, word: str, stem: str) -> Token | None:
        key = sound_key(word)
        if len(word) < 4 or len(key) < 2:
            return None
        exact = self.by_key.get(key)
        if exact:
            pick = self._closest(stem, exact, 40)
            return Token(pick, SOUND_EXACT_WEIGHT) if pick else None
        if len(key) < 4:
            return None
        near = process.extractOne(key, self.keys, scorer=Levenshtein.distance, score_cutoff=1)
        if near is None:
            return None
        pick = self._closest(stem, self.by_key[near[0]], 60)
        return Token(pick, SOUND_NEAR_WEIGHT) if pick else None

    @staticmethod
    def _closest(stem: str, options: list[str], cutoff: int) -> str | None:
        hit = process.extractOne(stem, options, scorer=fuzz.ratio, score_cutoff=cutoff)
        return hit[0] if hit else None

    def _join(self, words: list[str]) -> list[tuple[str, bool]]:
        """Re-join words a recognizer split; yields (stem, True) for a join, (word, False) otherwise."""
        out: list[tuple[str, bool]] = []
        i = 0
        while i < len(words):
            hit = None
            for span in (3, 2):
                hit = self._join_at(words[i:i + span], span)
                if hit:
                    out.append((hit, True))
                    i += span
                    break
            if not hit:
                out.append((words[i], False))
                i += 1
        return out

    def _join_at(self, parts: list[str], span: int) -> str | None:
        if len(parts) < span or any(not p.isalpha() for p in parts) or all(p in tx.STOP_WORDS for p in parts):
            return None
        if all(tx.stem(p) in self.known and p not in tx.STOP_WORDS for p in parts):
            return None
        joined = tx.stem("".join(parts))
        if joined in self.known:
            return joined
        if len(joined) < 6:
            return None
        found = process.extractOne(joined, self.long, scorer=fuzz.ratio, score_cutoff=JOIN_CUTOFF)
        if found is None or found[0] in {tx.stem(p) for p in parts}:
            return None  # "email a" is "email" plus a stray word, not a split word
        return found[0]
