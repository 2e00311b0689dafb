"""What the speaker does with one caller turn: ask the dialog, speak its reply, then act on it (transfer, close).

Runs on the call's speaker thread, never on the pipeline or RTP threads; the dialog may touch the database
(bookings), so it runs inside its own connection context.
"""
from __future__ import annotations

import copy
import logging
import time
from typing import TYPE_CHECKING

from data.db import database

if TYPE_CHECKING:
    from voice.session import CallSession
    from voice.speaker import Job

logger = logging.getLogger(__name__)


def run_turn(session: "CallSession", job: "Job") -> None:
    """The reply to one caller turn (words or a DTMF key), spoken, then its action."""
    if session.context.mode == "voicemail":
        session.end.voicemail = True
        session.say_then_hangup(session.context.conversation.profile.closing, "voicemail")
        return
    began = time.perf_counter()
    with database.connection_context():
        reply = session.context.conversation.handle(job.text or None, dtmf=job.dtmf,
                                                    elapsed_seconds=time.monotonic() - session.t0)
    dialog_ms = (time.perf_counter() - began) * 1000
    session.end.note_reply(reply)
    if reply.knowledge_id and reply.action == "answer":
        _record_use(session, reply.knowledge_id)
    spoken = session.speak(reply.text)
    timing = _timing(session, job, dialog_ms, spoken)
    session.timings.append(timing)
    session.cdr.event("turn", {"caller": job.text, "dtmf": job.dtmf, "reply": reply.text, "intent": reply.intent,
                               "action": reply.action, "confidence": reply.confidence,
                               "asrConfidence": job.confidence, "knowledgeId": reply.knowledge_id,
                               "interrupted": spoken.interrupted, **timing})
    session.cdr.live(session.live_text(), reply.confidence, force=True)
    if reply.action == "transfer" and reply.transfer_to:
        transfer(session, reply.transfer_to, reply.transfer_reason or "dialog")
    elif reply.end_call:
        session.hang_up("goodbye")


def _record_use(session: "CallSession", knowledge_id: str) -> None:
    from data.ai import KnowledgeItem

    session.cdr.writer.submit(KnowledgeItem.record_use, knowledge_id)


def _timing(session: "CallSession", job: "Job", dialog_ms: float, spoken) -> dict:
    """Where the time of a turn went: endpointing silence, recognizer final, dialog, first synthesized chunk."""
    timing = {"endpointMs": session.settings.end_of_turn_ms, "asrMs": round(job.asr_ms, 1),
              "dialogMs": round(dialog_ms, 1), "ttsFirstMs": round(spoken.tts_first_ms, 1)}
    if spoken.started is not None and job.heard_at:
        # measured from the end of the caller's speech: the endpointer heard it end_of_turn_ms before it decided
        timing["responseMs"] = round((spoken.started - job.heard_at) * 1000 + session.settings.end_of_turn_ms, 1)
    return timing


def transfer(session: "CallSession", target: str, reason: str) -> bool:
    """Blind transfer once the handoff line has been played; on failure say so and keep helping."""
    from voice.session import State

    session.transition(State.TRANSFERRING)
    session.cdr.event("transfer", {"to": target, "reason": reason, "status": "started"})
    ok = session.call.transfer(target, timeout=session.settings.transfer_timeout)
    if ok:
        session.end.transferred = True
        session.end.reason = session.end.reason or "transferred"
        session.cdr.event("transfer", {"to": target, "reason": reason, "status": "completed"})
        return True
    error = session.call.last_transfer_error or "failed"
    logger.info("call %s: transfer failed: %s", session.call.call_id[:12], error)
    session.cdr.event("transfer_failed", {"to": target, "reason": reason, "error": error})
    if session.call.is_active:
        session.speak(session.settings.transfer_failed_line)
    return False


def prepare(session: "CallSession", text: str) -> None:
    """Run the dialog on a copy of the conversation and synthesize the first chunk of its reply into the cache.

    Only from states whose handling writes nothing (listening, clarifying): the copy is thrown away, and the
    real turn, if its final text is the same, finds its first sentence already synthesized."""
    conv = session.context.conversation
    if conv.state.value not in ("LISTENING", "CLARIFYING"):
        return
    trial = copy.copy(conv)
    trial.transcript, trial.slots = list(conv.transcript), copy.deepcopy(conv.slots)
    trial.pending = dict(conv.pending) if conv.pending else None
    with database.connection_context():
        reply = trial.handle(text, elapsed_seconds=time.monotonic() - session.t0)
    next(iter(session.engines.speak_8k(session.context.language, reply.text)), None)
    session.prepared += 1
