"""Configuration: one TOML file in the data directory plus ``CALLBOX_*`` environment overrides.

Each subsystem gets one frozen dataclass; ``load_config`` builds them once and the result is passed down.
Environment variables are named ``CALLBOX_<SECTION>_<KEY>`` (for example ``CALLBOX_WEB_PORT=9000``);
``CALLBOX_DATA_DIR`` picks the data directory.
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from appliance.errors import ConfigError

CONFIG_FILE = "callbox.toml"
SECRET_FILE = "secret.key"


@dataclass(frozen=True)
class WebConfig:
    host: str = "127.0.0.1"
    """Address the web process listens on."""
    port: int = 8080
    """TCP port of the web UI and API."""
    threads: int = 8
    """Waitress worker threads."""
    max_content_mb: int = 200
    """Largest accepted request body, in megabytes (uploads)."""
    signup_enabled: bool = True
    """Whether ``POST /auth/signup`` creates new organizations."""
    public_url: str = ""
    """Base URL users reach the appliance at (used in invite links); empty: the request's own."""
    trusted_proxies: int = 0
    """How many reverse proxies in front set X-Forwarded-For (0: trust none)."""


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = ""
    """Database URL; empty means SQLite ``callbox.db`` in the data directory. ``postgresql://...`` scales out."""
    busy_timeout_ms: int = 5000
    """How long SQLite waits on a locked database before failing."""


@dataclass(frozen=True)
class QueueConfig:
    url: str = ""
    """Huey storage URL; empty means SQLite ``queue.db`` in the data directory. ``redis://...`` scales out."""
    workers: int = 2
    """Worker threads of ``callbox worker``."""
    heartbeat_seconds: int = 30
    """How often the worker records that it is alive."""


@dataclass(frozen=True)
class AuthConfig:
    access_ttl_seconds: int = 3600
    """Lifetime of an access token."""
    refresh_ttl_days: int = 30
    """Lifetime of a refresh token."""
    login_max_failures: int = 5
    """Failed logins for one email from one address before login is throttled."""
    login_window_seconds: int = 900
    """Window over which failed logins are counted, and how long throttling lasts."""
    invite_ttl_hours: int = 72
    """Lifetime of an invitation link."""


@dataclass(frozen=True)
class RateLimitConfig:
    enabled: bool = True
    """Whether API rate limits apply."""
    per_user: str = "1000/hour"
    """Limit per authenticated user or API key."""
    per_ip: str = "100/hour"
    """Limit per client address for unauthenticated requests."""
    storage_url: str = "memory://"
    """Where counters live: ``memory://`` for one web process, ``redis://...`` for several."""


@dataclass(frozen=True)
class VoiceConfig:
    sip_port: int = 5060
    """UDP port of the SIP agent."""
    enabled: bool = True
    """Whether ``callbox up`` starts the voice agent."""
    sip_host: str = "0.0.0.0"
    """Address the SIP and RTP sockets bind to."""
    external_host: str = ""
    """Address advertised to the PBX in SIP and SDP (NAT); empty: the address that routes to the peer."""
    external_port: int = 0
    """SIP port advertised to the PBX (NAT port forward); 0: ``sip_port``."""
    rtp_port_min: int = 10000
    """Lowest RTP port handed to a call."""
    rtp_port_max: int = 20000
    """Highest RTP port handed to a call."""
    allowlist: str = "127.0.0.0/8,::1/128"
    """Comma-separated networks whose INVITEs are accepted without registration (trunk peers)."""
    default_outbound: str = ""
    """``host[:port]`` of the PBX trunk for outbound calls of workspaces with no registered number."""
    max_calls: int = 8
    """Concurrent calls of this box; INVITEs above it are answered 486 Busy Here."""
    max_call_seconds: int = 3600
    """A call still up after this long is ended with reason ``max_duration``."""
    rtp_timeout_seconds: int = 30
    """A call whose media stays silent on the wire this long ends with reason ``rtp_timeout``; 0 disables."""
    ring_timeout_seconds: int = 60
    """Outbound calls not answered within this are cancelled."""
    end_of_turn_ms: int = 500
    """Silence that ends the caller's turn (shorter answers sooner, longer interrupts fewer pauses)."""
    barge_in: bool = True
    """Whether caller speech during a prompt stops it."""
    no_input_seconds: int = 8
    """Silence from the caller before the assistant asks whether they are still there (then hangs up)."""
    language: str = "en"
    """Language whose speech engines are loaded at start (assistants in other languages load their own)."""
    asr_engine: str = "auto"
    """Speech recognition engine: auto (Vosk when a model is installed, else PocketSphinx), vosk, pocketsphinx."""
    amd: bool = True
    """Answering-machine detection on outbound calls."""
    amd_action: str = "message"
    """What to do when a machine answers: ``message`` (leave one after the greeting) or ``hangup``."""
    resync_seconds: int = 30
    """How often phone numbers are re-read from the database (registrations follow changes)."""


@dataclass(frozen=True)
class WebhooksConfig:
    timeout_seconds: float = 10.0
    """How long a receiver has to answer one delivery; a 2xx within it is success."""
    max_attempts: int = 10
    """Tries of one delivery before it is marked failed (about a day with the default backoff)."""
    retry_first_seconds: float = 30.0
    """Delay before the first retry; each later one is ``retry_factor`` times longer (with +-20 % jitter)."""
    retry_factor: float = 2.5
    """Growth of the retry delay from one try to the next."""
    blocked_networks: str = "169.254.0.0/16,fe80::/10,100.100.100.200/32,192.0.0.192/32,fd00:ec2::254/128"
    """Comma-separated networks webhooks may never reach (link-local and cloud metadata by default)."""
    concurrency: int = 32
    """Deliveries in flight at once per worker process."""
    per_endpoint: int = 4
    """Deliveries in flight at once to one webhook (one slow receiver never holds the others up)."""
    poll_seconds: float = 0.1
    """How often the worker looks for new events and due retries."""


