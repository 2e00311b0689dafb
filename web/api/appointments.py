"""Appointments booked by the AI or by staff, and their iCalendar feed.

Access (lowest role):
| endpoint                                  | role    | why                                                          |
|-------------------------------------------|---------|--------------------------------------------------------------|
| GET /appointments, GET /{id}              | AGENT   | customers' names and phone numbers: front-desk staff, not read-only viewers |
| POST /appointments, PATCH /{id}           | AGENT   | booking and rescheduling is front-desk work                  |
| DELETE /{id}                              | MANAGER | erasing a booking (cancel it with PATCH status instead)      |
| GET /appointments.ics                     | AGENT   | the same data as the list                                    |
| GET /calendar/{token}.ics (outside /api)  | token   | calendar apps cannot send headers: a secret per-workspace URL |
| POST/DELETE /appointments/feed-token      | MANAGER | the token exposes every appointment to whoever holds the URL |
"""
from __future__ import annotations

import datetime as dt

from flask import Blueprint as FlaskBlueprint, Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from appliance import appointments, audit
from appliance.roles import Role
from data.ai import Appointment
from web.api.common import ErrorEnvelopeSchema, Schema, UTCDateTime, envelope, page_args_schema, paginate
from web.auth import access, client_ip, current_principal

blp = Blueprint("appointments", __name__, description="Appointments and the calendar feed")

STATUS = validate.OneOf(appointments.STATUSES)


class AppointmentSchema(Schema):
    id = fields.String(dump_only=True)
    callId = fields.String(allow_none=True, validate=validate.Length(max=64))
    assistantId = fields.String(allow_none=True, validate=validate.Length(max=64))
    customerName = fields.String(required=True, validate=validate.Length(min=1, max=200))
    customerPhone = fields.String(allow_none=True, validate=validate.Length(max=32),
                                  metadata={"description": "stored as E.164"})
    appointmentDate = fields.Date(required=True, metadata={"description": "local date of the business"})
    appointmentTime = fields.String(required=True, validate=validate.Length(min=1, max=16),
                                    metadata={"description": "local time HH:MM (2:30 PM is accepted too)"})
    durationMinutes = fields.Integer(validate=validate.Range(min=5, max=24 * 60))
    appointmentType = fields.String(validate=validate.Length(min=1, max=100))
    status = fields.String(validate=STATUS)
    qualityScore = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=5))
    notes = fields.String(validate=validate.Length(max=2000))
    source = fields.String(dump_only=True, metadata={"enum": list(appointments.SOURCES)})
    createdAt = UTCDateTime(dump_only=True)
    updatedAt = UTCDateTime(dump_only=True)


class AppointmentPatchSchema(AppointmentSchema):
    customerName = fields.String(validate=validate.Length(min=1, max=200))
    appointmentDate = fields.Date()
    appointmentTime = fields.String(validate=validate.Length(min=1, max=16))


class AppointmentQuerySchema(page_args_schema(["appointmentDate", "createdAt", "customerName", "status"])):
    startDate = fields.Date(metadata={"description": "first appointment date (inclusive)"})
    endDate = fields.Date(metadata={"description": "last appointment date (inclusive)"})
    status = fields.String(validate=STATUS)
    source = fields.String(validate=validate.OneOf(appointments.SOURCES))
    callId = fields.String(validate=validate.Length(max=64))
    assistantId = fields.String(validate=validate.Length(max=64))
    search = fields.String(validate=validate.Length(max=100))


class FeedTokenSchema(Schema):
    token = fields.String(required=True, metadata={"description": "shown once"})
    url = fields.String(required=True)


def view(row: Appointment) -> dict:
    """The API's picture of an appointment."""
    return {"id": row.id, "callId": row.call_id, "assistantId": row.assistant_id,
            "customerName": row.customer_name, "customerPhone": row.customer_phone,
            "appointmentDate": dt.date.fromisoformat(row.appointment_date), "appointmentTime": row.appointment_time,
            "durationMinutes": row.duration_minutes, "appointmentType": row.appointment_type,
            "status": row.status, "qualityScore": row.quality_score, "notes": row.notes, "source": row.source,
            "createdAt": row.created_at, "updatedAt": row.updated_at}


def _audit(action: str, target: str | None) -> None:
    principal = current_principal()
    audit.record(action, organization_id=principal.organization.id, user_id=principal.user_id,
                 target_type="appointment", target_id=target, ip=client_ip())


