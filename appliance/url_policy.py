"""Where webhooks may post: http(s) only, never into blocked networks, checked again at connect time.

A URL is checked when a webhook is saved (scheme, host, literal addresses) and again for every delivery: the
host name is resolved once, each address is checked against the blocklist, and the connection goes to that
checked address with the original ``Host`` header and TLS server name. A DNS answer that changes between the
check and the connect (DNS rebinding) therefore cannot steer a delivery to a blocked address. The default
blocklist holds link-local and cloud-metadata addresses; LAN and loopback receivers are allowed, since a small
business's CRM often lives on its own network. Redirects are never followed.
"""
from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from appliance.errors import ConfigError, ValidationError

logger = logging.getLogger(__name__)

EXCERPT_BYTES = 1024
"""How much of a receiver's answer is kept in the delivery log."""
DRAIN_BYTES = 64 * 1024
"""A longer answer is not read to its end: its connection is closed rather than kept for reuse."""

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class UrlRefused(ValidationError):
    """This URL is not allowed for webhooks."""


@dataclass(frozen=True)
class UrlPolicy:
    """The networks webhooks may never reach."""

    blocked: tuple[Network, ...]

    @classmethod
    def parse(cls, text: str) -> "UrlPolicy":
        """A policy from a comma-separated list of networks (``[webhooks] blocked_networks``)."""
        try:
            nets = tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())
        except ValueError as exc:
            raise ConfigError(f"[webhooks] blocked_networks: {exc}") from exc
        return cls(nets)

    def refusal(self, address: str) -> str | None:
        """Why this IP address may not be reached, or None when it may."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:169.254.169.254 is 169.254.169.254
        if ip.is_multicast or ip.is_unspecified or ip == ipaddress.IPv4Address("255.255.255.255"):
            return f"{ip} is not a unicast address"
        for net in self.blocked:
            if ip.version == net.version and ip in net:
                return f"{ip} is in the blocked network {net}"
        return None


@dataclass(frozen=True)
class Target:
    """A parsed webhook URL."""

    scheme: str
    host: str
    port: int
    path: str


def parse_url(url: str) -> Target:
    """Scheme, host, port and path of an http(s) URL; ``UrlRefused`` for anything else."""
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused(f"url: {exc}", {"url": [str(exc)]}) from exc
    if parts.scheme not in ("http", "https"):
        raise UrlRefused("url: only http and https URLs are allowed", {"url": ["scheme must be http or https"]})
    if not parts.hostname:
        raise UrlRefused("url: the URL has no host", {"url": ["no host"]})
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("url: put credentials in headers, not in the URL", {"url": ["credentials in URL"]})
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path)


def _literal_ip(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        return None


def check_url(url: str, policy: UrlPolicy) -> Target:
    """Check a URL as it is saved: http(s), a host, and not a literal blocked address."""
    target = parse_url(url)
    literal = _literal_ip(target.host)
    reason = policy.refusal(literal) if literal else None
    if reason:
        raise UrlRefused(f"url: {reason}", {"url": [reason]})
    return target


def resolve(target: Target, policy: UrlPolicy) -> list[str]:
    """The addresses of the target's host that the policy allows; ``UrlRefused`` when there are none."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConnectionError(f"cannot resolve {target.host}: {exc.strerror or exc}") from exc
    allowed, refused = [], []
    for info in infos:
        address = info[4][0]
        reason = policy.refusal(address)
        (refused if reason else allowed).append(reason or address)
    if not allowed:
        raise UrlRefused(f"url: {refused[0] if refused else 'no address'}")
    return list(dict.fromkeys(allowed))


