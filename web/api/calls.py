"""Call records (CDR): the list with stats, one call in full, records from other systems, live calls,
concurrency, notes, tags and recordings. Live control (dial, hangup, transfer) belongs to the voice agent's module.

Access (lowest role):
| endpoint                                                   | role    | why                                    |
|------------------------------------------------------------|---------|----------------------------------------|
| GET /calls, /calls/{id}, /calls/live, /calls/concurrency,  | VIEWER  | reading the call history is what every |
|     /calls/concurrency/timeseries, /calls/{id}/notes,      |         | member of the workspace does           |
|     /calls/{id}/recording                                  |         |                                        |
| POST /calls/{id}/notes, POST/DELETE /calls/{id}/tags       | AGENT   | annotating calls is front-desk work    |
| POST /calls, POST /calls/{id}/recording                    | MANAGER | records and audio others report on     |

The list answers ``{success, data: [calls], stats: {totalCalls, aiHandled, humanTransfers, avgDuration},
pagination}``: ``stats`` sits beside ``data`` (so ``data`` stays a list like every other list) and covers every
call matching the filter, not only the page.
"""
from __future__ import annotations

from flask import current_app, jsonify, send_file
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from appliance import audit, calls, calls_list, calls_query, calls_recording
from appliance.errors import CallboxError, NotFound
from appliance.roles import Role
from data.calls import CallEvent, TranscriptSegment
from web import accepts_multipart
from web.api import calls_schemas as s
from web.api.common import ErrorEnvelopeSchema, envelope
from web.auth import access, client_ip, current_principal
from web.context import config

blp = Blueprint("calls", __name__, description="Call records (CDR), live calls, recordings of calls")
STATS_CACHE = "callbox.call_stats"


class RangeNotSatisfiable(CallboxError):
    """The requested byte range is outside the file."""

    code, status = "RANGE_NOT_SATISFIABLE", 416


@blp.record_once
def _install_cache(state) -> None:
    state.app.extensions.setdefault(STATS_CACHE, calls_list.StatsCache())


def _org_id() -> str:
    return current_principal().organization.id


def _call(call_id: str):
    return calls.get(_org_id(), call_id)


def _audit(action: str, target: str) -> None:
    principal = current_principal()
    audit.record(action, organization_id=principal.organization.id, user_id=principal.user_id,
                 target_type="call", target_id=target, ip=client_ip())


@blp.route("/calls")
class Calls(MethodView):
    @access(Role.VIEWER)
    @blp.arguments(s.CallQuerySchema(), location="query")  # an instance: webargs builds a class per request
    @blp.response(200, s.CallListEnvelope)
    def get(self, args):
        """Call records, newest first (filters, search by number or extension, sorting); stats for the filter."""
        rows, stats, page = calls_list.page(_org_id(), args, current_app.extensions.get(STATS_CACHE))
        # Already JSON-ready (see summary_view): skipping the schema dump keeps the busiest list fast.
        return jsonify(success=True, data=[s.summary_view(r) for r in rows], stats=stats, pagination=page)

    @access(Role.MANAGER)
    @blp.arguments(s.CallCreateSchema)
    @blp.response(201, envelope(s.CallDetailSchema))
    @blp.alt_response(409, schema=ErrorEnvelopeSchema, description="externalId is already recorded")
    def post(self, body):
        """Record a finished call handled by another system (numbers are stored as E.164)."""
        call = calls.create_external(_org_id(), body)
        _audit("call.created", call.id)
        return {"data": _detail(calls.get(_org_id(), call.id))}


def _detail(call) -> dict:
    segments = list(TranscriptSegment.select().where(TranscriptSegment.call == call.id)
                    .order_by(TranscriptSegment.start_seconds, TranscriptSegment.id))
    events = list(CallEvent.select().where(CallEvent.call == call.id).order_by(CallEvent.created_at, CallEvent.id))
    return s.detail_view(call, segments, events, calls.notes(call), calls.tags(call))


@blp.route("/calls/live")
class LiveCalls(MethodView):
    @access(Role.VIEWER)
    @blp.response(200, envelope(s.LiveCallSchema, many=True))
    def get(self):
        """Calls in progress, with what is being said and the AI's confidence."""
        return {"data": [s.live_view(item) for item in calls_query.live_calls(_org_id())]}


@blp.route("/calls/concurrency")
class Concurrency(MethodView):
    @access(Role.VIEWER)
    @blp.response(200, envelope(s.ConcurrencySchema))
    def get(self):
        """Simultaneous calls: now, the peak of the last 24 hours, and the workspace's limit."""
        return {"data": calls_query.concurrency(_org_id())}


@blp.route("/calls/concurrency/timeseries")
class ConcurrencySeries(MethodView):
    @access(Role.VIEWER)
    @blp.arguments(s.SeriesQuerySchema, location="query")
    @blp.response(200, envelope(s.SeriesPointSchema, many=True))
    def get(self, args):
        """The most simultaneous calls per minute, hour or day (UTC buckets, oldest first)."""
        return {"data": calls_query.concurrency_series(_org_id(), args["granularity"], args["limit"])}


