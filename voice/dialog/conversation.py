"""One conversation (a call, or an ``/ai/test`` session) with explicit state: greeting, then for each caller turn
understand it and answer, clarify, book, transfer or close.

The object holds no engine of its own: the knowledge index, the booking backend, the clock and the sentiment scorer
are passed in, so one index serves every call and tests control time. ``to_dict``/``from_dict`` carry a session
between HTTP requests as plain JSON.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from appliance.errors import ValidationError
from voice.dialog import rules
from voice.dialog.booking import BookingDialog, Slots, Step
from voice.dialog.dates import When, parse_when
from voice.dialog.intents import classify, yes_no
from voice.dialog.phrasing import answer_text, language_handoff, line
from voice.dialog.retrieval import KnowledgeIndex, Match
from voice.dialog.sentiment import SentimentScorer, default_scorer, label
from voice.dialog.text import clean_input
from voice.dialog.types import AssistantProfile, BookingBackend, Intent, Phraser, Reply, State

logger = logging.getLogger(__name__)

STATE_VERSION = 1
TRANSCRIPT_LIMIT = 100
"""Turns kept in the session state (the voice agent keeps the full transcript itself)."""
CLARIFY_SHARE = 0.6
"""Below the answer threshold but above this share of it, we ask "did you mean ...?" instead of giving up."""
BOOKING_STATES = {State.BOOKING_DATE, State.BOOKING_NAME, State.BOOKING_PHONE, State.BOOKING_REASON,
                  State.CONFIRMING, State.CANCEL_CONFIRMING}
_IDENTITY = re.compile(r"\b(?:(?:are you|is this|is that) (?:a |an )?(?:real|human|person|robot|bot|machine|"
                       r"computer|ai|recording)|am i (?:talking|speaking) (?:to|with) (?:a |an )?(?:real|human|"
                       r"person|robot|bot|machine|computer)|who am i (?:talking|speaking) (?:to|with)|who are you|"
                       r"what is your name|what's your name)\b", re.IGNORECASE)
_QUESTION_START = re.compile(r"^(?:what|when|where|how|do|does|is|are|can|could|will|which|who|why)\b", re.IGNORECASE)


@dataclass
class _Turn:
    text: str
    elapsed: float
    language: str | None
    sentiment: float
    flags: list[str] = field(default_factory=list)
    intent: Intent = Intent.OTHER
    request: bool = False


class Conversation:
    """The dialog engine for one call or test session."""

    def __init__(self, profile: AssistantProfile, knowledge: KnowledgeIndex, booking: BookingBackend | None = None,
                 clock: Callable[[], dt.datetime] | None = None, caller_phone: str | None = None, *,
                 phraser: Phraser | None = None, sentiment: SentimentScorer | None = None):
        self.profile = profile
        self.knowledge = knowledge
        self.booking = booking
        self.clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self.caller_phone = caller_phone or None
        self.phraser = phraser
        self.sentiment = sentiment
        self.state = State.GREETING
        self.slots = Slots()
        self.low_confidence = 0
        self.pending: dict[str, str] | None = None
        self.turns = 0
        self.transcript: list[dict[str, str]] = []

    # ---- public API ---------------------------------------------------------------------------------------
    def greet(self) -> Reply:
        """The opening line; the conversation then listens."""
        self.state = State.LISTENING
        return self._emit(self.profile.greeting, None, intent=Intent.GREETING, confidence=1.0)

    def handle(self, text: str | None, *, dtmf: str | None = None, elapsed_seconds: float = 0.0,
               language: str | None = None) -> Reply:
        """Understand one caller turn (words and/or a DTMF key) and decide the reply."""
        clean, truncated = clean_input(text)
        turn = _Turn(clean, float(elapsed_seconds or 0.0), (language or "").lower()[:2] or None, 0.0)
        if truncated:
            turn.flags.append("truncated")
        if clean and rules.looks_like_injection(clean):
            turn.flags.append("injection_like")
        if self.state == State.GREETING:
            self.state = State.LISTENING
        self.turns += 1
        self._log("CALLER", clean or (f"[key {dtmf}]" if dtmf else ""))
        turn.sentiment = self._sentiment(clean)
        return self._route(turn, (dtmf or "").strip()[:1])

    @property
    def closed(self) -> bool:
        """The conversation has ended (goodbye or max duration without a transfer)."""
        return self.state == State.CLOSED

    # ---- routing ------------------------------------------------------------------------------------------
    def _route(self, turn: _Turn, key: str) -> Reply:
        if self.state == State.CLOSED:
            return self._emit(self.profile.closing, turn, action="close", end_call=True)
        if self.state == State.TRANSFERRING:
            return self._emit("Please hold while I connect you.", turn, intent=Intent.TRANSFER)
        limit = self.profile.max_duration_seconds
        if limit and turn.elapsed >= limit:
            return self._transfer(turn, "max_duration")
        if key == "0":
            return self._transfer(turn, "request") if self.profile.transfer_on_request else \
                self._emit(self._no_transfer_line(), turn, action="answer")
        if key in ("1", "2") and not turn.text:
            turn.text = "yes" if key == "1" else "no"
        if not turn.text:
            turn.flags.append("empty")
            return self._emit(line(self.profile, "repeat"), turn, action="clarify")
        lang = turn.language or rules.guess_language(turn.text)
        turn.language = lang
        if lang and lang not in self.profile.served_languages():
            return self._transfer(turn, "language")
        result = classify(turn.text, names_time=not self._when(turn.text).empty)
        turn.intent, turn.request = result.intent, result.request
        if turn.intent == Intent.TRANSFER and turn.request:
            return self._transfer(turn, "request") if self.profile.transfer_on_request else \
                self._emit(self._no_transfer_line(), turn, action="answer")
        if self.state in BOOKING_STATES:
            return self._in_booking(turn)
        if self.state == State.CLARIFYING:
            reply = self._in_clarifying(turn)
            if reply is not None:
                return reply
        self.state, self.pending = State.LISTENING, None
        return self._listening(turn)

    def _listening(self, turn: _Turn) -> Reply:
        topic = rules.forbidden_topic(turn.text, self.profile.forbidden_topics)
        if topic:
            turn.flags.append("forbidden_topic")
            return self._emit(self.profile.disclaimer, turn, action="answer", confidence=1.0)
        if turn.request and turn.intent in (Intent.BOOKING, Intent.CANCEL):
            reply = self._start_booking(turn)
            if reply is not None:
                return reply
        if turn.intent == Intent.GOODBYE:
            self.state = State.CLOSED
            return self._emit(self.profile.closing, turn, action="close", end_call=True, confidence=1.0)
        if _IDENTITY.search(turn.text):
            return self._emit(line(self.profile, "identity"), turn, action="answer", confidence=1.0)
        if rules.looks_like_code(turn.text):
            turn.flags.append("code_like")  # words inside SQL or markup match by accident: never answer them
            return self._offer(turn, line(self.profile, "not_sure"), count=False)
        match = self.knowledge.best(turn.text)
        threshold = self.profile.transfer_confidence_threshold
        if match is not None and match.confidence >= threshold:
            return self._answer(turn, match)
        if turn.intent == Intent.GREETING:
            return self._emit(line(self.profile, "greeting_back"), turn, action="answer", confidence=1.0)
        if turn.intent == Intent.COMPLAINT:
            return self._offer(turn, line(self.profile, "complaint"), count=False)
        if match is not None and match.confidence >= threshold * CLARIFY_SHARE:
            return self._clarify(turn, match)
        return self._not_sure(turn, match)

    def _answer(self, turn: _Turn, match: Match) -> Reply:
        self.low_confidence = 0
        text = answer_text(self.profile, turn.text, match.item.answer, self.phraser)
        if turn.intent == Intent.COMPLAINT:
            text = f"{line(self.profile, 'complaint')} {text}"
        intent = turn.intent if turn.intent != Intent.OTHER else classify(match.item.question).intent
        turn.intent = intent if intent not in (Intent.GREETING, Intent.GOODBYE) else Intent.OTHER
        return self._emit(text, turn, action="answer", confidence=match.confidence, knowledge_id=match.item.id)

    def _clarify(self, turn: _Turn, match: Match) -> Reply:
        self.state, self.pending = State.CLARIFYING, {"kind": "clarify", "item": match.item.id}
        question = match.item.question.rstrip(" ?.") + "?"
        question = question if re.match(r"I\b", question) else question[0].lower() + question[1:]
        return self._emit(line(self.profile, "clarify", question=question), turn, action="clarify",
                          confidence=match.confidence, knowledge_id=match.item.id)

    def _not_sure(self, turn: _Turn, match: Match | None) -> Reply:
        self.low_confidence += 1
        limit = self.profile.low_confidence_transfers
        if limit and self.low_confidence >= limit and self.profile.transfer_destination:
            return self._transfer(turn, "low_confidence", confidence=match.confidence if match else 0.0)
        return self._offer(turn, line(self.profile, "not_sure"), count=False,
                           confidence=match.confidence if match else 0.0)

    def _offer(self, turn: _Turn, lead: str, *, count: bool, confidence: float = 0.0) -> Reply:
        """Say ``lead`` and offer a person (or a call back when there is no one to transfer to)."""
        kind = "offer_transfer" if self.profile.transfer_destination else "offer_callback"
        self.state, self.pending = State.CLARIFYING, {"kind": kind}
        return self._emit(f"{lead} {line(self.profile, kind)}", turn, action="clarify", confidence=confidence)

    def _in_clarifying(self, turn: _Turn) -> Reply | None:
        """Handle the answer to our last question; None when the caller moved on to something else."""
        pending, answer = self.pending or {}, yes_no(turn.text)
        kind = pending.get("kind")
        if answer and len(turn.text.split()) > 6:
            return None
        if answer is None:
            if kind in ("offer_transfer", "offer_callback") and not self._moves_on(turn):
                return self._ask_again(turn, pending)
            return None
        self.state, self.pending = State.LISTENING, None
        if kind == "clarify" and answer:
            item = self.knowledge.get(pending.get("item", ""))
            if item is not None:
                return self._answer(turn, Match(item, 1.0, 1.0, 1.0))
        if kind == "offer_transfer" and answer:
            return self._transfer(turn, "low_confidence")
        if kind == "offer_callback" and answer:
            turn.flags.append("callback_requested")
            return self._emit(line(self.profile, "callback_noted"), turn, action="answer", confidence=1.0)
        if kind == "clarify":
            return self._emit("Sorry about that. Could you ask me in a different way?", turn, action="clarify")
        return self._emit(line(self.profile, "anything_else"), turn, action="answer", confidence=1.0)

    def _moves_on(self, turn: _Turn) -> bool:
        """The caller left our yes/no question for a new request or question we can make sense of."""
        if turn.intent != Intent.OTHER or _QUESTION_START.search(turn.text) or rules.looks_like_code(turn.text):
            return True
        if rules.forbidden_topic(turn.text, self.profile.forbidden_topics):
            return True
        match = self.knowledge.best(turn.text)
        return match is not None and match.confidence >= self.profile.transfer_confidence_threshold * CLARIFY_SHARE

    def _ask_again(self, turn: _Turn, pending: dict[str, str]) -> Reply:
        """Neither yes nor no (a name, a stray word): ask once more; never take it as a yes, never count it."""
        if pending.get("asked_again"):
            self.state, self.pending = State.LISTENING, None
            return self._emit(line(self.profile, "anything_else"), turn, action="answer", confidence=1.0)
        self.pending = {**pending, "asked_again": "1"}
        again = line(self.profile, "ask_again_" + pending["kind"].split("_", 1)[1])
        return self._emit(f"{line(self.profile, 'yes_or_no')} {again}", turn, action="clarify")

    # ---- booking ------------------------------------------------------------------------------------------
    def _start_booking(self, turn: _Turn) -> Reply | None:
        if not (self.profile.booking_enabled and self.booking is not None):
            return None
        self.slots = Slots()
        dialog = self._dialog()
        step = dialog.start_cancel() if turn.intent == Intent.CANCEL else dialog.start(turn.text)
        return self._step(turn, step)

    def _in_booking(self, turn: _Turn) -> Reply:
        if self.booking is None or not self.profile.booking_enabled:
            self.state = State.LISTENING
            return self._listening(turn)
        turn.intent = Intent.CANCEL if self.slots.purpose == "cancel" else Intent.BOOKING
        if self._is_side_question(turn):
            match = self.knowledge.best(turn.text)
            text = answer_text(self.profile, turn.text, match.item.answer, self.phraser)
            return self._emit(f"{text} {self._reprompt()}", turn, action="answer", confidence=match.confidence,
                              knowledge_id=match.item.id)
        return self._step(turn, self._dialog().handle(self.state, turn.text))

    def _is_side_question(self, turn: _Turn) -> bool:
        """A question asked in the middle of booking ("how much is a cleaning?") that we can answer and resume."""
        if self.state in (State.CONFIRMING, State.CANCEL_CONFIRMING) or not _QUESTION_START.search(turn.text):
            return False
        if not self._when(turn.text).empty:
            return False
        match = self.knowledge.best(turn.text)
        return match is not None and match.confidence >= max(self.profile.transfer_confidence_threshold, 0.7)

    def _when(self, text: str) -> When:
        return parse_when(text, self.clock().astimezone(self.profile.tz).date())

    def _reprompt(self) -> str:
        prompts = {State.BOOKING_DATE: "Now, what day and time would you like?",
                   State.BOOKING_NAME: "Now, what name should I put the appointment under?",
                   State.BOOKING_PHONE: "Now, what's the best phone number to reach you?",
                   State.BOOKING_REASON: "Now, what is the appointment for?"}
        return prompts.get(self.state, "")

    def _dialog(self) -> BookingDialog:
        return BookingDialog(self.profile, self.booking, self.clock(), self.caller_phone, self.slots)

    def _step(self, turn: _Turn, step: Step) -> Reply:
        self.state = step.state
        turn.flags.extend(step.flags)
        return self._emit(step.text, turn, action=step.action, confidence=1.0, appointment_id=step.appointment_id,
                          appointment=step.appointment)

    # ---- transfer -----------------------------------------------------------------------------------------
    def _transfer(self, turn: _Turn, reason: str, confidence: float = 1.0) -> Reply:
        destination = self.profile.transfer_destination
        turn.intent = Intent.TRANSFER if reason == "request" else turn.intent
        if not destination:
            turn.flags.append("no_destination")
            if reason == "max_duration":
                self.state = State.CLOSED
                return self._emit(self.profile.closing, turn, action="close", end_call=True, confidence=confidence)
            return self._offer(turn, line(self.profile, "transfer_unavailable"), count=False, confidence=confidence)
        self.state, self.pending = State.TRANSFERRING, None
        text = line(self.profile, "transfer")
        if reason == "language" and language_handoff(turn.language):
            text = f"{language_handoff(turn.language)} {text}"
        return self._emit(text, turn, action="transfer", confidence=confidence, transfer_to=destination,
                          transfer_reason=reason)

    def _no_transfer_line(self) -> str:
        return "I'm sorry, I can't transfer calls, but I'm happy to help with your question."

    # ---- replies and state --------------------------------------------------------------------------------
    def _emit(self, text: str, turn: _Turn | None, *, intent: Intent | None = None, action: str = "none",
              confidence: float = 0.0, **extra: Any) -> Reply:
        if turn is not None and intent is None:
            intent = turn.intent
        text = re.sub(r"\.(?:\s*\.)+", ".", text).strip()
        reply = Reply(
            text=text, intent=(intent or Intent.OTHER).value, confidence=round(float(confidence), 4),
            sentiment=label(turn.sentiment) if turn else "neutral", action=action, state=self.state.value,
            sentiment_score=round(turn.sentiment, 4) if turn else 0.0,
            language=(turn.language if turn else None) or self.profile.language,
            flags=tuple(dict.fromkeys(turn.flags)) if turn else (), **extra)
        self._log("AI", text)
        return reply

    def _sentiment(self, text: str) -> float:
        if not text:
            return 0.0
        scorer = self.sentiment or default_scorer()
        return scorer.score(text)

    def _log(self, speaker: str, text: str) -> None:
        if text:
            self.transcript.append({"speaker": speaker, "text": text[:500]})
            del self.transcript[:-TRANSCRIPT_LIMIT]

    def to_dict(self) -> dict[str, Any]:
        """The session as plain JSON (no engines, no profile: those are rebuilt by the caller)."""
        return {"version": STATE_VERSION, "state": self.state.value, "slots": self.slots.to_dict(),
                "lowConfidence": self.low_confidence, "pending": self.pending, "turns": self.turns,
                "callerPhone": self.caller_phone, "transcript": list(self.transcript)}

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, profile: AssistantProfile, knowledge: KnowledgeIndex,
                  booking: BookingBackend | None = None, clock: Callable[[], dt.datetime] | None = None,
                  phraser: Phraser | None = None, sentiment: SentimentScorer | None = None) -> "Conversation":
        """Rebuild a session saved with ``to_dict``; a malformed state raises ``ValidationError``."""
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise ValidationError("Session state is not valid.")
        try:
            conv = cls(profile, knowledge, booking, clock, data.get("callerPhone"), phraser=phraser,
                       sentiment=sentiment)
            conv.state = State(data["state"])
            conv.slots = Slots.from_dict(data.get("slots"))
            conv.low_confidence = int(data.get("lowConfidence", 0))
            conv.pending = _pending(data.get("pending"))
            conv.turns = int(data.get("turns", 0))
            conv.transcript = [{"speaker": str(t["speaker"]), "text": str(t["text"])}
                               for t in data.get("transcript", [])][-TRANSCRIPT_LIMIT:]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError("Session state is not valid.") from exc
        return conv


def _pending(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("kind") not in ("clarify", "offer_transfer", "offer_callback"):
        raise ValueError("pending")
    return {k: str(v) for k, v in value.items()}
