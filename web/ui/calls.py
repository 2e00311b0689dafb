"""Calls: the filterable, searchable list with its stats, CSV export, and one call in full with its recording
(the transcript follows and seeks the playback), analysis, events, notes and tags.

Everyone may read calls, as in the API; notes and tags are an AGENT's. The recording is served here as well as by
the API, because an ``<audio>`` element cannot send the CSRF header the API wants from a browser session.
"""
from __future__ import annotations

import csv
import io
import logging
import re
from typing import Iterator

from flask import Response, current_app, flash, render_template, request, send_file, stream_with_context
from marshmallow import ValidationError as SchemaError

from appliance import calls, calls_list, calls_recording
from appliance.errors import CallboxError, NotFound
from appliance.roles import Role
from data.calls import DIRECTIONS, HANDLERS, OUTCOMES, STATUSES, CallEvent, TranscriptSegment
from web.api import calls_schemas
from web.context import config
from web.ui.common import PAGE_SIZE, back, bp, page, page_number, text, viewer

logger = logging.getLogger(__name__)

STATS_CACHE = "callbox.call_stats"  # shared with the API's list
FILTERS = ("status", "direction", "handledBy", "outcome", "startDate", "endDate", "search")
EXPORT_MAX = 100_000
EXPORT_PAGE = 1000
EXPORT_COLUMNS = ("id", "started_at", "ended_at", "direction", "status", "from_number", "to_number", "extension",
                  "duration_seconds", "handled_by", "outcome", "ended_reason", "language", "sentiment",
                  "intent_detected", "ai_confidence")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
STATUS_KIND = {"completed": "good", "answered": "good", "active": "info", "no_answer": "warn", "busy": "warn",
               "failed": "bad"}


def _args() -> tuple[dict, str | None]:
    """The list's filters from the query string, checked by the API's own schema; and a problem, if any."""
    raw = {k: v.strip() for k, v in request.args.items() if k in FILTERS and v.strip()}
    try:
        args = calls_schemas.CallQuerySchema().load({**raw, "limit": PAGE_SIZE, "page": page_number()})
    except SchemaError as exc:
        names = ", ".join(sorted(exc.messages))
        return calls_schemas.CallQuerySchema().load({"limit": PAGE_SIZE}), f"Ignored filters that are not valid: {names}"
    return args, None


def _cache():
    return current_app.extensions.get(STATS_CACHE)


@bp.route("/calls", endpoint="calls")
@page(Role.VIEWER)
def calls_page():
    who = viewer()
    args, problem = _args()
    if problem:
        flash(problem, "warning")
    try:
        rows, stats, pager = calls_list.page(who.org_id, args, _cache())
    except CallboxError as exc:
        flash(exc.message, "warning")
        args = calls_schemas.CallQuerySchema().load({"limit": PAGE_SIZE})
        rows, stats, pager = calls_list.page(who.org_id, args, _cache())
    shown = {k: request.args.get(k, "").strip() for k in FILTERS}
    link_args = {k: v for k, v in shown.items() if v}
    return render_template("calls/list.html", page_title="Calls", rows=rows, stats=stats, filters=shown,
                           link_args=link_args, pager={"page": pager["page"], "pages": max(1, pager["totalPages"]),
                                                       "total": pager["total"], "has_prev": pager["hasPrev"],
                                                       "has_next": pager["hasNext"]},
                           choices={"status": STATUSES, "direction": DIRECTIONS, "handledBy": HANDLERS,
                                    "outcome": OUTCOMES}, kinds=STATUS_KIND)


def _safe_cell(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (plain numbers such as +1212... stay as they are)."""
    cell = "" if value is None else str(value)
    if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.match(cell):
        return "'" + cell
    return cell


def _csv_lines(org_id: str, args: dict) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    flt = calls_list.Filter.parse(org_id, args)
    for number in range(1, EXPORT_MAX // EXPORT_PAGE + 1):
        chunk = calls_list.rows(flt, {**args, "page": number, "limit": EXPORT_PAGE})
        for row in chunk:
            writer.writerow([_safe_cell(row[c]) for c in EXPORT_COLUMNS])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if len(chunk) < EXPORT_PAGE:
            return


@bp.route("/calls/export.csv")
@page(Role.VIEWER)
def calls_export():
    who = viewer()
    args, problem = _args()
    if problem:
        flash(problem, "warning")
        return back("ui.calls")
    args = {**args, "page": 1}
    try:
        calls_list.Filter.parse(who.org_id, args)
    except CallboxError as exc:
        flash(exc.message, "warning")
        return back("ui.calls")
    return Response(stream_with_context(_csv_lines(who.org_id, args)), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="calls.csv"'})


def _detail(call) -> dict:
    segments = list(TranscriptSegment.select().where(TranscriptSegment.call == call.id)
                    .order_by(TranscriptSegment.start_seconds, TranscriptSegment.id))
    events = list(CallEvent.select().where(CallEvent.call == call.id).order_by(CallEvent.created_at, CallEvent.id))
    return calls_schemas.detail_view(call, segments, events, calls.notes(call), calls.tags(call))


@bp.route("/calls/<string:call_id>")
@page(Role.VIEWER)
def call_detail(call_id: str):
    call = calls.get(viewer().org_id, call_id)
    return render_template("calls/detail.html", page_title=f"Call {call.from_number} → {call.to_number}",
                           call=call, d=_detail(call), kinds=STATUS_KIND)


@bp.route("/calls/<string:call_id>/recording")
@page(Role.VIEWER)
def call_recording(call_id: str):
    call = calls.get(viewer().org_id, call_id)
    if not call.recording_path:
        raise NotFound("This call has no recording")
    path = calls_recording.resolve(call.recording_path, config().recordings_dir)
    if not path.is_file():
        raise NotFound("The recording file is missing from the recordings directory")
    fmt = call.recording_format if call.recording_format in calls_recording.MIMETYPES else "wav"
    return send_file(path, mimetype=calls_recording.MIMETYPES[fmt], conditional=True, etag=True, max_age=0,
                     download_name=f"{call.id}.{fmt}")


@bp.route("/calls/<string:call_id>/notes", methods=["POST"])
@page(Role.AGENT)
def call_note(call_id: str):
    who = viewer()
    call = calls.get(who.org_id, call_id)
    try:
        calls.add_note(call, who.user, request.form.get("content", ""))
    except CallboxError as exc:
        flash(f"Note not added: {exc.message}", "error")
    else:
        flash("Note added.", "success")
    return back("ui.call_detail", call_id=call.id, _anchor="notes")


@bp.route("/calls/<string:call_id>/tags", methods=["POST"])
@page(Role.AGENT)
def call_tag(call_id: str):
    who = viewer()
    call = calls.get(who.org_id, call_id)
    try:
        if request.form.get("action") == "remove":
            calls.remove_tag(call, text("tag"))
        else:
            calls.add_tag(call, text("tag"))
    except CallboxError as exc:
        flash(f"Tag not changed: {exc.message}", "error")
    return back("ui.call_detail", call_id=call.id, _anchor="tags")
