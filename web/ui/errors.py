"""Friendly HTML error pages for the browser UI's paths; the API, webhooks and feeds keep the JSON envelope.

``web/errors.py`` maps every error once; for paths outside ``JSON_PATHS`` it hands the status and message here.
The page uses a layout that needs no database, so it renders even when the database is what failed.
"""
from __future__ import annotations

import logging

from flask import Flask, make_response, render_template, request
from jinja2 import TemplateError

logger = logging.getLogger(__name__)

JSON_PATHS = ("/api/", "/hooks/", "/calendar/")

TITLES = {
    400: "That request could not be used", 401: "Please sign in", 403: "Not allowed for your role",
    404: "Page not found", 405: "That action is not available here", 413: "That file is too large",
    415: "That kind of file is not supported", 429: "Too many attempts", 500: "Something went wrong",
    503: "Callbox is busy or starting",
}
HINTS = {
    403: "Your role in this workspace does not include this. An administrator can change your role.",
    404: "The page may have moved, or the item was deleted. Check the address or go back to the dashboard.",
    500: "The error was logged. Try again; if it keeps happening, tell your administrator.",
    503: "Try again in a few seconds.",
}


def wants_html() -> bool:
    """Whether the current request is a browser page (not API, webhook or feed)."""
    return not request.path.startswith(JSON_PATHS)


def render_error(status: int, code: str, message: str, headers: dict | None = None):
    """The HTML error page for a UI path."""
    title = TITLES.get(status, "Something went wrong" if status >= 500 else "That did not work")
    # Server errors say nothing about their cause; other errors explain themselves to the user.
    detail = "" if status >= 500 else message
    try:
        body = render_template("error.html", status=status, title=title, detail=detail, hint=HINTS.get(status, ""))
    except TemplateError:
        logger.exception("cannot render the error page")
        body = f"<!doctype html><title>{status}</title><h1>{status} {title}</h1>"
    response = make_response(body, status)
    response.mimetype = "text/html"
    for name, value in (headers or {}).items():
        if name.lower() != "www-authenticate":
            response.headers[name] = value
    return response


def init_app(app: Flask) -> None:
    """Let ``web.errors`` render UI paths' errors as pages."""
    app.extensions["callbox.html_errors"] = (wants_html, render_error)
