"""The UDP SIP endpoint: pyVoIP's ``SIPClient`` subclassed into a multi-account, multi-peer listener.

Stock ``SIPClient`` talks to one server, registers from ``start()``, blocks its receive thread inside
``invite()``/``register()`` and silently drops (or dies on) what it cannot parse. Here the socket loop only
receives, parses and hands each message to one handler; it answers malformed requests 400 and never lets an
exception escape, and each wait is bounded so ``stop()`` returns promptly.
"""
from __future__ import annotations

import logging
import select
import socket
import threading
from typing import Callable

from voice.sip.pyvoip import SIPClient

from voice.sip import builder
from voice.sip.message import SipMessage, SipParseError, parse_message
from voice.sip.settings import SipSettings

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.2
ROUTE_CACHE_SIZE = 256
KEEPALIVE_PINGS = (b"\r\n\r\n", b"\r\n", b"\x00\x00\x00\x00")


class SipEndpoint(SIPClient):
    """Owns the SIP socket and the receive thread; every parsed message goes to ``handler``."""

    def __init__(self, settings: SipSettings, handler: Callable[[SipMessage], None]):
        super().__init__(server="", port=0, username="", password="", phone=None,  # type: ignore[arg-type]
                         myIP=settings.bind_host, myPort=settings.bind_port)
        self.settings = settings
        self.handler = handler
        self._thread: threading.Thread | None = None
        self._route_cache: dict[str, str] = {}
        self.malformed_count = 0

    # -- lifecycle (overrides: no registration inside start/stop) ------------------------------------------
    def start(self) -> None:
        """Bind the socket and start the receive thread."""
        if self.NSD:
            raise RuntimeError("SIP endpoint already started")
        family = socket.AF_INET6 if ":" in self.myIP else socket.AF_INET
        self.s = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self.s.bind((self.myIP, self.myPort))
        except OSError:
            self.s.close()
            raise
        self.out = self.s
        self.myPort = self.s.getsockname()[1]  # resolves port 0 to the one the OS picked
        self.NSD = True
        self._thread = threading.Thread(target=self.recv_loop, name=f"sip-recv:{self.myPort}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the receive thread and close the socket."""
        if not self.NSD:
            return
        self.NSD = False
        if self._thread and self._thread is not threading.current_thread():
            self._thread.join(timeout=2 * POLL_SECONDS + 1)
        self._close_sockets()

    # -- receiving ----------------------------------------------------------------------------------------
    def recv_loop(self) -> None:
        """Receive until stopped; each wait is bounded by POLL_SECONDS."""
        while self.NSD:
            try:
                ready, _, _ = select.select([self.s], [], [], POLL_SECONDS)
            except (OSError, ValueError):
                break  # socket closed under us during stop()
            if ready:
                self.recv()

    def recv(self) -> None:
        """Read one datagram and dispatch it; never raises."""
        try:
            data, addr = self.s.recvfrom(65535)
        except OSError as exc:  # e.g. ICMP port unreachable reported on a later recv
            logger.debug("SIP recv error: %s", exc)
            return
        if data in KEEPALIVE_PINGS or not data.strip():
            return
        try:
            msg = parse_message(data, (addr[0], addr[1]))
        except SipParseError as exc:
            self._malformed(exc, addr)
            return
        try:
            self.handler(msg)
        except Exception:  # a handler bug must not kill the listener that serves every other call
            logger.exception("error handling %s from %s:%s", msg.method or msg.status_code, addr[0], addr[1])
            if msg.is_request and msg.method != "ACK":
                self.send(builder.build_response(msg, 500, server=self.settings.user_agent), msg.source)

    def _malformed(self, exc: SipParseError, addr: tuple) -> None:
        self.malformed_count += 1
        partial = exc.partial
        logger.info("malformed SIP message from %s:%s: %s", addr[0], addr[1], exc.reason)
        if partial is not None and partial.is_request and partial.method != "ACK" and partial.has_required_headers():
            try:
                reply = builder.build_response(partial, 400, f"Bad Request ({exc.reason[:60]})",
                                               to_tag=builder.new_tag(), server=self.settings.user_agent)
            except (KeyError, IndexError, ValueError):
                return
            self.send(reply, (addr[0], addr[1]))

    # -- sending ------------------------------------------------------------------------------------------
    def send(self, data: bytes, dest: tuple[str, int] | None) -> None:
        """Send one datagram; failures are logged, not raised (UDP is lossy anyway)."""
        if dest is None or not self.NSD:
            return
        try:
            self.s.sendto(data, dest)
        except (OSError, ValueError) as exc:
            logger.warning("SIP send to %s:%s failed: %s", dest[0], dest[1], exc)

    # -- addressing (NAT) ---------------------------------------------------------------------------------
    def advertised_host(self, peer_host: str) -> str:
        """The address peers should reach us at: configured external address, bound address or the route."""
        if self.settings.external_host:
            return self.settings.external_host
        if self.myIP not in ("0.0.0.0", "::", ""):
            return self.myIP
        if peer_host not in self._route_cache:
            if len(self._route_cache) > ROUTE_CACHE_SIZE:
                self._route_cache.clear()
            self._route_cache[peer_host] = _route_source(peer_host)
        return self._route_cache[peer_host]

    def advertised_port(self) -> int:
        """The port peers should reach us at."""
        return self.settings.external_port or self.myPort

    def sent_by(self, peer_host: str) -> str:
        """``host:port`` for our Via and Contact headers."""
        host = self.advertised_host(peer_host)
        host = f"[{host}]" if ":" in host else host
        return f"{host}:{self.advertised_port()}"

    # pyVoIP helpers replaced by non-repeating, non-accumulating versions
    def gen_tag(self) -> str:
        return builder.new_tag()

    def gen_call_id(self) -> str:
        return builder.new_call_id(self.advertised_host("127.0.0.1"))


def _route_source(peer_host: str) -> str:
    """The local address the OS would use to reach ``peer_host`` (no packet is sent)."""
    family = socket.AF_INET6 if ":" in peer_host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((peer_host, 9))
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"
