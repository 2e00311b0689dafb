"""Every error leaves as the API envelope: ``{"success": false, "error": {code, message, details?}}``."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, jsonify, request
from peewee import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from appliance.errors import CallboxError

logger = logging.getLogger(__name__)

# HTTP statuses that reach us as werkzeug exceptions, and the contract's code for each.
_CODES = {
    400: "VALIDATION_ERROR", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE",
    416: "RANGE_NOT_SATISFIABLE", 422: "VALIDATION_ERROR", 429: "RATE_LIMIT_EXCEEDED",
    500: "INTERNAL_ERROR", 503: "SERVICE_UNAVAILABLE",
}
_MESSAGES = {
    400: "The request could not be read", 401: "Authentication is required",
    403: "Your role does not allow this", 404: "Not found",
    405: "This method is not allowed on this path", 413: "The request body is too large",
    415: "That content type is not supported here", 422: "The request is not valid",
    429: "Too many requests", 500: "Something went wrong on our side", 503: "The service is not available",
}


def error_body(code: str, message: str, details: Any = None) -> dict:
    """The error envelope."""
    error = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"success": False, "error": error}


def error_response(status: int, code: str, message: str, details: Any = None, headers: dict | None = None):
    """A JSON error response in the envelope (the browser UI renders its own paths' errors as pages)."""
    html = current_app.extensions.get("callbox.html_errors")
    if html is not None and html[0]():
        return html[1](status, code, message, headers)
    response = jsonify(error_body(code, message, details))
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="callbox"')
    return response


def _validation_message(messages: Any) -> str:
    """One readable line out of webargs/marshmallow messages."""
    if isinstance(messages, dict):
        for location, fields in messages.items():
            if isinstance(fields, dict) and fields:
                name, problems = next(iter(fields.items()))
                text = problems[0] if isinstance(problems, list) and problems else problems
                if isinstance(text, dict):
                    return f"{name}: invalid value"
                return f"{text}" if name == "_schema" else f"{name}: {text}"
            if isinstance(fields, list) and fields:
                return str(fields[0])
    return "The request is not valid"


def handle_http_exception(error: HTTPException):
    """Werkzeug/flask-smorest/webargs errors → envelope."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    headers = dict(data.get("headers") or {})
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(sorted(error.valid_methods))
    if error.response is not None and error.response.headers.get("Retry-After"):
        headers["Retry-After"] = error.response.headers["Retry-After"]
    details = data.get("errors") or data.get("messages")
    if status == 400 and details and "json" in details:
        message, details = "The request body is not valid JSON", None
    elif status in (400, 422) and details:
        message = _validation_message(details)
    else:
        message = data.get("message") or _MESSAGES.get(status) or error.description
    if status == 429:
        headers.setdefault("Retry-After", str(getattr(error, "retry_after", "") or 60))
    return error_response(status, _CODES.get(status, "INTERNAL_ERROR" if status >= 500 else "VALIDATION_ERROR"),
                          message, details, headers)


def handle_callbox_error(error: CallboxError):
    """Our own errors → envelope."""
    if error.status >= 500:
        logger.error("%s: %s", error.code, error.message)
    return error_response(error.status, error.code, error.message, error.details, error.headers)


def handle_database_down(error: Exception):
    """The database cannot be reached (or is not migrated): 503, so clients retry instead of giving up."""
    logger.error("database error on %s %s: %s", request.method, request.path, error)
    return error_response(503, "SERVICE_UNAVAILABLE", "The database is not available; try again shortly",
                          headers={"Retry-After": "30"})


def handle_unexpected(error: Exception):
    """Anything else: logged with its traceback, answered without it."""
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    logger.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "INTERNAL_ERROR", "Something went wrong on our side")


def init_app(app: Flask) -> None:
    """Register the handlers (API paths get JSON; the UI registers its own pages for its paths)."""
    app.register_error_handler(CallboxError, handle_callbox_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(OperationalError, handle_database_down)
    app.register_error_handler(InterfaceError, handle_database_down)
    app.register_error_handler(Exception, handle_unexpected)
