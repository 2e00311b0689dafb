"""Health of the appliance: database, queue, worker and voice heartbeats."""
from __future__ import annotations

import datetime as dt
import time

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields

from data.base import isoformat, utcnow
from data.db import database
from data.models import Heartbeat
from jobs.queue import queue_status
from web.api.common import Schema, envelope
from web.auth import PUBLIC, access
from web.context import config

blp = Blueprint("health", __name__, description="Health")


class ComponentSchema(Schema):
    status = fields.String(required=True)
    error = fields.String()
    pending = fields.Integer()
    scheduled = fields.Integer()
    lastHeartbeat = fields.String(allow_none=True)


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"enum": ["healthy", "unhealthy"]})
    db = fields.Nested(ComponentSchema, required=True)
    queue = fields.Nested(ComponentSchema, required=True)
    worker = fields.Nested(ComponentSchema, required=True)
    voice = fields.Nested(ComponentSchema, required=True)
    uptime = fields.Integer(required=True)
    version = fields.String(required=True)


def _db_status() -> dict:
    try:
        database.execute_sql("SELECT 1").fetchone()
        return {"status": "ok"}
    except Exception as exc:  # any driver error means the database is down; reported, not raised
        return {"status": "error", "error": exc.__class__.__name__}


def _heartbeat(component: str, stale_after: float) -> dict:
    try:
        beat = Heartbeat.get_or_none(Heartbeat.component == component)
    except Exception as exc:  # reported as part of the health answer
        return {"status": "error", "error": exc.__class__.__name__, "lastHeartbeat": None}
    if beat is None:
        return {"status": "not_running", "lastHeartbeat": None}
    fresh = utcnow() - beat.at <= dt.timedelta(seconds=stale_after)
    return {"status": "ok" if fresh else "stale", "lastHeartbeat": isoformat(beat.at)}


def health_report() -> tuple[dict, int]:
    """The health document and its HTTP status (503 when the database or queue fails)."""
    stale_after = config().queue.heartbeat_seconds * 3
    report = {"db": _db_status(), "queue": queue_status(), "worker": _heartbeat("worker", stale_after),
              "voice": _heartbeat("voice", stale_after),
              "uptime": int(time.time() - current_app.config["CALLBOX_STARTED"]),
              "version": current_app.config["CALLBOX_VERSION"]}
    healthy = report["db"]["status"] == "ok" and report["queue"]["status"] == "ok"
    report["status"] = "healthy" if healthy else "unhealthy"
    return report, 200 if healthy else 503


@blp.route("/health")
class Health(MethodView):
    @access(PUBLIC)
    @blp.response(200, envelope(HealthSchema))
    @blp.alt_response(503, schema=envelope(HealthSchema), description="Unhealthy")
    def get(self):
        """Whether the appliance is healthy (503 when not)."""
        report, status = health_report()
        return {"data": report}, status


@access(PUBLIC)
def health_view():
    """``GET /api/health``: alias of ``/api/v1/health``."""
    report, status = health_report()
    body = envelope(HealthSchema)().dump({"data": report})
    return body, status