@blp.route("/calls/<string:call_id>")
class CallsById(MethodView):
    @access(Role.VIEWER)
    @blp.response(200, envelope(s.CallDetailSchema))
    def get(self, call_id):
        """One call in full: transcript, analysis, events, notes, tags and recording."""
        return {"data": _detail(_call(call_id))}


@blp.route("/calls/<string:call_id>/notes")
class CallNotes(MethodView):
    @access(Role.VIEWER)
    @blp.response(200, envelope(s.NoteSchema, many=True))
    def get(self, call_id):
        """The call's notes, oldest first, with their authors."""
        return {"data": [s.note_view(n) for n in calls.notes(_call(call_id))]}

    @access(Role.AGENT)
    @blp.arguments(s.NoteSchema)
    @blp.response(201, envelope(s.NoteSchema))
    def post(self, body, call_id):
        """Add a note to the call."""
        note = calls.add_note(_call(call_id), current_principal().user, body["content"])
        return {"data": s.note_view(note)}


@blp.route("/calls/<string:call_id>/tags")
class CallTags(MethodView):
    @access(Role.AGENT)
    @blp.arguments(s.TagInSchema)
    @blp.response(201, envelope(s.TagsSchema))
    @blp.alt_response(200, schema=envelope(s.TagsSchema), description="The call already had the tag")
    def post(self, body, call_id):
        """Tag the call (tags are lower-case; tagging twice is harmless and answers 200)."""
        call = _call(call_id)
        tag, created = calls.add_tag(call, body["tag"])
        data = {"callId": call.id, "tag": tag, "tags": calls.tags(call)}
        return ({"data": data}, 201) if created else ({"data": data, "message": "The call already had this tag"}, 200)


@blp.route("/calls/<string:call_id>/tags/<string:tag>")
class CallTagByName(MethodView):
    @access(Role.AGENT)
    @blp.response(200, envelope(s.TagsSchema))
    def delete(self, call_id, tag):
        """Take a tag off the call."""
        call = _call(call_id)
        calls.remove_tag(call, tag)
        return {"data": {"callId": call.id, "tags": calls.tags(call)}, "message": "Tag removed"}


AUDIO_DOC = {"responses": {
    "200": {"description": "the recording", "headers": {"Accept-Ranges": {"schema": {"type": "string"}}},
            "content": {m: {"schema": {"type": "string", "format": "binary"}}
                        for m in calls_recording.MIMETYPES.values()}},
    "206": {"description": "the requested byte range (HTTP Range)",
            "content": {m: {"schema": {"type": "string", "format": "binary"}}
                        for m in calls_recording.MIMETYPES.values()}},
}}


@blp.route("/calls/<string:call_id>/recording")
class CallRecording(MethodView):
    @access(Role.VIEWER)
    @blp.arguments(s.RecordingQuerySchema, location="query")
    @blp.doc(**AUDIO_DOC)
    @blp.response(200)
    @blp.alt_response(415, schema=ErrorEnvelopeSchema, description="MP3 asked for and no encoder installed")
    @blp.alt_response(416, schema=ErrorEnvelopeSchema, description="The byte range is outside the file")
    def get(self, args, call_id):
        """The call's audio (`?format=wav|mp3`); HTTP Range requests get 206 Partial Content."""
        call = _call(call_id)
        if not call.recording_path:
            raise NotFound("This call has no recording")
        path = calls_recording.resolve(call.recording_path, config().recordings_dir)
        if not path.is_file():
            raise NotFound("The recording file is missing from the recordings directory")
        if args["format"] == "mp3":
            path = calls_recording.as_mp3(path)
        return _send(path, args["format"], call.id)

    @access(Role.MANAGER)
    @accepts_multipart
    @blp.arguments(s.RecordingUploadSchema, location="files")
    @blp.response(201, envelope(s.RecordingOutSchema))
    @blp.alt_response(413, schema=ErrorEnvelopeSchema, description="Larger than the upload limit")
    @blp.alt_response(415, schema=ErrorEnvelopeSchema, description="Not a PCM WAV file")
    def post(self, files, call_id):
        """Attach a recording (multipart `recording`, PCM WAV) to the call, replacing any earlier one."""
        call = _call(call_id)
        limit = config().web.max_content_mb * 1024 * 1024
        calls.attach_upload(call, files["recording"].stream, limit, config().recordings_dir)
        _audit("call.recording_attached", call.id)
        url = s.recording_url(call.id, call.recording_path)
        return {"data": {"callId": call.id, "recordingUrl": url, "url": url,
                         "format": call.recording_format, "durationSeconds": call.recording_duration_seconds,
                         "sizeBytes": call.recording_size}}


def _send(path, fmt: str, call_id: str):
    try:
        return send_file(path, mimetype=calls_recording.MIMETYPES[fmt], conditional=True, etag=True,
                         download_name=f"{call_id}.{fmt}", max_age=0)
    except RequestedRangeNotSatisfiable as exc:
        size = exc.length if exc.length is not None else path.stat().st_size
        raise RangeNotSatisfiable(f"The byte range is outside the recording ({size} bytes)",
                                  headers={"Content-Range": f"bytes */{size}"}) from exc
