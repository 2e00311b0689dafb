"""The staff's browser UI (server-rendered pages)."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the UI pages."""
    from web.ui import pages

    app.register_blueprint(pages.bp)
