"""Settings of the SIP agent and of one registered SIP account (frozen; built once during wiring)."""
from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class SipSettings:
    bind_host: str = "0.0.0.0"
    """Address the SIP UDP socket binds to."""
    bind_port: int = 5060
    """UDP port of the SIP socket (registrations and trunk INVITEs share it)."""
    external_host: str = ""
    """Address advertised in Via, Contact and SDP ``c=`` (NAT); empty: the address that routes to the peer."""
    external_port: int = 0
    """Port advertised in Via and Contact (NAT port forward); 0: ``bind_port``."""
    media_host: str = ""
    """Address RTP sockets bind to; empty: ``bind_host``."""
    rtp_port_min: int = 10000
    """Lowest RTP port handed to a call."""
    rtp_port_max: int = 20000
    """Highest RTP port handed to a call."""
    allowlist: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    """Networks allowed to send INVITEs straight to us (trunk peers); registrars are always allowed."""
    max_calls: int = 8
    """Concurrent calls (both directions); INVITEs above it get 486 Busy Here."""
    max_call_seconds: float = 3600.0
    """A call still up after this long is hung up with reason ``max_duration``."""
    rtp_timeout_seconds: float = 30.0
    """A call whose media receives nothing for this long ends with reason ``rtp_timeout``; 0 disables."""
    ring_timeout_seconds: float = 60.0
    """Unanswered inbound calls get 480 after this; outbound calls are cancelled after it."""
    user_agent: str = "Callbox"
    """User-Agent / Server header value."""
    codecs: tuple[str, ...] = ("PCMU", "PCMA")
    """Audio codecs offered and accepted, in order of preference."""
    dtmf_payload_type: int = 101
    """RTP payload type of RFC 2833 telephone-event in our offers."""
    t1_seconds: float = 0.5
    """SIP timer T1 (RTT estimate); retransmissions start at T1 and transactions time out at 64*T1."""
    keepalive_seconds: float = 30.0
    """OPTIONS ping to each registrar to notice it going away and coming back; 0 disables."""
    register_retry_seconds: float = 30.0
    """Wait before retrying a failed or unreachable registration."""
    transfer_timeout_seconds: float = 30.0
    """How long a blind transfer waits for the final NOTIFY."""
    default_outbound: str = ""
    """``host[:port]`` of the PBX trunk that outbound calls go to when no account is given."""

    def __post_init__(self) -> None:
        if not 0 <= self.bind_port <= 65535 or not 0 <= self.external_port <= 65535:
            raise ValueError("SIP ports must be between 0 and 65535")
        if not 0 < self.rtp_port_min <= self.rtp_port_max <= 65535:
            raise ValueError("RTP port range is invalid")
        if self.max_calls < 0:
            raise ValueError("max_calls must be >= 0")
        for net in self.allowlist:
            ipaddress.ip_network(net, strict=False)  # raises ValueError on a bad entry

    @cached_property
    def allowed_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The allowlist parsed into networks."""
        return tuple(ipaddress.ip_network(net, strict=False) for net in self.allowlist)

    @property
    def transaction_timeout(self) -> float:
        """Timer B/F: how long a request waits for its final response."""
        return 64 * self.t1_seconds


_CONFIG_ALIASES = {"bind_port": "sip_port", "bind_host": "sip_host", "allowlist": "sip_allowlist"}


def settings_from_config(voice_config: Any) -> SipSettings:
    """SipSettings from the ``[voice]`` config section: same-named fields (or ``sip_port``/``sip_host``/
    ``sip_allowlist``) are taken, comma-separated strings become tuples, the rest keep their defaults."""
    values: dict[str, Any] = {}
    for fld in dataclasses.fields(SipSettings):
        for name in (fld.name, _CONFIG_ALIASES.get(fld.name)):
            if name and hasattr(voice_config, name):
                value = getattr(voice_config, name)
                if fld.name in ("allowlist", "codecs") and isinstance(value, str):
                    value = tuple(part.strip() for part in value.split(",") if part.strip())
                values[fld.name] = value
    return SipSettings(**values)


@dataclass(frozen=True)
class SipAccount:
    number: str
    """The phone number this account answers for (routing key and caller ID of outbound calls)."""
    server: str
    """Registrar / PBX host."""
    username: str
    """SIP user (extension) registered at the PBX."""
    password: str = ""
    """Digest password; never logged."""
    port: int = 5060
    """Registrar UDP port."""
    domain: str = ""
    """SIP domain of the account's URIs; empty: ``server``."""
    auth_username: str = ""
    """Digest user name when it differs from ``username``."""
    display_name: str = ""
    """Display name in From of outbound calls."""
    expires: int = 300
    """Registration lifetime asked for (the registrar may shorten it)."""
    transport: str = "udp"
    """Only UDP is supported."""

    def __post_init__(self) -> None:
        if self.transport.lower() != "udp":
            raise ValueError(f"SIP transport {self.transport!r} is not supported (only udp)")
        if not self.server or not self.username:
            raise ValueError("a SIP account needs a server and a username")

    @property
    def sip_domain(self) -> str:
        """The domain used in the account's SIP URIs."""
        return self.domain or self.server

    @property
    def digest_user(self) -> str:
        """The user name sent in digest credentials."""
        return self.auth_username or self.username

    @property
    def aor(self) -> str:
        """Address of record: ``sip:user@domain``."""
        return f"sip:{self.username}@{self.sip_domain}"

    def __repr__(self) -> str:  # keeps the password out of logs and tracebacks
        return f"SipAccount(number={self.number!r}, username={self.username!r}, server={self.server!r})"
