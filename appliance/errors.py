"""One exception hierarchy for the whole appliance, mapped once to the API error envelope."""
from __future__ import annotations

from typing import Any


class CallboxError(Exception):
    """Base of every error the appliance raises on purpose."""

    code = "INTERNAL_ERROR"
    status = 500

    def __init__(self, message: str = "", details: Any = None, *, headers: dict | None = None):
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        self.details = details
        self.headers = headers or {}


class ValidationError(CallboxError):
    """The request is not valid."""

    code, status = "VALIDATION_ERROR", 422


class BadRequest(ValidationError):
    """The request could not be read."""

    status = 400


class InvalidCredentials(CallboxError):
    """Wrong email or password."""

    code, status = "INVALID_CREDENTIALS", 401


class Unauthorized(CallboxError):
    """Authentication is required."""

    code, status = "UNAUTHORIZED", 401


class Forbidden(CallboxError):
    """Your role does not allow this."""

    code, status = "FORBIDDEN", 403


class NotFound(CallboxError):
    """Not found."""

    code, status = "NOT_FOUND", 404


class Conflict(CallboxError):
    """The request conflicts with the current state."""

    code, status = "CONFLICT", 409


class DuplicateEntry(Conflict):
    """That already exists."""

    code = "DUPLICATE_ENTRY"


class PayloadTooLarge(CallboxError):
    """The request body is too large."""

    code, status = "PAYLOAD_TOO_LARGE", 413


class UnsupportedMediaType(CallboxError):
    """That content type is not supported here."""

    code, status = "UNSUPPORTED_MEDIA_TYPE", 415


class RateLimitExceeded(CallboxError):
    """Too many requests."""

    code, status = "RATE_LIMIT_EXCEEDED", 429


class ServiceUnavailable(CallboxError):
    """The service is not available."""

    code, status = "SERVICE_UNAVAILABLE", 503


class ConfigError(CallboxError):
    """The configuration is not usable (CLI exit code 2)."""

    code, status = "INTERNAL_ERROR", 500
