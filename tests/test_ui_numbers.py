"""Phone numbers in the browser: live registration status, write-only SIP password, ADMIN edits."""
from __future__ import annotations

import pytest

from appliance import phone_numbers
from data.ai import PhoneNumber
from tests.ui_helpers import browser_for, field_error, text_of  # noqa: F401

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def number_form(**changes) -> dict:
    form = {"number": "+1 415 555 0100", "displayName": "Front desk", "assistantId": "", "isActive": "on",
            "afterHoursAction": "voicemail", "afterHoursDestination": "", "sip.server": "pbx.local",
            "sip.port": "5060", "sip.transport": "udp", "sip.username": "1001", "sip.password": "sip-secret-9"}
    form.update(changes)
    return form


def _number(app, org_id, **body):
    with app.app_context():
        return phone_numbers.create(org_id, {"number": "+14155550199", "sip": {"server": "pbx.local",
                                                                             "password": "old-secret"}, **body},
                                    app.extensions["callbox.box"])


def test_an_admin_adds_a_number_and_the_password_stays_write_only(app, members, browser_for):
    admin = browser_for(members["ADMIN"])
    assert admin.post("/phone-numbers/new", number_form(**{"businessHours.monday.open": "08:00",
                                                           "businessHours.monday.close": "12:00"})).status_code == 303
    row = PhoneNumber.get(PhoneNumber.number == "+14155550100")
    assert row.business_hours == {"monday": {"open": "08:00", "close": "12:00"}}
    with app.app_context():
        assert phone_numbers.sip_password(row, app.extensions["callbox.box"]) == "sip-secret-9"
    page = admin.page(f"/phone-numbers/{row.id}")
    assert "sip-secret-9" not in page and "A password is set" in page
    assert "sip-secret-9" not in admin.page("/phone-numbers")


def test_saving_without_sip_changes_keeps_the_registration(app, members, browser_for):
    row = _number(app, members["OWNER"].org_id)
    phone_numbers.set_registration(row.id, "registered")
    admin = browser_for(members["ADMIN"])
    form = number_form(number="+1 415 555 0199", displayName="Renamed", **{"sip.username": "", "sip.password": ""})
    assert admin.post(f"/phone-numbers/{row.id}", form).status_code == 303
    row = PhoneNumber.get_by_id(row.id)
    assert row.display_name == "Renamed" and row.registration_status == "registered"
    admin.post(f"/phone-numbers/{row.id}", {**form, "sip.server": "pbx2.local"})
    assert PhoneNumber.get_by_id(row.id).registration_status == "unregistered"  # the agent registers it again


@pytest.mark.parametrize("changes, field, message", [
    ({"number": "not a number"}, "_form", "is not a phone number"),
    ({"sip.port": "70000"}, "sip.port", "less than or equal to 65535"),
    ({"afterHoursAction": "transfer"}, "afterHoursDestination", "needs afterHoursDestination"),
    ({"assistantId": "asst_nope"}, "assistantId", "no assistant with this id"),
])
def test_number_errors_are_shown(members, browser_for, changes, field, message):
    admin = browser_for(members["ADMIN"])
    resp = admin.post("/phone-numbers/new", number_form(**changes))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422, text_of(page)[:300]
    shown = field_error(page, field) if field != "_form" else text_of(page)
    assert shown and message in shown, shown
    assert "sip-secret-9" not in page


def test_a_duplicate_number_is_a_conflict(app, members, browser_for):
    _number(app, members["OWNER"].org_id)
    resp = browser_for(members["ADMIN"]).post("/phone-numbers/new", number_form(number="+14155550199"))
    assert resp.status_code == 409 and "already set up" in text_of(resp.get_data(as_text=True))


def test_the_status_fragment_shows_registration_as_it_changes(app, members, browser_for):
    row = _number(app, members["OWNER"].org_id)
    viewer = browser_for(members["VIEWER"])
    page = viewer.page("/phone-numbers")
    assert 'hx-trigger="every 5s"' in page and "Unregistered" in page
    phone_numbers.set_registration(row.id, "failed", "401 <Unauthorized>")
    fragment = viewer.get("/phone-numbers", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "badge-bad" in fragment and "401 &lt;Unauthorized&gt;" in fragment


def test_viewers_see_numbers_but_only_admins_change_them(app, members, browser_for):
    row = _number(app, members["OWNER"].org_id)
    manager = browser_for(members["MANAGER"])
    page = manager.page(f"/phone-numbers/{row.id}")
    assert "Save number" not in page and 'name="sip.password"' not in page and "Add a number" not in manager.page(
        "/phone-numbers")
    assert manager.post(f"/phone-numbers/{row.id}", number_form()).status_code == 403
    assert manager.post(f"/phone-numbers/{row.id}/delete").status_code == 403
    manager.page("/phone-numbers/new", 403)
    owner = browser_for(members["OWNER"])
    assert owner.post(f"/phone-numbers/{row.id}/delete").status_code == 303
    assert PhoneNumber.get_or_none(PhoneNumber.id == row.id) is None
