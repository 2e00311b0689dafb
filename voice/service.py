"""The ``callbox voice`` process: the SIP agent, every live call, and the consumer of the ``voice`` queue.

``VoiceService`` wires the parts built at start (configuration, speech engines, SIP agent, database writer) and
owns the calls: incoming INVITEs are routed by dialed number (``voice.call_setup``) and answered with a
``CallSession``; calls asked for on the queue (``jobs.voice_tasks``) are placed and get a session when answered.
A maintenance thread writes the ``voice`` heartbeat and re-reads the phone numbers. ``run_voice`` is the process.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time

from appliance import calls as records
from appliance.brain import IndexCache
from appliance.config import Config, VoiceConfig
from appliance.security import SecretBox
from data.ai import PhoneNumber
from data.calls import Call as CallRecord
from data.db import database
from data.models import Heartbeat
from voice import call_setup
from voice.amd import AmdSettings
from voice.cdr_writer import CdrSink, DbWriter
from voice.engines import Engines
from voice.media.jitter import JitterSettings
from voice.media.settings import MediaSettings
from voice.media_tap import media_factory
from voice.numbers import NumberSync
from voice.session import CallContext, CallSession, SessionSettings
from voice.sip import Call, CallLimitReached, CallState, SipAgent, SipCallError, SipSettings, settings_from_config

logger = logging.getLogger(__name__)

COMPONENT = "voice"
SIP_LIMIT_GRACE = 30.0  # the SIP layer's own duration limit backs the session's up, a little later
STOP_WAIT = 10.0
# A PBX on the local network delivers RTP evenly: start the receive jitter buffer at 40 ms (it grows on late
# packets) rather than 60, which every reply and every barge-in would otherwise wait for.
MEDIA = MediaSettings(jitter=JitterSettings(depth_ms=40, min_depth_ms=20))
_FAILED_STATUS = {"busy": "busy", "no_answer": "no_answer", "cancelled": "no_answer", "timeout": "no_answer",
                  "api_hangup": "no_answer"}


def session_settings(voice: VoiceConfig) -> SessionSettings:
    """The per-call pipeline settings from the ``[voice]`` section."""
    return SessionSettings(end_of_turn_ms=voice.end_of_turn_ms, barge_in=voice.barge_in,
                           no_input_seconds=float(voice.no_input_seconds),
                           max_call_seconds=float(voice.max_call_seconds))


def sip_settings(voice: VoiceConfig) -> SipSettings:
    """The SIP agent's settings from the ``[voice]`` section."""
    settings = settings_from_config(voice)
    return dataclasses.replace(settings, max_call_seconds=float(voice.max_call_seconds) + SIP_LIMIT_GRACE)


