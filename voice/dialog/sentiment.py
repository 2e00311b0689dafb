"""Sentiment of a caller's words (VADER: a lexicon and rules tuned for short, informal text; no model download)."""
from __future__ import annotations

from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

POSITIVE, NEGATIVE = 0.05, -0.05
"""VADER's own recommended cut-offs on the compound score."""


class SentimentScorer:
    """Scores text from -1 (very negative) to 1 (very positive)."""

    def __init__(self) -> None:
        self._vader = SentimentIntensityAnalyzer()

    def score(self, text: str) -> float:
        """VADER compound score of ``text`` (0.0 for empty text)."""
        if not text or not text.strip():
            return 0.0
        return float(self._vader.polarity_scores(text[:2000])["compound"])


def label(score: float) -> str:
    """positive, negative or neutral for a compound score."""
    if score >= POSITIVE:
        return "positive"
    if score <= NEGATIVE:
        return "negative"
    return "neutral"


@lru_cache(maxsize=1)
def default_scorer() -> SentimentScorer:
    """One shared scorer, built on first use (loading the lexicon takes a few tens of milliseconds)."""
    return SentimentScorer()
