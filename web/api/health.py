"""Health of the appliance: database, queue, worker and voice heartbeats."""
from __future__ import annotations

import datetime as dt
import logging
import time
from functools import lru_cache

from flask import Response, current_app, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields

from data.base import isoformat, utcnow
from data.db import database
from data.migrations import available
from data.models import CORE_MODELS, Heartbeat
from jobs.queue import queue_status
from web.api.common import ErrorDetailSchema, Schema, envelope
from web.auth import PUBLIC, access
from web.context import config

logger = logging.getLogger(__name__)

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


@lru_cache(maxsize=1)
def _schema_expected() -> tuple[int, frozenset[str]]:
    return max((m.version for m in available()), default=0), frozenset(m._meta.table_name for m in CORE_MODELS)


def _schema_problem() -> str | None:
    latest, tables = _schema_expected()
    missing = sorted(tables - set(database.get_tables()))
    if missing:
        return f"missing tables: {', '.join(missing)}"
    version = database.execute_sql("SELECT MAX(version) FROM schema_migrations").fetchone()[0] or 0
    return None if version >= latest else f"schema at version {version}, this release needs {latest}"


def _db_status() -> dict:
    """Reachable and migrated: a database that answers but lacks its tables is not healthy either."""
    try:
        problem = _schema_problem()
    except Exception as exc:  # any driver error means the database is down; reported, not raised
        logger.warning("health: database check failed: %s", exc)
        return {"status": "error", "error": exc.__class__.__name__}
    return {"status": "error", "error": problem} if problem else {"status": "ok"}


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


class UnhealthySchema(Schema):
    """503: the error envelope, with the health document in ``data``."""

    success = fields.Boolean(required=True, metadata={"enum": [False]})
    error = fields.Nested(ErrorDetailSchema, required=True)
    data = fields.Nested(HealthSchema, required=True)


def health_response() -> Response:
    """The health answer: 200 with the report, or 503 with the error envelope and the report."""
    report, status = health_report()
    if status == 200:
        return jsonify(envelope(HealthSchema)().dump({"data": report}))
    failing = ", ".join(name for name in ("db", "queue") if report[name]["status"] != "ok")
    body = {"success": False, "error": {"code": "SERVICE_UNAVAILABLE", "message": f"Unhealthy: {failing}"},
            "data": report}
    response = jsonify(UnhealthySchema().dump(body))
    response.status_code = 503
    return response


@blp.route("/health")
class Health(MethodView):
    @access(PUBLIC)
    @blp.response(200, envelope(HealthSchema))
    @blp.alt_response(503, schema=UnhealthySchema, description="Unhealthy")
    def get(self):
        """Whether the appliance is healthy (503 when not)."""
        return health_response()


@access(PUBLIC)
def health_view():
    """``GET /api/health``: alias of ``/api/v1/health``."""
    return health_response()