@dataclass(frozen=True)
class LogConfig:
    level: str = "INFO"
    """Log level of every process."""


SECTIONS: dict[str, type] = {
    "web": WebConfig,
    "database": DatabaseConfig,
    "queue": QueueConfig,
    "auth": AuthConfig,
    "ratelimit": RateLimitConfig,
    "voice": VoiceConfig,
    "webhooks": WebhooksConfig,
    "log": LogConfig,
}


@dataclass(frozen=True)
class Config:
    data_dir: Path
    """Where the database, queue, keys, recordings and models live."""
    web: WebConfig = field(default_factory=WebConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    queue: QueueConfig = field(default_factory=QueueConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)
    ratelimit: RateLimitConfig = field(default_factory=RateLimitConfig)
    voice: VoiceConfig = field(default_factory=VoiceConfig)
    webhooks: WebhooksConfig = field(default_factory=WebhooksConfig)
    log: LogConfig = field(default_factory=LogConfig)
    testing: bool = False
    """Set by tests only: immediate Huey, no background threads."""

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir / 'callbox.db'}"

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.db"

    @property
    def secret_path(self) -> Path:
        return self.data_dir / SECRET_FILE

    @property
    def recordings_dir(self) -> Path:
        return self.data_dir / "recordings"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    def secret_key(self) -> bytes:
        """The data directory's secret key (signs tokens, derives encryption keys)."""
        try:
            return self.secret_path.read_bytes().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read secret key {self.secret_path}: {exc.strerror}") from exc

    def replace(self, **sections: Any) -> "Config":
        """A copy with whole sections replaced or fields changed (``web={'port': 1}``)."""
        changes = {}
        for name, value in sections.items():
            current = getattr(self, name)
            if isinstance(value, Mapping) and dataclasses.is_dataclass(current):
                value = dataclasses.replace(current, **value)
            changes[name] = value
        return dataclasses.replace(self, **changes)


def _coerce(value: Any, kind: Any, where: str) -> Any:
    kind_name = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    if kind_name == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
    elif kind_name == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
    elif kind_name == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and value.strip().replace(".", "", 1).lstrip("-").isdigit():
            return float(value)
    elif kind_name == "str":
        if isinstance(value, str):
            return value
    else:
        return value
    raise ConfigError(f"{where}: expected {kind_name}, got {value!r}")


def _build_section(name: str, cls: type, values: Mapping[str, Any], env: Mapping[str, str]) -> Any:
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"config section [{name}]: unknown setting {unknown[0]!r}")
    kwargs = {}
    for key, fld in known.items():
        env_name = f"CALLBOX_{name}_{key}".upper()
        if env_name in env:
            kwargs[key] = _coerce(env[env_name], fld.type, env_name)
        elif key in values:
            kwargs[key] = _coerce(values[key], fld.type, f"[{name}] {key}")
    return cls(**kwargs)


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse the TOML config file; a missing file is an empty config."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc


def resolve_data_dir(data_dir: str | os.PathLike | None, env: Mapping[str, str] | None = None) -> Path:
    """The data directory from the flag, else ``CALLBOX_DATA_DIR``, else ``./var``."""
    env = os.environ if env is None else env
    chosen = data_dir or env.get("CALLBOX_DATA_DIR") or "var"
    return Path(chosen).expanduser().resolve()


def load_config(data_dir: str | os.PathLike | None = None, env: Mapping[str, str] | None = None,
                **overrides: Any) -> Config:
    """Build the configuration from the data directory's TOML file and the environment."""
    env = os.environ if env is None else env
    root = resolve_data_dir(data_dir, env)
    raw = read_config_file(root / CONFIG_FILE)
    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"config file {root / CONFIG_FILE}: unknown section [{unknown[0]}]")
    sections = {}
    for name, cls in SECTIONS.items():
        values = raw.get(name, {})
        if not isinstance(values, dict):
            raise ConfigError(f"config file {root / CONFIG_FILE}: [{name}] must be a table")
        sections[name] = _build_section(name, cls, values, env)
    config = Config(data_dir=root, **sections)
    return config.replace(**overrides) if overrides else config


DEFAULT_CONFIG_TEXT = """\
# Callbox configuration. Every setting can be overridden by CALLBOX_<SECTION>_<KEY> in the environment.
[web]
host = "127.0.0.1"
port = 8080
max_content_mb = 200
signup_enabled = true

[database]
# url = "postgresql://callbox:secret@db.example/callbox"   # empty: SQLite in the data directory

[queue]
# url = "redis://127.0.0.1:6379/0"                         # empty: SQLite in the data directory
workers = 2

[auth]
access_ttl_seconds = 3600
refresh_ttl_days = 30

[ratelimit]
per_user = "1000/hour"
per_ip = "100/hour"

[voice]
sip_port = 5060
# sip_host = "0.0.0.0"
# external_host = ""                 # address the PBX reaches this box at, when behind NAT
# allowlist = "127.0.0.0/8,::1/128"  # PBX addresses allowed to send calls straight to sip_port (trunk mode)
# max_calls = 8                      # calls above this get 486 Busy Here
# end_of_turn_ms = 500               # caller silence that ends a turn
# amd_action = "message"             # outbound calls answered by a machine: message | hangup

[log]
level = "INFO"
"""
