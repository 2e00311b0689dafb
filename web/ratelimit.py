"""Rate limits on the API: per user or API key when authenticated, per client address otherwise.

Counters live in flask-limiter's storage: ``memory://`` for the single web process of one box (shared by
all waitress threads), ``redis://`` when several web processes serve one appliance.
"""
from __future__ import annotations

from flask import Flask, g, request
from flask_limiter import Limiter

from appliance.config import RateLimitConfig
from web.auth import client_ip


def _key() -> str:
    principal = g.get("principal")
    return principal.rate_key if principal is not None else f"ip:{client_ip()}"


def _exempt() -> bool:
    return not (request.path.startswith("/api/") or request.path.startswith("/hooks/"))


def make_limiter(config: RateLimitConfig) -> Limiter:
    """A limiter whose limit depends on whether the caller is authenticated."""
    def limit() -> str:
        return config.per_user if g.get("principal") is not None else config.per_ip

    return Limiter(
        key_func=_key,
        default_limits=[limit],
        default_limits_exempt_when=_exempt,
        headers_enabled=True,
        storage_uri=config.storage_url,
        strategy="fixed-window",
        enabled=config.enabled,
        key_prefix="callbox",
    )


def init_app(app: Flask, config: RateLimitConfig) -> Limiter:
    """Install the limiter (after the caller-resolving hook, before access enforcement)."""
    limiter = make_limiter(config)
    limiter.init_app(app)
    app.extensions["callbox.limiter"] = limiter
    return limiter