class _Deadline:
    """One overall time budget for connect, send and receive (per-socket timeouts alone would add up)."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out")
        return remaining


def _connect(addresses: list[str], port: int, deadline: _Deadline) -> socket.socket:
    last: OSError | None = None
    for address in addresses:
        try:
            sock = socket.create_connection((address, port), timeout=deadline.left())
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        except TimeoutError:
            raise
        except OSError as exc:
            last = exc
    raise last or ConnectionError("no address to connect to")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to an address checked beforehand; ``Host`` still names the URL's host."""

    def __init__(self, target: Target, addresses: list[str], deadline: _Deadline):
        super().__init__(target.host, target.port, timeout=deadline.left())
        self._addresses, self._deadline = addresses, deadline

    def connect(self) -> None:
        self.sock = _connect(self._addresses, self.port, self._deadline)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an address checked beforehand; certificate and SNI still for the URL's host."""

    def __init__(self, target: Target, addresses: list[str], deadline: _Deadline, context: ssl.SSLContext):
        super().__init__(target.host, target.port, timeout=deadline.left(), context=context)
        self._addresses, self._deadline = addresses, deadline

    def connect(self) -> None:
        sock = _connect(self._addresses, self.port, self._deadline)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class HttpResult:
    """What one POST got: a status code, or an error before any status."""

    status: int | None
    latency_ms: int
    excerpt: str | None = None
    error: str | None = None
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class ConnectionPool:
    """Idle keep-alive connections per (scheme, host, port), each reused for at most ``max_age`` seconds.

    Reuse keeps the connect-time check: a pooled connection goes to the address that was checked when it was
    opened, and is dropped after ``max_age`` so a changed DNS answer or policy takes effect. It spares a receiver
    a TCP (and TLS) handshake per delivery, which is most of the cost of a small POST.
    """

    def __init__(self, per_host: int = 8, max_age: float = 30.0):
        self.per_host, self.max_age = per_host, max_age
        self._idle: dict[tuple, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def take(self, key: tuple) -> http.client.HTTPConnection | None:
        """A young idle connection for ``key``, or None."""
        with self._lock:
            idle = self._idle.get(key, [])
            while idle:
                conn = idle.pop()
                if time.monotonic() - conn.opened_at < self.max_age:
                    return conn
                conn.close()
        return None

    def give(self, key: tuple, conn: http.client.HTTPConnection) -> None:
        """Keep a connection whose last response was read completely (closed when the pool is full)."""
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.per_host and time.monotonic() - conn.opened_at < self.max_age:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close every idle connection."""
        with self._lock:
            for idle in self._idle.values():
                for conn in idle:
                    conn.close()
            self._idle.clear()


def _open(target: Target, policy: UrlPolicy, deadline: _Deadline, context: ssl.SSLContext | None):
    addresses = resolve(target, policy)
    conn = (_PinnedHTTPSConnection(target, addresses, deadline, context or ssl.create_default_context())
            if target.scheme == "https" else _PinnedHTTPConnection(target, addresses, deadline))
    conn.opened_at = time.monotonic()
    return conn


def _round_trip(conn, target: Target, body: bytes, headers: dict[str, str],
                deadline: _Deadline) -> tuple[int, str, bool]:
    """Status, excerpt, and whether the connection may carry another request."""
    conn.request("POST", target.path, body=body, headers=headers)
    conn.sock.settimeout(deadline.left())
    response = conn.getresponse()
    conn.sock.settimeout(deadline.left())
    excerpt = response.read(EXCERPT_BYTES).decode("utf-8", errors="replace")
    if not response.will_close and response.length is not None and response.length <= DRAIN_BYTES:
        response.read()  # the rest of a short answer, so the connection can be reused
    return response.status, excerpt, response.isclosed() and not response.will_close


def _exchange(target: Target, body: bytes, headers: dict[str, str], policy: UrlPolicy, deadline: _Deadline,
              context: ssl.SSLContext | None, pool: ConnectionPool | None) -> tuple[int, str]:
    key = (target.scheme, target.host, target.port)
    conn = pool.take(key) if pool else None
    reusable = False
    try:
        if conn is not None:
            conn._deadline = deadline
            try:
                status, excerpt, reusable = _round_trip(conn, target, body, headers, deadline)
                return status, excerpt
            except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
                conn.close()  # the receiver closed the idle connection first: once more on a new one
        conn = _open(target, policy, deadline, context)
        status, excerpt, reusable = _round_trip(conn, target, body, headers, deadline)
        return status, excerpt
    finally:
        if conn is not None and reusable and pool is not None:
            pool.give(key, conn)
        elif conn is not None:
            conn.close()


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"
    if isinstance(exc, http.client.HTTPException):
        return f"invalid HTTP response: {exc.__class__.__name__}"
    if isinstance(exc, UrlRefused):
        return f"refused by the URL policy: {exc.message.removeprefix('url: ')}"
    return str(exc) or exc.__class__.__name__


def post(url: str, body: bytes, headers: dict[str, str], timeout: float, policy: UrlPolicy,
         context: ssl.SSLContext | None = None, pool: ConnectionPool | None = None) -> HttpResult:
    """POST ``body`` to ``url`` through the policy within ``timeout`` seconds overall; never raises for I/O."""
    started = time.monotonic()
    deadline = _Deadline(timeout)
    try:
        status, excerpt = _exchange(parse_url(url), body, headers, policy, deadline, context, pool)
    except (OSError, http.client.HTTPException, UrlRefused, ValueError) as exc:
        elapsed = int((time.monotonic() - started) * 1000)
        return HttpResult(None, elapsed, error=_describe(exc, timeout), timed_out=isinstance(exc, TimeoutError))
    return HttpResult(status, int((time.monotonic() - started) * 1000), excerpt=excerpt)
