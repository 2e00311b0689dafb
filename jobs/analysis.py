"""Post-call analysis on the worker: summary, sentiment, intent, topics, keywords and outcome of a finished call.

``analyze_call(call_id)`` is queued by ``appliance.calls.finish_call``. It is idempotent (delivery is at least
once): running it again recomputes the same values from the same transcript, and ``call.transcript.available``
is told only the first time.
"""
from __future__ import annotations

import contextlib
import logging
import statistics
from typing import Iterator

from appliance import events
from appliance.analysis import Analysis, analyze
from data.base import utcnow
from data.calls import Call, CallEvent, TranscriptSegment
from data.db import database
from jobs.queue import huey

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def _connection() -> Iterator[None]:
    """Use the thread's open connection (immediate mode inside a request) or open and close one."""
    opened = database.is_closed()
    if opened:
        database.connect()
    try:
        yield
    finally:
        if opened and not database.is_closed():
            database.close()


@huey.task(retries=3, retry_delay=60)
def analyze_call(call_id: str) -> bool:
    """Analyse a finished call's transcript and store the results on the record; False when there is no call."""
    with _connection():
        return run_analysis(call_id)


def _knowledge(org_id: str):
    """The workspace's knowledge index (its categories become topics), or None without knowledge."""
    from appliance import knowledge
    from appliance.brain import engine_items
    from voice.dialog.retrieval import KnowledgeIndex

    items = knowledge.active_items(org_id)
    return KnowledgeIndex.build(engine_items(items)) if items else None


def _handled_by(call: Call, speakers: set[str], result: Analysis) -> str | None:
    if call.handled_by:
        return call.handled_by
    if "AGENT" in speakers:
        return "HYBRID" if "AI" in speakers else "HUMAN"
    return "AI" if "AI" in speakers else None


def _confidence(call: Call, segments: list[TranscriptSegment]) -> float | None:
    """The AI's confidence as the voice agent last reported it; else the mean recognition confidence."""
    if call.ai_confidence is not None:
        return call.ai_confidence
    values = [s.confidence for s in segments if s.confidence is not None]
    return round(statistics.fmean(values), 4) if values else None


def run_analysis(call_id: str) -> bool:
    """The task's body (callable directly, e.g. from tests and re-analysis tools)."""
    call = Call.get_or_none(Call.id == call_id)
    if call is None:
        logger.warning("analysis: call %s does not exist (deleted?)", call_id)
        return False
    segments = list(TranscriptSegment.select().where(TranscriptSegment.call == call_id)
                    .order_by(TranscriptSegment.start_seconds, TranscriptSegment.id))
    kinds = [e.event_type for e in CallEvent.select(CallEvent.event_type).where(CallEvent.call == call_id)]
    if call.status in ("no_answer", "busy"):
        kinds.append("missed")
    transcript = [{"speaker": s.speaker, "text": s.text} for s in segments]
    result = analyze(transcript, events=kinds, knowledge=_knowledge(call.organization_id) if transcript else None)
    _store(call, segments, result)
    return True


def _values(call: Call, segments: list[TranscriptSegment], result: Analysis) -> dict:
    """What the analysis adds; what the record already has (given by another system, or by the voice agent) stays."""
    found = {"summary": result.summary, "sentiment": result.sentiment, "sentiment_score": result.sentiment_score,
             "intent_detected": result.intent, "topics": list(result.topics), "keywords": list(result.keywords),
             "outcome": result.outcome, "handled_by": _handled_by(call, {s.speaker for s in segments}, result),
             "ai_confidence": _confidence(call, segments)}
    if call.sentiment:
        found["sentiment_score"] = call.sentiment_score
    kept = {name: getattr(call, name) for name in found if getattr(call, name) not in (None, [], "")}
    return {**found, **kept, "resolved": result.resolved}


def _store(call: Call, segments: list[TranscriptSegment], result: Analysis) -> None:
    now = utcnow()
    with database.atomic():
        first = Call.update(analyzed_at=now).where((Call.id == call.id) & Call.analyzed_at.is_null()).execute()
        Call.update(**_values(call, segments, result), analyzed_at=now, updated_at=now).where(
            Call.id == call.id).execute()
        if first and segments:
            events.emit("call.transcript.available",
                        {"callId": call.id, "segments": len(segments), "summary": result.summary,
                         "sentiment": result.sentiment, "intent": result.intent,
                         "url": f"/api/v1/calls/{call.id}"}, call.organization_id)
    logger.info("call %s analysed: %s, %s", call.id, result.outcome, result.sentiment)
