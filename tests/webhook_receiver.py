"""A webhook receiver for tests: a real HTTP server on loopback that records every request and answers as told."""
from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() on arrival
    peer: tuple  # the sender's (address, port): the same port twice means a reused connection


def verify_signature(secret: str, body: bytes, signature: str) -> bool:
    """The seed document's check, written independently of the appliance: sha256=<hex HMAC-SHA256>."""
    digest = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(digest, signature)


class Receiver:
    """Answers ``status`` (``fail_status`` for the first ``fail_first`` requests), after ``delay`` seconds."""

    def __init__(self, status: int = 200, fail_first: int = 0, fail_status: int = 500, delay: float = 0.0,
                 reply: bytes = b'{"ok":true}', drop_idle: bool = False):
        self.status, self.fail_first, self.fail_status, self.delay, self.reply = (status, fail_first, fail_status,
                                                                                  delay, reply)
        self.drop_idle = drop_idle  # close each connection after answering, as a server's idle timeout would
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def __enter__(self) -> "Receiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._released.set()  # a hanging handler returns at once
        self._server.shutdown()
        self._server.server_close()

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def wait_for(self, n: int, timeout: float) -> list[Received]:
        """Block until ``n`` requests arrived (bounded); the requests so far."""
        deadline = time.monotonic() + timeout
        while self.count() < n and time.monotonic() < deadline:
            time.sleep(0.01)
        with self._lock:
            return list(self.received)

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length", 0))
        body = handler.rfile.read(length)
        with self._lock:
            self.received.append(Received(handler.path, dict(handler.headers.items()), body, time.time(),
                                          handler.client_address))
            failing = len(self.received) <= self.fail_first
        if self.delay:
            self._released.wait(self.delay)
        handler.send_response(self.fail_status if failing else self.status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(self.reply)))
        handler.end_headers()
        handler.wfile.write(self.reply)
        handler.close_connection = self.drop_idle

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 (http.server's naming)
                try:
                    receiver._answer(self)
                except (BrokenPipeError, ConnectionResetError):  # the sender gave up (its timeout)
                    pass

            def log_message(self, *args):
                pass

        return Handler
