"""Shared plumbing of the SIP agent: socket, transactions, response cache, call table, RTP ports, trust."""
from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from typing import Callable

from voice.sip import builder
from voice.sip.call import Call, CallState
from voice.sip.endpoint import SipEndpoint
from voice.sip.media import MediaFactory, PortPool
from voice.sip.message import SipMessage
from voice.sip.settings import SipSettings
from voice.sip.transaction import ClientTransactions, ResponseCache

logger = logging.getLogger(__name__)


class SipCore:
    """What every part of the agent needs: send/reply, the call table and the RTP port pool."""

    def __init__(self, settings: SipSettings, handler: Callable[[SipMessage], None], media_factory: MediaFactory):
        self.settings = settings
        self.endpoint = SipEndpoint(settings, handler)
        self.transactions = ClientTransactions(self.endpoint.send, settings.t1_seconds)
        self.responses = ResponseCache(self.endpoint.send)
        media_host = settings.media_host or settings.bind_host
        self.pool = PortPool(media_host, settings.rtp_port_min, settings.rtp_port_max)
        self.media_factory = media_factory
        self.lock = threading.RLock()
        self.calls: dict[str, Call] = {}
        self._trusted_hosts: set[str] = set()

    # -- messages -----------------------------------------------------------------------------------------
    def send(self, data: bytes, dest: tuple[str, int]) -> None:
        """Send a datagram from the SIP socket."""
        self.endpoint.send(data, dest)

    def reply(self, req: SipMessage, code: int, reason: str | None = None, *, to_tag: str | None = None,
              headers: builder.Headers = (), body: bytes = b"", content_type: str | None = None) -> bytes:
        """Answer a request at its source address and remember the answer for retransmissions."""
        if to_tag is None and code > 100:
            to_tag = builder.new_tag()
        data = builder.build_response(req, code, reason, to_tag=to_tag, headers=headers, body=body,
                                      content_type=content_type, server=self.settings.user_agent)
        self.endpoint.send(data, req.source)
        self.responses.remember(req, data, req.source)
        return data

    def sent_by(self, peer_host: str) -> str:
        """Our ``host:port`` as seen by ``peer_host``."""
        return self.endpoint.sent_by(peer_host)

    def contact(self, user: str, peer_host: str) -> str:
        """Our Contact header value for ``user``."""
        return f"<sip:{user}@{self.sent_by(peer_host)}>" if user else f"<sip:{self.sent_by(peer_host)}>"

    # -- calls ----------------------------------------------------------------------------------------------
    def add_call(self, call: Call) -> None:
        with self.lock:
            self.calls[call.call_id] = call

    def get_call(self, call_id: str) -> Call | None:
        with self.lock:
            return self.calls.get(call_id)

    def active_calls(self) -> list[Call]:
        """Calls that have not ended."""
        with self.lock:
            return [c for c in self.calls.values() if c.state is not CallState.ENDED]

    def end_call(self, call: Call, reason: str, status_code: int | None = None) -> None:
        """Mark a call ended and give its RTP port back (idempotent)."""
        if call.mark_ended(reason, status_code) and call.leg.media_port:
            self.pool.release(call.leg.media_port)

    def forget_ended(self, keep: int = 64) -> None:
        """Drop ended calls beyond the most recent ``keep`` (late retransmissions still find recent ones)."""
        with self.lock:
            ended = [c for c in self.calls.values() if c.state is CallState.ENDED]
            for call in sorted(ended, key=lambda c: c.ended_at or 0)[:-keep or None]:
                del self.calls[call.call_id]

    # -- trust ----------------------------------------------------------------------------------------------
    def trust_host(self, host: str) -> None:
        """Accept out-of-dialog requests from a registrar (resolved once, here, not per packet)."""
        try:
            for info in socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM):
                self._trusted_hosts.add(info[4][0])
        except OSError as exc:
            logger.warning("cannot resolve registrar %s: %s", host, exc)

    def is_trusted(self, address: str) -> bool:
        """Whether a source address may start calls or ping us (allowlist or a registrar)."""
        if address in self._trusted_hosts:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.settings.allowed_networks)

    def resolve(self, host: str, port: int) -> tuple[str, int]:
        """A numeric destination for ``host``; raises OSError when it does not resolve."""
        info = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        return info[0][4][0], port

