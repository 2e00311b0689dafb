"""The web process: ``create_app(config)`` wires the browser UI and the REST API."""
from __future__ import annotations

import logging
import re
import secrets
import time

from flask import Flask, g, request
from peewee import InterfaceError, OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix

from appliance import __version__
from appliance.config import Config
from appliance.errors import UnsupportedMediaType
from appliance.security import SecretBox, TokenSigner
from data.db import database, init_database
from jobs.queue import bind_queues

logger = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def accepts_multipart(fn):
    """Mark a view method that takes ``multipart/form-data`` (uploads) instead of JSON."""
    fn._callbox_multipart = True
    return fn


def _check_content_type() -> None:
    if request.method not in _BODY_METHODS or not request.path.startswith("/api/"):
        return
    if not request.content_length and not request.headers.get("Transfer-Encoding"):
        return
    mimetype = request.mimetype or ""
    if mimetype == "application/json" or mimetype.endswith("+json"):
        return
    view = request.endpoint and _view_method()
    if mimetype == "multipart/form-data" and getattr(view, "_callbox_multipart", False):
        return
    raise UnsupportedMediaType(f"Send JSON (Content-Type: application/json), not {mimetype or 'no content type'}")


def _view_method():
    from flask import current_app
    view = current_app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, request.method.lower(), None) if view_class else view


def _start_request() -> None:
    incoming = request.headers.get("X-Request-Id", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)
    g.started = time.perf_counter()
    try:
        database.connect(reuse_if_open=True)
    except (OperationalError, InterfaceError) as exc:
        # Left to the first query: /health reports it as unhealthy (503), other endpoints answer 503.
        logger.warning("cannot connect to the database: %s", exc)


def _end_request(exc) -> None:
    if not database.is_closed():
        database.close()


def _finish_response(response):
    headers = response.headers
    headers["X-Request-Id"] = g.get("request_id", "")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    script = "'self' 'unsafe-inline'" if (request.endpoint or "").startswith("api-docs.") else "'self'"
    headers.setdefault("Content-Security-Policy",
                       f"default-src 'self'; script-src {script}; style-src 'self' 'unsafe-inline'; "
                       "img-src 'self' data: blob:; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'self'")
    if request.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")
    if response.status_code not in (429, 503):
        headers.pop("Retry-After", None)
    return response


class RequestIdFilter(logging.Filter):
    """Adds the request id to every log record made while serving a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.request_id = g.get("request_id", "-")
        except RuntimeError:
            record.request_id = "-"
        return True


def create_app(config: Config) -> Flask:
    """Build the web application for this configuration."""
    from web import auth, errors, ratelimit
    from web.api import init_app as init_api
    from web.ui import init_app as init_ui

    app = Flask(__name__, template_folder="ui/templates", static_folder="ui/static", static_url_path="/static")
    app.config.update(
        SECRET_KEY=config.secret_key(),
        MAX_CONTENT_LENGTH=config.web.max_content_mb * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        CALLBOX=config,
        CALLBOX_STARTED=time.time(),
        CALLBOX_VERSION=__version__,
        TESTING=config.testing,
    )
    app.json.sort_keys = False
    if config.web.trusted_proxies:
        n = config.web.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    init_database(config)
    bind_queues(config)
    app.before_request(_start_request)
    app.teardown_request(_end_request)
    app.after_request(_finish_response)
    errors.init_app(app)
    app.extensions["callbox.box"] = SecretBox(config.secret_key())
    auth.init_app(app, TokenSigner(config.secret_key(), config.auth.access_ttl_seconds))
    ratelimit.init_app(app, config.ratelimit)
    app.before_request(auth.enforce_access)
    app.before_request(_check_content_type)
    init_api(app)
    init_ui(app)
    return app
