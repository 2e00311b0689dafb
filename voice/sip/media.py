"""Glue between SIP calls and our RTP sessions (``voice.media.session.RtpSession``, 16-bit PCM).

pyVoIP's own ``RTPClient`` is not used: it converts audio to 8-bit and paces sends with ``sleep``. SIP only needs
to pick an RTP port, open the session on the negotiated codec and ask it how long it has been silent.
"""
from __future__ import annotations

import logging
import random
import socket
import threading
from typing import Any, Callable

logger = logging.getLogger(__name__)

MediaFactory = Callable[..., Any]
"""``factory(local_host, local_port, remote, payload_type, dtmf_payload_type=, on_dtmf=)`` → started-able session."""

OPEN_ATTEMPTS = 20


def default_media_factory(local_host: str, local_port: int, remote: tuple[str, int], payload_type: int,
                          dtmf_payload_type: int | None = 101, on_dtmf: Callable[[str], None] | None = None) -> Any:
    """Our RtpSession (imported lazily so SIP code and its tests do not load numpy at import)."""
    from voice.media.session import RtpSession

    return RtpSession(local_host, local_port, remote, payload_type, dtmf_payload_type=dtmf_payload_type,
                      on_dtmf=on_dtmf)


class PortPool:
    """Even RTP ports from a range, handed to one call at a time."""

    def __init__(self, host: str, low: int, high: int):
        self.host = host
        self.low, self.high = low + (low % 2), high
        self._used: set[int] = set()
        self._lock = threading.Lock()

    def reserve(self) -> int:
        """A free even port (probed by binding it); raises OSError when the range is exhausted."""
        candidates = list(range(self.low, self.high + 1, 2))
        start = random.randrange(len(candidates))
        with self._lock:
            for port in candidates[start:] + candidates[:start]:
                if port not in self._used and _is_free(self.host, port):
                    self._used.add(port)
                    return port
        raise OSError(f"no free RTP port in {self.low}-{self.high}")

    def release(self, port: int) -> None:
        """Give a port back."""
        with self._lock:
            self._used.discard(port)

    @property
    def in_use(self) -> int:
        return len(self._used)


def _is_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((host, port))
            return True
        except OSError:
            return False


def open_session(factory: MediaFactory, pool: PortPool, remote: tuple[str, int], payload_type: int,
                 dtmf_payload_type: int | None, on_dtmf: Callable[[str], None],
                 port: int | None = None) -> tuple[Any, int]:
    """Create and start a session (and the pool port it holds), retrying on another port if one was taken."""
    last_error: Exception | None = None
    for _ in range(OPEN_ATTEMPTS):
        chosen = port or pool.reserve()
        port = None
        try:
            session = factory(pool.host, chosen, remote, payload_type, dtmf_payload_type=dtmf_payload_type,
                              on_dtmf=on_dtmf)
            session.start()
            return session, chosen
        except (OSError, RuntimeError) as exc:  # RtpSession raises MediaError(RuntimeError) for a taken port
            pool.release(chosen)
            last_error = exc
        except ValueError as exc:  # an unusable remote address: another port will not help
            pool.release(chosen)
            raise OSError(f"unusable media address {remote}: {exc}") from exc
    raise OSError(f"could not open an RTP session: {last_error}")


def session_port(session: Any, fallback: int) -> int:
    """The local port a session is bound to."""
    port = getattr(session, "local_port", None)
    return int(port) if port else fallback


def packets_received(session: Any) -> int | None:
    """How many RTP packets the session has accepted so far (None if it cannot tell)."""
    stats = getattr(session, "stats", None)
    stats = stats() if callable(stats) else stats
    value = stats.get("packets_in") if isinstance(stats, dict) else getattr(stats, "packets_in", None)
    return value if isinstance(value, int) else None
