"""A small trigram language model in ARPA format, built from the business's phrases.

Absolute discounting with back-off (Katz-style weights computed exactly), and an open vocabulary: the unigram
level is interpolated with a background distribution of common words, so a caller who says something the
business never wrote is still heard, only less favoured than the in-domain phrasing.
"""
from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from typing import Mapping, Sequence

logger = logging.getLogger(__name__)

BOS, EOS = "<s>", "</s>"


def _log10(p: float) -> float:
    return math.log10(p) if p > 0 else -99.0


class _Counts:
    def __init__(self, sentences: Sequence[Sequence[str]]):
        self.c1: Counter = Counter()
        self.c2: dict[str, Counter] = defaultdict(Counter)
        self.c3: dict[tuple[str, str], Counter] = defaultdict(Counter)
        for sentence in sentences:
            words = [BOS, *sentence, EOS]
            for i, word in enumerate(words):
                self.c1[word] += 1
                if i > 0:
                    self.c2[words[i - 1]][word] += 1
                if i > 1:
                    self.c3[(words[i - 2], words[i - 1])][word] += 1


def _unigrams(counts: _Counts, background: Mapping[str, float], weight: float) -> dict[str, float]:
    total = sum(n for w, n in counts.c1.items() if w != BOS)
    weight = 1.0 if not background else weight
    probs = {w: weight * counts.c1.get(w, 0) / total + (1 - weight) * background.get(w, 0.0)
             for w in set(counts.c1) | set(background) if w != BOS}
    probs[BOS] = 0.0
    return probs


def _discounted(table: Mapping, discount: float, lower) -> tuple[dict, dict]:
    """Discounted probabilities of seen continuations and each history's back-off weight."""
    probs, alphas = {}, {}
    for history, followers in table.items():
        total = sum(followers.values())
        for word, n in followers.items():
            probs[(history, word)] = (n - discount) / total
        left = discount * len(followers) / total
        covered = sum(lower(history, w) for w in followers)
        alphas[history] = left / max(1e-9, 1.0 - covered)
    return probs, alphas


def build_arpa(sentences: Sequence[Sequence[str]], background: Mapping[str, float] | None = None,
               weight: float = 0.8, discount: float = 0.5) -> str:
    """ARPA text of a trigram model of ``sentences``; ``background`` (word -> probability) opens the vocabulary."""
    if not sentences:
        raise ValueError("a language model needs at least one sentence")
    counts = _Counts(sentences)
    p1 = _unigrams(counts, background or {}, weight)
    p2, a1 = _discounted(counts.c2, discount, lambda h, w: p1[w])

    def bigram(h: str, w: str) -> float:
        return p2.get((h, w)) or a1.get(h, 1.0) * p1[w]
    p3, a2 = _discounted(counts.c3, discount, lambda h, w: bigram(h[1], w))
    lines = ["\\data\\", f"ngram 1={len(p1)}", f"ngram 2={len(p2)}", f"ngram 3={len(p3)}", "", "\\1-grams:"]
    lines += [f"{_log10(p):.4f} {w} {_log10(a1[w]) if w in a1 else 0.0:.4f}" for w, p in sorted(p1.items())]
    lines += ["", "\\2-grams:"]
    lines += [f"{_log10(p):.4f} {h} {w} {_log10(a2[(h, w)]) if (h, w) in a2 else 0.0:.4f}"
              for (h, w), p in sorted(p2.items())]
    lines += ["", "\\3-grams:"]
    lines += [f"{_log10(p):.4f} {h[0]} {h[1]} {w}" for (h, w), p in sorted(p3.items())]
    lines += ["", "\\end\\", ""]
    return "\n".join(lines)
