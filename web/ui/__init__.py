"""The staff's browser UI: server-rendered pages, one module per area, all on the ``ui`` blueprint.

Pages call the same domain services as the API; small scripts in ``static/`` enhance them (htmx, Chart.js, the
Try-it chat) and every page works without them.
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the UI pages, their error pages and the served assets."""
    from web.ui import assets, errors
    # Each module adds its pages to the blueprint when imported.
    from web.ui import (appointments, assistants, calls, dashboard, knowledge, numbers, settings, shell,  # noqa: F401
                        team, try_it)
    from web.ui.common import bp

    app.register_blueprint(bp)
    errors.init_app(app)
    assets.init_app(app, app.config["CALLBOX"])