class VoiceService:
    """Answers and places calls with the speech engines it is given."""

    def __init__(self, config: Config, engines: Engines, *, sip: SipSettings | None = None,
                 session: SessionSettings | None = None, amd: AmdSettings | None = None):
        self.config, self.engines = config, engines
        self.session_settings = session or session_settings(config.voice)
        self.amd_settings = amd or AmdSettings()
        self.writer = DbWriter()
        self.index_cache = IndexCache()
        settings = sip or sip_settings(config.voice)
        self.sip = SipAgent(settings, self._on_incoming, on_registration=self._on_registration,
                            media_factory=media_factory(MEDIA, record_seconds=settings.max_call_seconds))
        self.numbers = NumberSync(self.sip, SecretBox(config.secret_key()), self.writer)
        self._sessions: dict[str, CallSession] = {}
        self._dialing: dict[str, Call] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._maintenance: threading.Thread | None = None
        self.started_at = time.monotonic()

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def start(self) -> "VoiceService":
        """Start writing, warm the engines for the workspaces with numbers, listen, register, beat."""
        self.writer.start()
        self._warm()
        self.sip.start()
        with database.connection_context():
            self.numbers.sync()
        self._beat()
        self._maintenance = threading.Thread(target=self._maintain, name="voice-maintenance", daemon=True)
        self._maintenance.start()
        logger.info("voice agent ready on SIP port %d (%d calls at most)", self.sip.port,
                    self.sip.settings.max_calls)
        return self

    def stop(self) -> None:
        """Hang up every call, let the sessions close their records, unregister, stop writing (bounded)."""
        self._stopping.set()
        self.sip.stop()
        deadline = time.monotonic() + STOP_WAIT
        for session in self.sessions():
            session.join(max(0.1, deadline - time.monotonic()))
        if self._maintenance is not None:
            self._maintenance.join(5)
        self.numbers.clear()
        self.writer.stop()
        logger.info("voice agent stopped")

    def sessions(self) -> list[CallSession]:
        """Sessions of live calls."""
        with self._lock:
            return list(self._sessions.values())

    def session(self, record_id: str) -> CallSession | None:
        """The session of a call record, if the call is live in this process."""
        with self._lock:
            return self._sessions.get(record_id)

    # -- incoming calls ------------------------------------------------------------------------------------------
    def _on_incoming(self, call: Call) -> None:
        """``SipAgent`` callback (its own thread): route, open the record, answer, start the session."""
        with database.connection_context():
            plan = call_setup.inbound_plan(call.dialed_number)
            if plan.action == "reject":
                logger.info("call %s refused (%d): no route for the dialed number", call.call_id[:12],
                            plan.reject_code)
                call.reject(plan.reject_code)
                return
            record_id = records.start_call(
                plan.org_id, direction="inbound", from_number=call.remote_number or "anonymous",
                to_number=call.dialed_number or "unknown", assistant_id=plan.assistant_id,
                phone_number_id=plan.phone_number_id, sip_call_id=call.call_id, language=plan.language)
            context = self._context(plan, record_id, call.remote_number, outbound=False)
        if not call.answer():
            self.writer.submit(records.finish_call, record_id, status="no_answer",
                               ended_reason=call.ended_reason or "cancelled")
            return
        self._start_session(call, context)

    def _start_session(self, call: Call, context: CallContext) -> CallSession:
        session = CallSession(call, self.engines, context, CdrSink(self.writer, context.record_id),
                              self.session_settings, on_finished=self._forget)
        with self._lock:
            self._sessions[context.record_id] = session
            self._dialing.pop(context.record_id, None)
        call.on_ended = lambda _call: session.on_call_ended()
        return session.start()

    def _forget(self, session: CallSession) -> None:
        with self._lock:
            self._sessions.pop(session.context.record_id, None)

    def _context(self, plan: call_setup.Plan, record_id: str, caller: str, *, outbound: bool) -> CallContext:
        voice = self.config.voice
        recording = call_setup.recording_enabled(plan.org_id)
        return CallContext(
            org_id=plan.org_id, record_id=record_id, language=plan.language,
            conversation=call_setup.conversation_for(plan, record_id, caller, self.index_cache),
            phrases=call_setup.phrases_for(plan.org_id),
            recordings_root=self.config.recordings_dir if recording else None, outbound=outbound,
            amd=self.amd_settings if outbound and voice.amd else None,
            machine_action=call_setup.machine_action(plan.assistant_id, voice.amd_action),
            voicemail_message=call_setup.voicemail_message(plan.org_id, plan.assistant_id) if outbound else "",
            mode=plan.action if plan.action in ("voicemail", "transfer") else "assistant",
            destination=plan.destination)

    # -- calls asked for on the queue ----------------------------------------------------------------------------
    def originate(self, record_id: str, org_id: str, to: str, assistant_id: str | None = None,
                  phone_number_id: str | None = None) -> str:
        """Place the call of an open record (idempotent: a record already dialed or closed is left alone)."""
        with self._lock:
            if record_id in self._sessions or record_id in self._dialing:
                return "already_dialing"
        with database.connection_context():
            record = CallRecord.get_or_none((CallRecord.id == record_id) & (CallRecord.organization == org_id))
            if record is None or record.ended_at is not None:
                return "not_live"
            plan = call_setup.outbound_plan(org_id, assistant_id, phone_number_id)
            context = self._context(plan, record_id, to, outbound=True)
            number = PhoneNumber.get_or_none(PhoneNumber.id == plan.phone_number_id) if plan.phone_number_id else None
        try:
            call = self.sip.place_call(to, self.numbers.account_for(plan.phone_number_id),
                                       caller_id=number.number if number else "")
        except (CallLimitReached, SipCallError) as exc:
            reason = "call_limit" if isinstance(exc, CallLimitReached) else "sip_error"
            logger.warning("call record %s not placed: %s", record_id, exc)
            self.writer.submit(records.add_event, record_id, "dial_failed", {"error": str(exc)[:300]})
            self.writer.submit(records.finish_call, record_id, status="failed", ended_reason=reason)
            return reason
        self._follow_outbound(call, context)
        return "dialing"

    def _follow_outbound(self, call: Call, context: CallContext) -> None:
        with self._lock:
            self._dialing[context.record_id] = call
        self.writer.submit(records.add_event, context.record_id, "dialing", {"sipCallId": call.call_id})
        started = threading.Lock()

        def answered(_call: Call) -> None:
            with started:
                if context.record_id not in self._dialing:
                    return
                self._start_session(call, context)

        def ended(_call: Call) -> None:
            with started:
                dialing = self._dialing.pop(context.record_id, None) is not None
            if dialing:  # never answered: busy, no answer, failed, cancelled
                status = _FAILED_STATUS.get(call.ended_reason or "", "failed")
                self.writer.submit(records.finish_call, context.record_id, status=status,
                                   ended_reason=call.ended_reason or "failed")

        call.on_answered, call.on_ended = answered, ended
        if call.state is CallState.ANSWERED:  # answered before the callbacks were in place
            answered(call)
        elif call.state is CallState.ENDED:
            ended(call)

    def hangup(self, record_id: str) -> bool:
        """Hang up a live or dialing call of this process; False when it is not here."""
        session = self.session(record_id)
        if session is not None:
            session.hang_up("api_hangup")
            return True
        with self._lock:
            call = self._dialing.get(record_id)
        if call is not None:
            call.hangup("api_hangup")
            return True
        return False

    def transfer(self, record_id: str, target: str) -> bool:
        """Transfer a live call of this process; False when it is not here."""
        session = self.session(record_id)
        if session is None:
            return False
        session.request_transfer(target)
        return True

    # -- registrations, heartbeat, re-sync -------------------------------------------------------------------
    def _on_registration(self, account, status, detail) -> None:
        self.numbers.on_registration(account, status, detail)

    def _beat(self) -> None:
        info = {"pid": os.getpid(), "calls": len(self.sessions()), "sipPort": self.sip.port,
                "registered": sum(1 for r in self.sip.registrations().values() if r.status.value == "registered")}
        self.writer.submit(Heartbeat.beat, COMPONENT, **info)

    def _maintain(self) -> None:
        beat_every = max(1.0, float(self.config.queue.heartbeat_seconds))
        sync_every = max(1.0, float(self.config.voice.resync_seconds))
        next_beat, next_sync = time.monotonic() + beat_every, time.monotonic() + sync_every
        while not self._stopping.wait(0.5):
            now = time.monotonic()
            if now >= next_beat:
                next_beat = now + beat_every
                self._beat()
            if now >= next_sync:
                next_sync = now + sync_every
                self._resync()

    def _resync(self) -> None:
        try:
            with database.connection_context():
                self.numbers.sync()
        except Exception:  # the next round tries again; calls in progress are not affected
            logger.exception("re-reading the phone numbers failed")

    def _warm(self) -> None:
        """Cache each numbered workspace's greeting and recognizer adaptation before the first call."""
        with database.connection_context():
            orgs = {row.organization_id
                    for row in PhoneNumber.select(PhoneNumber.organization).where(PhoneNumber.is_active)}
            for org_id in orgs:
                try:
                    plan = call_setup.outbound_plan(org_id, None, None)
                    greeting = call_setup.conversation_for(plan, "warm", "", self.index_cache).profile.greeting
                    self.engines.warm(plan.language, [greeting], call_setup.phrases_for(org_id))
                except Exception:  # warming is an optimisation: a failure only makes the first call slower
                    logger.exception("warming the engines for %s failed", org_id)


# -- the process ---------------------------------------------------------------------------------------------------

def _languages() -> set[str]:
    from data.ai import Assistant

    with database.connection_context():
        return {row.language for row in Assistant.select(Assistant.language).where(Assistant.is_active)}


def make_voice_consumer():
    """A thread-based consumer of the ``voice`` queue; SIGTERM lets running tasks finish, then returns."""
    from jobs.queue import voice_huey

    return voice_huey.create_consumer(workers=2, periodic=False, worker_type="thread", initial_delay=0.1,
                                      backoff=1.15, max_delay=0.5, graceful_signal="TERM", shutdown_timeout=10,
                                      check_worker_health=True, health_check_interval=5)


def run_voice(config: Config) -> int:
    """``callbox voice``: load the engines, start the agent, consume the ``voice`` queue until SIGTERM."""
    from jobs import voice_tasks
    from jobs.queue import bind_queues
    from voice.engines import build_engines

    bind_queues(config)
    engines = build_engines(config, _languages())
    service = VoiceService(config, engines).start()
    voice_tasks.runtime.bind(service)
    consumer = make_voice_consumer()
    try:
        consumer.run()
    finally:
        voice_tasks.runtime.unbind()
        service.stop()
        engines.close()
    return 0
