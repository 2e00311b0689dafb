"""Fixtures for SIP tests: agents on loopback with short timers, and SIPp peers that are always cleaned up."""
from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Callable

import pytest

from tests.sipp.runner import SCENARIOS, SIPP, Sipp
from voice.media.recording import RTP_THREAD_PREFIX
from voice.sip import Call, SipAgent, SipSettings

needs_sipp = pytest.mark.skipif(SIPP is None, reason="SIPp (Debian package sip-tester) is not installed")

FAST = dict(bind_host="127.0.0.1", bind_port=0, rtp_port_min=20000, rtp_port_max=29998, t1_seconds=0.1,
            register_retry_seconds=1.0, keepalive_seconds=0.0, ring_timeout_seconds=10.0)


class Inbox:
    """``on_incoming_call`` for tests: records each call, answers it unless told not to, then runs ``then``."""

    def __init__(self, answer: bool = True, then: Callable[[Call], None] | None = None):
        self.answer = answer
        self.then = then
        self.calls: "queue.Queue[Call]" = queue.Queue()
        self.answered: list[bool] = []
        self.errors: list[BaseException] = []

    def __call__(self, call: Call) -> None:
        self.calls.put(call)
        try:
            if self.answer:
                self.answered.append(call.answer())
            if self.then:
                self.then(call)
        except BaseException as exc:  # surfaced by the test through ``errors``
            self.errors.append(exc)
            raise

    def next(self, timeout: float = 10.0) -> Call:
        """The next incoming call (fails the test if none comes)."""
        try:
            return self.calls.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no incoming call within {timeout} s")


@pytest.fixture
def make_agent():
    """Start SIP agents with fast test timers; all are stopped (and their threads checked) at teardown."""
    agents: list[SipAgent] = []

    def factory(on_call=None, on_registration=None, **overrides) -> SipAgent:
        agent = SipAgent(SipSettings(**{**FAST, **overrides}), on_call, on_registration=on_registration).start()
        agents.append(agent)
        return agent

    yield factory
    for agent in agents:
        agent.stop()
    assert wait_until(lambda: not _call_threads(), 3), f"threads left running: {_call_threads()}"
    assert all(agent.rtp_ports_in_use == 0 for agent in agents), "RTP ports still held after stop()"


def _call_threads() -> list[str]:
    prefixes = ("sip-recv", "sip-housekeeping", "sip-incoming", RTP_THREAD_PREFIX)
    return [t.name for t in threading.enumerate() if t.name.startswith(prefixes)]


@pytest.fixture
def sipp(tmp_path: Path):
    """Create SIPp peers (``sipp(scenario, ...)``); each is killed and reaped at teardown."""
    made: list[Sipp] = []

    def factory(scenario: str, substitutions: dict[str, str] | None = None, **kwargs) -> Sipp:
        if substitutions:
            text = (SCENARIOS / scenario).read_text()
            for key, value in substitutions.items():
                text = text.replace(key, value)
            scenario = str(tmp_path / scenario)
            Path(scenario).write_text(text)
        peer = Sipp(scenario, tmp_path, **kwargs)
        made.append(peer)
        return peer

    yield factory
    for peer in made:
        peer.stop()


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until true or ``timeout`` (bounded wait for asynchronous outcomes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
