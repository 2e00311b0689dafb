"""Appointments: CRUD, overlaps (409), filters, the iCalendar feed and its token, roles, tenancy, the outbox."""
import datetime as dt

import icalendar
import pytest

from data.ai import Event
from data.db import database

API = "/api/v1"


def book(client, account, date="2031-03-03", time="10:00", **fields):
    body = {"customerName": "Ann Lee", "customerPhone": "212-555-0100", "appointmentDate": date,
            "appointmentTime": time, **fields}
    return client.post(f"{API}/appointments", headers=account.headers, json=body)


def booked(client, account, **kwargs):
    resp = book(client, account, **kwargs)
    assert resp.status_code == 201, resp.json
    return resp.json["data"]


def test_create_normalizes_and_records_event(client, owner):
    apt = booked(client, owner, time="2:30 PM", appointmentType="Cleaning", qualityScore=5)
    assert apt["id"].startswith("apt_")
    assert apt["appointmentTime"] == "14:30" and apt["appointmentDate"] == "2031-03-03"
    assert apt["customerPhone"] == "+12125550100"
    assert apt["durationMinutes"] == 30 and apt["status"] == "scheduled" and apt["source"] == "MANUAL"
    with database.connection_context():
        events = list(Event.select().where(Event.organization == owner.org_id))
    assert [(e.event, e.data["appointmentId"]) for e in events] == [("appointment.booked", apt["id"])]
    assert events[0].id.startswith("evt_") and events[0].dispatched_at is None


def test_overlaps_conflict_and_cancelled_slots_free_up(client, owner):
    first = booked(client, owner, time="10:00", durationMinutes=60)
    clash = book(client, owner, time="10:30")
    assert clash.status_code == 409
    assert clash.json["error"]["code"] == "CONFLICT"
    assert clash.json["error"]["details"]["conflictingAppointmentId"] == first["id"]
    assert book(client, owner, time="11:00").status_code == 201  # back-to-back is fine
    assert book(client, owner, time="09:30").status_code == 201
    url = f"{API}/appointments/{first['id']}"
    assert client.patch(url, headers=owner.headers, json={"status": "cancelled"}).status_code == 200
    replacement = booked(client, owner, time="10:15", durationMinutes=30)
    # Reactivating the cancelled one now collides with the replacement.
    again = client.patch(url, headers=owner.headers, json={"status": "confirmed"})
    assert again.status_code == 409 and again.json["error"]["details"]["conflictingAppointmentId"] == replacement["id"]
    moved = client.patch(f"{API}/appointments/{replacement['id']}", headers=owner.headers,
                         json={"appointmentTime": "11:15"})
    assert moved.status_code == 409  # into 11:00-11:30
    assert "overlaps" in moved.json["error"]["message"]
    assert client.patch(f"{API}/appointments/{replacement['id']}", headers=owner.headers,
                        json={"appointmentTime": "11:30"}).status_code == 200


def test_reschedule_and_patch_fields(client, owner):
    apt = booked(client, owner)
    resp = client.patch(f"{API}/appointments/{apt['id']}", headers=owner.headers, json={
        "appointmentDate": "2031-03-04", "appointmentTime": "16:45", "qualityScore": 4, "notes": "Prefers Dr. Chen"})
    assert resp.status_code == 200, resp.json
    data = resp.json["data"]
    assert (data["appointmentDate"], data["appointmentTime"], data["qualityScore"]) == ("2031-03-04", "16:45", 4)
    assert book(client, owner, date="2031-03-03", time="10:00").status_code == 201  # old slot is free


@pytest.mark.parametrize("fields, where", [
    ({"appointmentTime": "25:00"}, "appointmentTime"),
    ({"appointmentTime": "13 PM"}, "appointmentTime"),
    ({"date": "2031-02-30"}, "appointmentDate"),
    ({"customerName": ""}, "customerName"),
    ({"customerPhone": "not a phone"}, "phone"),
    ({"status": "maybe"}, "status"),
    ({"qualityScore": 9}, "qualityScore"),
    ({"durationMinutes": 0}, "durationMinutes"),
    ({"assistantId": "asst_nope"}, "assistantId"),
])
def test_validation(client, owner, fields, where):
    resp = book(client, owner, **fields)
    assert resp.status_code in (400, 422), resp.json
    assert where in str(resp.json["error"]), resp.json


def test_list_filters(client, owner):
    booked(client, owner, date="2031-03-01", customerName="Early Bird")
    booked(client, owner, date="2031-03-10", customerName="Mid Month")
    late = booked(client, owner, date="2031-03-20", customerName="Late Comer")
    client.patch(f"{API}/appointments/{late['id']}", headers=owner.headers, json={"status": "cancelled"})
    ranged = client.get(f"{API}/appointments?startDate=2031-03-05&endDate=2031-03-20&sortBy=appointmentDate"
                        "&order=asc", headers=owner.headers).json
    assert [a["customerName"] for a in ranged["data"]] == ["Mid Month", "Late Comer"]
    cancelled = client.get(f"{API}/appointments?status=cancelled", headers=owner.headers).json["data"]
    assert [a["customerName"] for a in cancelled] == ["Late Comer"]
    found = client.get(f"{API}/appointments?search=bird", headers=owner.headers).json["data"]
    assert [a["customerName"] for a in found] == ["Early Bird"]
    assert client.get(f"{API}/appointments?startDate=yesterday", headers=owner.headers).status_code == 422


