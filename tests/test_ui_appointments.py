"""Appointments in the browser: list with filters, week calendar, booking with overlap checks, roles."""
from __future__ import annotations

import datetime as dt

import pytest

from appliance import appointments
from data.ai import Appointment
from tests.ui_helpers import browser_for, field_error, text_of  # noqa: F401

MONDAY = dt.date(2031, 3, 3)


def _book(app, org_id, day=MONDAY, time="10:00", name="Ada Lovelace", **extra):
    with app.app_context():
        return appointments.create(org_id, {"customerName": name, "appointmentDate": day, "appointmentTime": time,
                                            "customerPhone": "+14155550123", **extra})


def form(**changes) -> dict:
    values = {"customerName": "Grace Hopper", "customerPhone": "(415) 555-0142", "appointmentType": "cleaning",
              "appointmentDate": MONDAY.isoformat(), "appointmentTime": "14:30", "durationMinutes": "45",
              "status": "scheduled", "qualityScore": "", "notes": "First visit"}
    values.update(changes)
    return values


def test_an_agent_books_and_reschedules(app, members, browser_for):
    agent = browser_for(members["AGENT"])
    resp = agent.post("/appointments/new", form())
    assert resp.status_code == 303 and "start=2031-03-03" in resp.headers["Location"]
    row = Appointment.get(Appointment.customer_name == "Grace Hopper")
    assert (row.customer_phone, row.duration_minutes, row.source) == ("+14155550142", 45, "MANUAL")
    assert agent.post(f"/appointments/{row.id}", form(appointmentTime="4:00 PM", status="confirmed",
                                                      qualityScore="5")).status_code == 303
    row = Appointment.get_by_id(row.id)
    assert (row.appointment_time, row.status, row.quality_score) == ("16:00", "confirmed", 5)


def test_an_overlap_is_shown_at_the_time_field(app, members, browser_for):
    _book(app, members["OWNER"].org_id, time="14:00")
    resp = browser_for(members["AGENT"]).post("/appointments/new", form(appointmentTime="14:15"))
    assert resp.status_code == 409
    assert "overlaps another appointment" in field_error(resp.get_data(as_text=True), "appointmentTime")
    assert Appointment.select().count() == 1


@pytest.mark.parametrize("changes, field, message", [
    ({"customerName": ""}, "customerName", "Length must be between 1 and 200."),
    ({"appointmentDate": "31/02/2031"}, "appointmentDate", "Not a valid date."),
    ({"appointmentTime": "25:00"}, "appointmentTime", "is not a time"),
    ({"customerPhone": "call me maybe"}, "customerPhone", "is not a phone number"),
    ({"status": "teleported"}, "status", "Must be one of"),
    ({"qualityScore": "9"}, "qualityScore", "less than or equal to 5"),
])
def test_form_errors_sit_next_to_their_fields(members, browser_for, changes, field, message):
    resp = browser_for(members["AGENT"]).post("/appointments/new", form(**changes))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422, text_of(page)[:300]
    assert message in (field_error(page, field) or ""), (field, text_of(page)[-400:])


def test_the_week_calendar_places_appointments_on_their_day(app, members, browser_for):
    org = members["OWNER"].org_id
    _book(app, org, MONDAY + dt.timedelta(days=2), "09:30", "Wednesday <Person>")
    _book(app, org, MONDAY + dt.timedelta(days=7), "09:30", "Next Week Person")
    page = browser_for(members["AGENT"]).page(f"/appointments/week?start={(MONDAY + dt.timedelta(days=3)).isoformat()}")
    assert "Week of 03 Mar 2031" in page
    wednesday = page.split('id="day-2031-03-05"')[1].split("</section>")[0]
    assert "Wednesday &lt;Person&gt;" in wednesday and "09:30" in wednesday
    assert "Next Week Person" not in page and "start=2031-03-10" in page and "start=2031-02-24" in page
    assert "Week of" in browser_for(members["AGENT"]).page("/appointments/week?start=garbage")


def test_the_list_filters(app, members, browser_for):
    org = members["OWNER"].org_id
    _book(app, org, name="Alice")
    _book(app, org, time="15:00", name="Bob", status="cancelled")
    agent = browser_for(members["AGENT"])
    page = agent.page("/appointments?status=cancelled")
    assert "Bob" in page and "Alice" not in page
    page = agent.page("/appointments?search=ali&startDate=2031-03-01&endDate=2031-03-31")
    assert "Alice" in page and "Bob" not in page
    assert "No appointments match." in agent.page("/appointments?startDate=2032-01-01")


def test_viewers_cannot_see_bookings_and_only_managers_erase(app, members, browser_for):
    row = _book(app, members["OWNER"].org_id)
    viewer, agent, manager = (browser_for(members[r]) for r in ("VIEWER", "AGENT", "MANAGER"))
    viewer.page("/appointments", 403)
    viewer.page("/appointments/week", 403)
    assert viewer.post("/appointments/new", form()).status_code == 403
    assert "Erase" not in agent.page(f"/appointments/{row.id}")
    assert agent.post(f"/appointments/{row.id}/delete").status_code == 403
    assert "Erase" in manager.page(f"/appointments/{row.id}")
    assert manager.post(f"/appointments/{row.id}/delete").status_code == 303
    assert Appointment.get_or_none(Appointment.id == row.id) is None


def test_another_workspace_appointment_is_404(app, members, browser_for, make_account):
    theirs = _book(app, make_account("OWNER").org_id)
    agent = browser_for(members["AGENT"])
    assert agent.get(f"/appointments/{theirs.id}").status_code == 404
    assert agent.post(f"/appointments/{theirs.id}", form()).status_code == 404
