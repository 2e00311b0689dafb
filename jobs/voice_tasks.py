"""Tasks of the ``voice`` queue, consumed inside ``callbox voice``: place a call, hang up, transfer.

Tasks take ids and primitives. They act on the voice service of the process that consumes them, which binds
itself to ``runtime`` at start. Every task is idempotent: a call already placed, ended or gone is left alone.
In a process without a voice agent (tests with an immediate queue, a web process) ``originate`` closes the
record as failed with reason ``voice_unavailable`` rather than leaving it "active" forever.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from data.db import database
from jobs.queue import voice_huey

logger = logging.getLogger(__name__)


class VoiceRuntime:
    """The voice service of this process (none until ``callbox voice`` binds it)."""

    def __init__(self) -> None:
        self._service: Any = None
        self._lock = threading.Lock()

    def bind(self, service: Any) -> None:
        """Set the service tasks act on."""
        with self._lock:
            self._service = service

    def unbind(self) -> None:
        """Forget the service (the process is stopping)."""
        with self._lock:
            self._service = None

    @property
    def service(self) -> Any:
        """The bound service, or None."""
        with self._lock:
            return self._service


runtime = VoiceRuntime()


def _unavailable(call_id: str) -> None:
    from appliance import calls
    from data.calls import Call

    with database.connection_context():
        record = Call.get_or_none(Call.id == call_id)
        if record is not None and record.ended_at is None:
            calls.add_event(call_id, "dial_failed", {"error": "no voice agent consumed the request"})
            calls.finish_call(call_id, status="failed", ended_reason="voice_unavailable")


@voice_huey.task()
def originate(call_id: str, org_id: str, to: str, assistant_id: str | None = None,
              phone_number_id: str | None = None) -> str:
    """Place the call of record ``call_id`` (opened by ``POST /calls/dial``) to ``to``."""
    service = runtime.service
    if service is None:
        logger.error("originate %s: no voice agent in this process", call_id)
        _unavailable(call_id)
        return "voice_unavailable"
    return service.originate(call_id, org_id, to, assistant_id=assistant_id, phone_number_id=phone_number_id)


@voice_huey.task()
def hangup(call_id: str) -> bool:
    """Hang up a live call (no-op when it already ended or lives in another voice process)."""
    service = runtime.service
    return bool(service and service.hangup(call_id))


@voice_huey.task()
def transfer(call_id: str, to: str) -> bool:
    """Transfer a live call to ``to`` (an extension, a number or a SIP URI)."""
    service = runtime.service
    return bool(service and service.transfer(call_id, to))
