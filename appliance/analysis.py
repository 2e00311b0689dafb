"""Post-call analysis of a transcript, shared by live calls and uploaded recordings: an extractive summary,
sentiment (VADER), keywords (YAKE), the caller's main intent, the outcome and whether the AI resolved the call.

A pure function of its inputs: no database, no network, so the worker can run it on any transcript and tests can
check it on hand-written ones.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

import yake

from appliance.errors import ValidationError
from voice.dialog.intents import classify
from voice.dialog.sentiment import SentimentScorer, default_scorer, label
from voice.dialog.types import Intent

logger = logging.getLogger(__name__)

OUTCOMES = ("INFO", "BOOKING", "TRANSFER", "MISSED", "VOICEMAIL", "OTHER")
SUMMARY_SENTENCES, SUMMARY_WORDS = 3, 60
MAX_TEXT_CHARS = 20000
"""Longer transcripts are analysed on their first 20,000 characters (a long call's gist is in there)."""
_INTENT_PRIORITY = (Intent.CANCEL, Intent.BOOKING, Intent.COMPLAINT, Intent.TRANSFER, Intent.PRICING,
                    Intent.BUSINESS_HOURS)
_TOPIC_WORDS = {
    "hours": r"\b(?:open|opening|close|closing|hours|weekend|holiday)",
    "pricing": r"\b(?:price|cost|how much|fee|charge|expensive|quote)",
    "booking": r"\b(?:appointment|book|booking|schedule|availability|slot)",
    "cancellation": r"\b(?:cancel|reschedule)",
    "location": r"\b(?:address|located|location|directions|parking|park|bus|station)",
    "payment": r"\b(?:pay|payment|card|cash|insurance|invoice|bill|billing|financing|refund)",
    "delivery": r"\b(?:deliver|delivery|ship|shipping|arrive|tracking|order)",
    "complaint": r"\b(?:complain|complaint|unhappy|disappointed|terrible|rude|awful|angry)",
}
_NAME_CUE = re.compile(r"\b(?:my name is|my name's|this is|i am|i'm|name is)\s+([A-Za-z][\w'-]*(?:\s+[A-Z][\w'-]*)?)",
                       re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_FILLER = set("hi hello hey bye goodbye thanks thank great okay ok yes yeah no please sure well um uh right "
              "good fine perfect cool awesome".split())
_BOOKED = re.compile(r"\b(?:you're all set|you are all set|appointment is (?:booked|confirmed))\b", re.IGNORECASE)
_TRANSFERRED = re.compile(r"\b(?:connect you with|transferring you|put you through)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Analysis:
    """What a call was about and how it ended."""

    summary: str
    sentiment: str
    sentiment_score: float
    keywords: tuple[str, ...]
    intent: str
    outcome: str
    resolved: bool
    topics: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """API form (camelCase)."""
        return {"summary": self.summary, "sentiment": self.sentiment, "sentimentScore": self.sentiment_score,
                "keywords": list(self.keywords), "intent": self.intent, "outcome": self.outcome,
                "resolved": self.resolved, "topics": list(self.topics)}


def analyze(transcript: Iterable[dict] | None, *, events: Iterable[Any] | None = None, knowledge=None,
            scorer: SentimentScorer | None = None) -> Analysis:
    """Analyse a transcript ``[{speaker: AI|CALLER|AGENT, text}]``; ``events`` are the call's events (dicts with
    ``eventType``, or names) and ``knowledge`` an optional ``KnowledgeIndex`` whose categories become topics."""
    turns = _turns(transcript)
    kinds = _event_kinds(events)
    caller = [t["text"] for t in turns if t["speaker"] == "CALLER"]
    scorer = scorer or default_scorer()
    score = _sentiment(caller or [t["text"] for t in turns], scorer)
    keywords = _keywords(" ".join(caller))
    intent = _main_intent(caller)
    outcome = _outcome(turns, kinds)
    resolved = outcome in ("INFO", "BOOKING") and not any(t["speaker"] == "AGENT" for t in turns)
    return Analysis(summary=_summary(turns, keywords), sentiment=label(score), sentiment_score=round(score, 4),
                    keywords=tuple(keywords), intent=intent.value, outcome=outcome, resolved=resolved,
                    topics=tuple(_topics(caller, intent, knowledge)))


def _turns(transcript: Iterable[dict] | None) -> list[dict[str, str]]:
    if transcript is None:
        return []
    if isinstance(transcript, (str, bytes, dict)):
        raise ValidationError("A transcript is a list of {speaker, text} entries.")
    turns, total = [], 0
    for entry in transcript:
        if not isinstance(entry, dict):
            raise ValidationError("A transcript is a list of {speaker, text} entries.")
        text = str(entry.get("text") or "").strip()
        if not text or total >= MAX_TEXT_CHARS:
            continue
        text = text[:MAX_TEXT_CHARS - total]
        total += len(text)
        turns.append({"speaker": str(entry.get("speaker") or "CALLER").upper(), "text": text})
    return turns


def _event_kinds(events: Iterable[Any] | None) -> set[str]:
    kinds = set()
    for event in events or ():
        name = event if isinstance(event, str) else (
            event.get("eventType") or event.get("type") or event.get("event") or "" if isinstance(event, dict) else "")
        name = str(name).lower()
        for kind in ("voicemail", "book", "transfer", "missed", "no_answer"):
            if kind in name:
                kinds.add("missed" if kind == "no_answer" else kind)
    return kinds


def _outcome(turns: list[dict[str, str]], kinds: set[str]) -> str:
    ai_text = " ".join(t["text"] for t in turns if t["speaker"] == "AI")
    has_caller = any(t["speaker"] == "CALLER" for t in turns)
    if "voicemail" in kinds or any(t["speaker"] == "VOICEMAIL" for t in turns):
        return "VOICEMAIL"
    if "book" in kinds or _BOOKED.search(ai_text):
        return "BOOKING"
    if "transfer" in kinds or _TRANSFERRED.search(ai_text):
        return "TRANSFER"
    if "missed" in kinds or not turns:
        return "MISSED"
    if has_caller and ai_text:
        return "INFO"
    return "OTHER"


def _sentiment(texts: list[str], scorer: SentimentScorer) -> float:
    """Weighted mean over turns; later turns weigh more, because how a call ends matters most."""
    if not texts:
        return 0.0
    weights = range(1, len(texts) + 1)
    return sum(w * scorer.score(t) for w, t in zip(weights, texts)) / sum(weights)


def _keywords(text: str, top: int = 8) -> list[str]:
    if len(text.split()) < 3:
        return []
    names = {w.lower() for m in _NAME_CUE.finditer(text) for w in m.group(1).split()}
    extractor = yake.KeywordExtractor(lan="en", n=2, top=top * 2, dedupLim=0.7)
    out: list[str] = []
    for phrase, _ in extractor.extract_keywords(text):
        words = phrase.lower().split()
        if any(w in names or w in _FILLER or any(c.isdigit() for c in w) for w in words):
            continue
        if any(phrase.lower() in chosen.split() or phrase.lower() == chosen for chosen in out):
            continue
        out.append(phrase.lower())
        if len(out) == top:
            break
    return out


def _main_intent(caller: list[str]) -> Intent:
    results = [classify(t) for t in caller]
    for intent in (Intent.CANCEL, Intent.BOOKING, Intent.TRANSFER):
        if any(r.intent == intent and r.request for r in results):
            return intent
    counts = Counter(r.intent for r in results if r.intent in _INTENT_PRIORITY)
    if not counts:
        return Intent.OTHER
    return max(counts, key=lambda i: (counts[i], -_INTENT_PRIORITY.index(i)))


def _summary(turns: list[dict[str, str]], keywords: list[str]) -> str:
    if not turns:
        return "No conversation took place."
    sentences = [(i, t["speaker"], s) for i, t in enumerate(turns) for s in _SENTENCE.split(t["text"]) if s.strip()]
    weights = {k: len(keywords) - r for r, k in enumerate(keywords)}
    first_caller = next((n for n, (_, sp, _) in enumerate(sentences) if sp == "CALLER"), None)

    def score(n: int) -> float:
        _, speaker, text = sentences[n]
        low = text.lower()
        value = sum(w for k, w in weights.items() if k in low) + (3 if n == first_caller else 0)
        return value + (0.5 if speaker == "CALLER" else 0) - 0.01 * n

    chosen = sorted(sorted(range(len(sentences)), key=score, reverse=True)[:SUMMARY_SENTENCES])
    labels = {"CALLER": "Caller", "AI": "AI", "AGENT": "Agent"}
    parts = [f"{labels.get(sentences[n][1], sentences[n][1].title())}: {sentences[n][2].strip()}" for n in chosen]
    words = " ".join(parts).split()
    return " ".join(words[:SUMMARY_WORDS]) + (" ..." if len(words) > SUMMARY_WORDS else "")


def _topics(caller: list[str], intent: Intent, knowledge) -> list[str]:
    topics: list[str] = []
    if knowledge is not None:
        for text in caller:
            match = knowledge.best(text)
            if match is not None and match.confidence >= 0.5 and match.item.category:
                topics.append(match.item.category)
    joined = " ".join(caller).lower()
    topics += [name for name, pattern in _TOPIC_WORDS.items() if re.search(pattern, joined)]
    if intent == Intent.COMPLAINT:
        topics.append("complaint")
    return list(dict.fromkeys(topics))
