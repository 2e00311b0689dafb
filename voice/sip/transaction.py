"""UDP transactions (RFC 3261 §17) reduced to what an endpoint needs.

Client side: retransmit a request with exponential back-off until a response arrives, match responses by branch
and CSeq method, time out after 64*T1. Server side: remember the last response to each request so a retransmitted
request gets the same answer instead of being processed twice. Both are driven by the agent's housekeeping tick;
no thread per transaction.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable

from voice.sip.message import SipMessage

logger = logging.getLogger(__name__)

T2 = 4.0
COMPLETED_LINGER = 32.0
MAX_CACHED_RESPONSES = 4096

Send = Callable[[bytes, tuple[str, int]], None]


@dataclass(eq=False)
class ClientTransaction:
    branch: str
    method: str
    data: bytes
    dest: tuple[str, int]
    deadline: float
    interval: float
    next_send: float
    on_response: Callable[["ClientTransaction", SipMessage], None] | None = None
    on_timeout: Callable[["ClientTransaction"], None] | None = None
    provisional: SipMessage | None = None
    final: SipMessage | None = None
    timed_out: bool = False
    ack_data: bytes | None = None
    """ACK for a non-2xx final response, re-sent when that response is retransmitted."""
    done: threading.Event = field(default_factory=threading.Event)

    def wait(self, timeout: float) -> SipMessage | None:
        """Block until the final response (or timeout); returns it or None."""
        self.done.wait(timeout)
        return self.final


class ClientTransactions:
    """Outstanding requests we sent, keyed by (branch, method)."""

    def __init__(self, send: Send, t1: float):
        self._send = send
        self._t1 = t1
        self._lock = threading.Lock()
        self._active: dict[tuple[str, str], ClientTransaction] = {}
        self._completed: dict[tuple[str, str], tuple[ClientTransaction, float]] = {}

    def start(self, method: str, data: bytes, dest: tuple[str, int], branch: str, *,
              on_response=None, on_timeout=None, timeout: float | None = None) -> ClientTransaction:
        """Send a request and track it until its final response (or ``timeout``, default 64*T1)."""
        now = time.monotonic()
        tx = ClientTransaction(branch, method, data, dest, now + (timeout or 64 * self._t1), self._t1,
                               now + self._t1, on_response, on_timeout)
        with self._lock:
            self._active[(branch, method)] = tx
        self._send(data, dest)
        return tx

    def match(self, resp: SipMessage) -> ClientTransaction | None:
        """Route a response to its transaction; returns it (or None for a stray response)."""
        key = (resp.branch, resp.cseq[1])
        with self._lock:
            tx = self._active.get(key)
            if tx is None:
                done = self._completed.get(key)
                if done and done[0].ack_data and resp.status_code >= 300:
                    self._send(done[0].ack_data, done[0].dest)  # our ACK was lost: send it again
                return None
            if resp.status_code >= 200:
                tx.final = resp
                del self._active[key]
                self._completed[key] = (tx, time.monotonic() + COMPLETED_LINGER)
            else:
                tx.provisional = resp
        if tx.on_response:
            tx.on_response(tx, resp)
        if resp.status_code >= 200:
            tx.done.set()
        return tx

    def forget(self, tx: ClientTransaction) -> None:
        """Stop retransmitting a request (e.g. an INVITE we are about to CANCEL)."""
        with self._lock:
            self._active.pop((tx.branch, tx.method), None)
        tx.done.set()

    def tick(self, now: float) -> None:
        """Retransmit what is due and time out what has waited too long."""
        expired, resend = [], []
        with self._lock:
            for key, tx in list(self._active.items()):
                ringing = tx.method == "INVITE" and tx.provisional is not None
                if now >= tx.deadline and not ringing:
                    expired.append(tx)
                    del self._active[key]
                elif now >= tx.next_send and not ringing:
                    resend.append(tx)
                    cap = tx.interval * 2 if tx.method == "INVITE" else min(tx.interval * 2, T2)
                    tx.interval = T2 if tx.provisional is not None else cap
                    tx.next_send = now + tx.interval
            for key, (_, until) in list(self._completed.items()):
                if now >= until:
                    del self._completed[key]
        for tx in resend:
            self._send(tx.data, tx.dest)
        for tx in expired:
            tx.timed_out = True
            logger.info("%s to %s:%s timed out", tx.method, *tx.dest)
            if tx.on_timeout:
                tx.on_timeout(tx)
            tx.done.set()

    def clear(self) -> None:
        """Drop everything (agent stopping); wakes every waiter."""
        with self._lock:
            pending = list(self._active.values())
            self._active.clear()
            self._completed.clear()
        for tx in pending:
            tx.done.set()


class ResponseCache:
    """Last response sent to each request, so retransmitted requests are answered, not re-processed."""

    def __init__(self, send: Send):
        self._send = send
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, tuple[bytes, tuple[str, int], float]] = OrderedDict()

    @staticmethod
    def key(req: SipMessage) -> tuple:
        seq, method = req.cseq
        return req.call_id, seq, method, req.branch, req.source

    def remember(self, req: SipMessage, data: bytes, dest: tuple[str, int]) -> None:
        """Record the response just sent for ``req``."""
        with self._lock:
            self._entries[self.key(req)] = (data, dest, time.monotonic() + COMPLETED_LINGER)
            self._entries.move_to_end(self.key(req))
            while len(self._entries) > MAX_CACHED_RESPONSES:
                self._entries.popitem(last=False)

    def replay(self, req: SipMessage) -> bool:
        """Re-send the cached response if ``req`` is a retransmission; True when it was one."""
        with self._lock:
            entry = self._entries.get(self.key(req))
        if entry is None:
            return False
        self._send(entry[0], entry[1])
        return True

    def seen(self, req: SipMessage) -> bool:
        """Whether a response to this request was already sent."""
        with self._lock:
            return self.key(req) in self._entries

    def tick(self, now: float) -> None:
        """Forget responses older than the transaction lifetime."""
        with self._lock:
            while self._entries:
                key, (_, _, until) = next(iter(self._entries.items()))
                if until > now:
                    break
                del self._entries[key]