SORTS = {"appointmentDate": Appointment.starts_at, "createdAt": Appointment.created_at,
         "customerName": Appointment.customer_name, "status": Appointment.status}


@blp.route("/appointments")
class Appointments(MethodView):
    @access(Role.AGENT)
    @blp.arguments(AppointmentQuerySchema, location="query")
    @blp.response(200, envelope(AppointmentSchema, many=True, paginated=True))
    def get(self, args):
        """Appointments (filters: startDate, endDate, status, source, callId, assistantId, search)."""
        query = appointments.filtered(current_principal().organization.id, args)
        rows, page = paginate(query, args, SORTS, "appointmentDate")
        return {"data": [view(r) for r in rows], "pagination": page}

    @access(Role.AGENT)
    @blp.arguments(AppointmentSchema)
    @blp.response(201, envelope(AppointmentSchema))
    @blp.alt_response(409, schema=ErrorEnvelopeSchema, description="The slot overlaps another appointment")
    def post(self, body):
        """Book an appointment; 409 CONFLICT when it overlaps a live one."""
        row = appointments.create(current_principal().organization.id, body, source="MANUAL")
        _audit("appointment.created", row.id)
        return {"data": view(row)}


@blp.route("/appointments/<string:appointment_id>")
class AppointmentsById(MethodView):
    @access(Role.AGENT)
    @blp.response(200, envelope(AppointmentSchema))
    def get(self, appointment_id):
        """One appointment."""
        return {"data": view(appointments.get(current_principal().organization.id, appointment_id))}

    @access(Role.AGENT)
    @blp.arguments(AppointmentPatchSchema)
    @blp.response(200, envelope(AppointmentSchema))
    @blp.alt_response(409, schema=ErrorEnvelopeSchema, description="The new slot overlaps another appointment")
    def patch(self, body, appointment_id):
        """Reschedule, confirm, cancel or rate an appointment."""
        row = appointments.get(current_principal().organization.id, appointment_id)
        appointments.update(row, body)
        _audit("appointment.updated", row.id)
        return {"data": view(row)}

    @access(Role.MANAGER)
    @blp.response(200, envelope(None))
    def delete(self, appointment_id):
        """Erase an appointment (to keep a record, PATCH status=cancelled instead)."""
        appointments.get(current_principal().organization.id, appointment_id).delete_instance()
        _audit("appointment.deleted", appointment_id)
        return {"data": None, "message": "Appointment deleted"}


ICS_DOC = {"responses": {"200": {"description": "iCalendar (RFC 5545)",
                                   "content": {"text/calendar": {"schema": {"type": "string"}}}}}}


def _ics_response(org) -> Response:
    return Response(appointments.ics_feed(org.id, org.name), mimetype="text/calendar",
                    headers={"Content-Disposition": 'inline; filename="appointments.ics"'})


@blp.route("/appointments.ics")
class AppointmentsFeed(MethodView):
    @access(Role.AGENT)
    @blp.doc(**ICS_DOC)
    @blp.response(200)
    def get(self):
        """The appointments as an iCalendar feed (from 90 days ago on); calendar apps use the feed-token URL."""
        return _ics_response(current_principal().organization)


# Calendar apps cannot send headers: they subscribe to a secret URL outside the API, /calendar/<token>.ics.
feed_bp = FlaskBlueprint("calendar_feed", __name__)


@feed_bp.route("/calendar/<string:token>.ics")
def calendar_feed(token: str):
    """The iCalendar feed of the workspace whose feed token this is (404 for any other string)."""
    return _ics_response(appointments.org_for_feed_token(token))


@blp.route("/appointments/feed-token")
class AppointmentsFeedToken(MethodView):
    @access(Role.MANAGER)
    @blp.response(201, envelope(FeedTokenSchema))
    def post(self):
        """Make (or replace) the workspace's calendar feed token; the URL works without signing in."""
        org_id = current_principal().organization.id
        raw = appointments.new_feed_token(org_id)
        _audit("appointment.feed_token_created", None)
        url = f"{request.host_url.rstrip('/')}/calendar/{raw}.ics"
        return {"data": {"token": raw, "url": url}, "message": "Keep this URL private: it shows every appointment"}

    @access(Role.MANAGER)
    @blp.response(200, envelope(None))
    def delete(self):
        """Stop the calendar feed token."""
        existed = appointments.revoke_feed_token(current_principal().organization.id)
        _audit("appointment.feed_token_revoked", None)
        return {"data": None, "message": "Feed token revoked" if existed else "There was no feed token"}
