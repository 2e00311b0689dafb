"""Rate limits on the API: per user or API key when authenticated, per client address otherwise.

One fixed-window budget per caller for the whole API (not per endpoint), counted in a ``limits`` storage:
``memory://`` for the single web process of one box (shared by all waitress threads, it locks per key),
``redis://`` when several web processes serve one appliance. Every API response shows the caller's budget in
``X-RateLimit-Limit/Remaining/Reset`` (reset as epoch seconds); over it, 429 with ``Retry-After``.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

from flask import Flask, current_app, g, request
from flask.wrappers import Response
from limits import RateLimitItem, parse
from limits.errors import ConfigurationError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from appliance.config import RateLimitConfig
from appliance.errors import ConfigError, RateLimitExceeded
from web.auth import client_ip

logger = logging.getLogger(__name__)

# Monitoring probes and the docs UI are not charged: a probe every 30 s would use up a 100/hour budget.
_UNCHARGED = ("health.", "health_alias", "api-docs.")


@dataclass(frozen=True)
class Budget:
    """What the caller has left in the current window."""

    limit: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Reset": str(self.reset)}

    def retry_after(self) -> int:
        return max(1, math.ceil(self.reset - time.time()))


class LocalWindowCounter:
    """Fixed-window counters in this process (``memory://``): a dict and one lock, no timer threads.

    ``limits``' own memory storage starts a timer thread on almost every hit, which costs more than the
    request itself on a small box; Redis (several web processes) still goes through ``limits``.
    """

    def __init__(self, max_keys: int = 100_000):
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # key -> (window start, count)
        self._max_keys = max_keys

    def hit(self, item: RateLimitItem, key: str, charged: bool = True) -> tuple[bool, int, int]:
        """Count one request; (allowed, remaining, reset epoch seconds)."""
        length = item.get_expiry()
        now = int(time.time())
        start = now - now % length
        with self._lock:
            begun, count = self._windows.get(key, (start, 0))
            if begun != start:
                count = 0
            if charged and count < item.amount:
                count += 1
            elif charged:
                count = item.amount + 1
            if len(self._windows) >= self._max_keys:
                self._sweep(start)
            self._windows[key] = (start, min(count, item.amount + 1))
        return count <= item.amount or not charged, max(0, item.amount - count), start + length

    def _sweep(self, current_start: int) -> None:
        for key in [k for k, (begun, _) in self._windows.items() if begun != current_start]:
            del self._windows[key]
        if len(self._windows) >= self._max_keys:
            # Every key is in the current window: start over rather than scan the whole table on each hit.
            self._windows.clear()


class StorageCounter:
    """Fixed-window counters in a ``limits`` storage (Redis for several web processes)."""

    def __init__(self, url: str):
        self._limiter = FixedWindowRateLimiter(storage_from_string(url))

    def hit(self, item: RateLimitItem, key: str, charged: bool = True) -> tuple[bool, int, int]:
        allowed = self._limiter.hit(item, key) if charged else True
        stats = self._limiter.get_window_stats(item, key)
        return allowed, stats.remaining, math.ceil(stats.reset_time)


def _metered() -> bool:
    return request.path.startswith(("/api/", "/hooks/"))


class RateLimiter:
    """Counts requests per caller in fixed windows and refuses those over their budget."""

    def __init__(self, config: RateLimitConfig):
        try:
            self.per_user: RateLimitItem = parse(config.per_user)
            self.per_ip: RateLimitItem = parse(config.per_ip)
            self._counter = (LocalWindowCounter() if config.storage_url.startswith("memory://")
                             else StorageCounter(config.storage_url))
        except (ValueError, ConfigurationError) as exc:
            raise ConfigError(f"[ratelimit]: {exc}") from exc
        self.enabled = config.enabled

    def _caller(self) -> tuple[RateLimitItem, str]:
        principal = g.get("principal")
        if principal is not None:
            return self.per_user, principal.rate_key
        return self.per_ip, f"ip:{client_ip()}"

    def charge(self, charged: bool = True) -> Budget | None:
        """Count one request of the current caller (unless not ``charged``); their budget, or None."""
        item, key = self._caller()
        try:
            allowed, remaining, reset = self._counter.hit(item, key, charged)
        except Exception:  # the counter store is down: serve the request rather than refuse everyone
            logger.exception("rate-limit storage failed; request not counted")
            return None
        budget = Budget(item.amount, remaining, reset)
        if not allowed:
            logger.info("rate limit %s exceeded by %s", item, key.split(":", 1)[0])
            g.rate_budget = budget
            raise RateLimitExceeded(f"Too many requests: the limit is {item}",
                                    headers={"Retry-After": str(budget.retry_after())})
        return budget

    def before_request(self) -> None:
        """Charge metered requests (after the caller is known, before access is enforced)."""
        g.rate_budget = None
        if not self.enabled or not _metered():
            return
        charged = not (request.endpoint or "").startswith(_UNCHARGED)
        g.rate_budget = self.charge(charged)

    @staticmethod
    def after_request(response: Response) -> Response:
        """Show the caller's budget on every metered response."""
        budget = g.get("rate_budget")
        if budget is not None:
            response.headers.update(budget.headers())
        return response


def limiter() -> RateLimiter:
    """The application's rate limiter."""
    return current_app.extensions["callbox.limiter"]


def init_app(app: Flask, config: RateLimitConfig) -> RateLimiter:
    """Install the limiter (after the caller-resolving hook, before access enforcement)."""
    instance = RateLimiter(config)
    app.extensions["callbox.limiter"] = instance
    app.before_request(instance.before_request)
    app.after_request(instance.after_request)
    return instance