def _calendar(data: bytes) -> icalendar.Calendar:
    cal = icalendar.Calendar.from_ical(data)
    assert cal["VERSION"] == "2.0"
    return cal


def test_ics_feed_parses_with_time_zone(client, owner):
    client.put(f"{API}/settings", headers=owner.headers, json={"timezone": "America/New_York"})
    apt = booked(client, owner, date="2031-07-01", time="09:00", durationMinutes=45, appointmentType="Cleaning")
    gone = booked(client, owner, date="2031-07-02", time="09:00")
    client.patch(f"{API}/appointments/{gone['id']}", headers=owner.headers, json={"status": "cancelled"})
    resp = client.get(f"{API}/appointments.ics", headers=owner.headers)
    assert resp.status_code == 200 and resp.mimetype == "text/calendar"
    cal = _calendar(resp.data)
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    event = events[f"{apt['id']}@callbox"]
    start = event.decoded("DTSTART")
    assert start.tzinfo is not None and str(start.tzinfo) == "America/New_York"
    assert start.astimezone(dt.timezone.utc) == dt.datetime(2031, 7, 1, 13, 0, tzinfo=dt.timezone.utc)
    assert event.decoded("DTEND") - start == dt.timedelta(minutes=45)
    assert str(event["SUMMARY"]) == "Cleaning: Ann Lee"
    assert str(events[f"{gone['id']}@callbox"]["STATUS"]) == "CANCELLED"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["America/New_York"]


def test_ics_feed_token(client, team, accounts_api):
    owner = team["OWNER"]
    booked(client, owner)
    assert client.get(f"{API}/appointments.ics").status_code == 401
    assert client.get("/calendar/guess.ics").status_code == 404
    assert client.get(f"{API}/appointments.ics", headers=team["VIEWER"].headers).status_code == 403
    assert client.get(f"{API}/appointments.ics", headers=team["AGENT"].headers).status_code == 200
    assert client.post(f"{API}/appointments/feed-token", headers=team["AGENT"].headers).status_code == 403
    made = client.post(f"{API}/appointments/feed-token", headers=team["MANAGER"].headers)
    assert made.status_code == 201
    token = made.json["data"]["token"]
    assert made.json["data"]["url"].endswith(f"/calendar/{token}.ics")
    feed = client.get(f"/calendar/{token}.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    assert len(list(_calendar(feed.data).walk("VEVENT"))) == 1
    other = accounts_api.signup(org="Other Co")
    assert len(list(_calendar(client.get(f"{API}/appointments.ics", headers=other.headers).data)
                    .walk("VEVENT"))) == 0
    rotated = client.post(f"{API}/appointments/feed-token", headers=owner.headers).json["data"]["token"]
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    assert client.get(f"/calendar/{rotated}.ics").status_code == 200
    assert client.delete(f"{API}/appointments/feed-token", headers=owner.headers).status_code == 200
    assert client.get(f"/calendar/{rotated}.ics").status_code == 404


@pytest.mark.parametrize("role, can_use, can_delete", [
    ("OWNER", True, True), ("ADMIN", True, True), ("MANAGER", True, True),
    ("AGENT", True, False), ("VIEWER", False, False)])
def test_roles(client, team, role, can_use, can_delete):
    account = team[role]
    apt = booked(client, team["OWNER"])
    url = f"{API}/appointments/{apt['id']}"
    assert client.get(f"{API}/appointments", headers=account.headers).status_code == (200 if can_use else 403)
    assert book(client, account, time="12:00").status_code == (201 if can_use else 403)
    assert client.patch(url, headers=account.headers, json={"status": "confirmed"}).status_code == (
        200 if can_use else 403)
    assert client.delete(url, headers=account.headers).status_code == (200 if can_delete else 403)


def test_other_organization_answers_404_and_does_not_conflict(client, owner, accounts_api):
    apt = booked(client, owner)
    stranger = accounts_api.signup(org="Other Co")
    url = f"{API}/appointments/{apt['id']}"
    assert client.get(url, headers=stranger.headers).status_code == 404
    assert client.patch(url, headers=stranger.headers, json={"status": "cancelled"}).status_code == 404
    assert client.delete(url, headers=stranger.headers).status_code == 404
    assert client.get(f"{API}/appointments", headers=stranger.headers).json["data"] == []
    assert book(client, stranger).status_code == 201  # same slot, different business
    assert client.get(url, headers=owner.headers).json["data"]["status"] == "scheduled"
