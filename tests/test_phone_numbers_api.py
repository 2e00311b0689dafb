"""Phone numbers: CRUD, the write-only SIP password sealed at rest, routing by business hours, roles, tenancy."""
import datetime as dt

import pytest

from appliance import phone_numbers
from appliance.security import SecretBox
from data.ai import PhoneNumber
from data.db import database

API = "/api/v1"
HOURS = {"monday": {"open": "09:00", "close": "17:00"}}


def add(client, account, **fields):
    body = {"number": "(212) 555-0123", "displayName": "Main line",
            "sip": {"server": "pbx.local", "port": 5060, "username": "1001", "password": "s3cret-pass",
                    "transport": "udp"}, **fields}
    resp = client.post(f"{API}/phone-numbers", headers=account.headers, json=body)
    assert resp.status_code == 201, resp.json
    return resp.json["data"]


def stored(number_id):
    with database.connection_context():
        return PhoneNumber.get_by_id(number_id)


def test_create_masks_password_and_seals_it(client, owner, config):
    pn = add(client, owner, businessHours=HOURS, afterHoursAction="voicemail")
    assert pn["id"].startswith("pn_") and pn["number"] == "+12125550123"
    assert pn["sip"]["password"] == "********" and "s3cret-pass" not in str(pn)
    assert pn["registrationStatus"] == "unregistered"
    assert pn["businessHours"] == HOURS and pn["afterHoursAction"] == "voicemail"
    row = stored(pn["id"])
    assert "s3cret-pass" not in row.sip_password
    assert phone_numbers.sip_password(row, SecretBox(config.secret_key())) == "s3cret-pass"
    listed = client.get(f"{API}/phone-numbers", headers=owner.headers).json["data"]
    assert "s3cret-pass" not in str(listed) and listed[0]["sip"]["password"] == "********"


def test_patch_password_clear_and_registration_reset(client, owner, config):
    pn = add(client, owner)
    with database.connection_context():
        phone_numbers.set_registration(pn["id"], "registered")
    assert client.get(f"{API}/phone-numbers/{pn['id']}", headers=owner.headers).json["data"][
        "registrationStatus"] == "registered"
    resp = client.patch(f"{API}/phone-numbers/{pn['id']}", headers=owner.headers,
                        json={"displayName": "Front desk"})
    assert resp.json["data"]["registrationStatus"] == "registered"  # nothing SIP changed
    resp = client.patch(f"{API}/phone-numbers/{pn['id']}", headers=owner.headers, json={"sip": {"password": None}})
    assert resp.status_code == 200
    assert resp.json["data"]["sip"]["password"] is None and resp.json["data"]["sip"]["username"] == "1001"
    assert resp.json["data"]["registrationStatus"] == "unregistered"
    assert stored(pn["id"]).sip_password == ""
    assert client.patch(f"{API}/phone-numbers/{pn['id']}", headers=owner.headers,
                        json={"registrationStatus": "registered"}).status_code == 422  # read-only


def test_duplicates_and_extensions(client, owner):
    add(client, owner)
    dup = client.post(f"{API}/phone-numbers", headers=owner.headers, json={"number": "+1 212 555 0123"})
    assert dup.status_code == 409 and dup.json["error"]["code"] == "DUPLICATE_ENTRY"
    ext = client.post(f"{API}/phone-numbers", headers=owner.headers, json={"number": "1001"})
    assert ext.status_code == 201 and ext.json["data"]["number"] == "1001"


@pytest.mark.parametrize("body, where", [
    ({"number": "hello"}, "number"),
    ({"number": "+1 212 555 0199", "sip": {"transport": "carrier-pigeon"}}, "transport"),
    ({"number": "+1 212 555 0199", "sip": {"port": 70000}}, "port"),
    ({"number": "+1 212 555 0199", "afterHoursAction": "transfer"}, "afterHoursDestination"),
    ({"number": "+1 212 555 0199", "businessHours": {"monday": {"open": "17:00", "close": "09:00"}}}, "monday"),
    ({"number": "+1 212 555 0199", "assistantId": "asst_missing"}, "assistantId"),
])
def test_validation(client, owner, body, where):
    resp = client.post(f"{API}/phone-numbers", headers=owner.headers, json=body)
    assert resp.status_code in (400, 422), resp.json
    assert where in str(resp.json["error"])


def test_routing_by_business_hours(client, owner):
    asst = client.post(f"{API}/assistants", headers=owner.headers, json={
        "name": "Sunny", "transferDestination": "sip:desk@pbx.local",
        "businessHours": {"tuesday": {"open": "08:00", "close": "12:00"}}, "afterHoursAction": "transfer"}).json["data"]
    own_hours = add(client, owner, assistantId=asst["id"], businessHours=HOURS, afterHoursAction="voicemail")
    inherits = add(client, owner, number="+1 212 555 0124", assistantId=asst["id"])
    monday_10, monday_20 = dt.datetime(2031, 3, 3, 10, 0), dt.datetime(2031, 3, 3, 20, 0)
    tuesday_9 = dt.datetime(2031, 3, 4, 9, 0)
    with database.connection_context():
        own, inh = PhoneNumber.get_by_id(own_hours["id"]), PhoneNumber.get_by_id(inherits["id"])
        assert phone_numbers.route(own, monday_10) == phone_numbers.Route("assistant", asst["id"])
        assert phone_numbers.route(own, monday_20).action == "voicemail"
        assert phone_numbers.route(inh, tuesday_9).action == "assistant"
        after = phone_numbers.route(inh, monday_10)
        assert (after.action, after.destination) == ("transfer", "sip:desk@pbx.local")


def test_deleting_the_assistant_leaves_the_number(client, owner):
    asst = client.post(f"{API}/assistants", headers=owner.headers, json={"name": "Temp"}).json["data"]
    pn = add(client, owner, assistantId=asst["id"])
    client.delete(f"{API}/assistants/{asst['id']}", headers=owner.headers)
    assert client.get(f"{API}/phone-numbers/{pn['id']}", headers=owner.headers).json["data"]["assistantId"] is None


@pytest.mark.parametrize("role, can_write", [("OWNER", True), ("ADMIN", True), ("MANAGER", False),
                                             ("AGENT", False), ("VIEWER", False)])
def test_roles(client, team, role, can_write):
    account = team[role]
    pn = add(client, team["OWNER"])
    assert client.get(f"{API}/phone-numbers", headers=account.headers).status_code == 200
    assert client.get(f"{API}/phone-numbers/{pn['id']}", headers=account.headers).status_code == 200
    writes = [client.post(f"{API}/phone-numbers", headers=account.headers, json={"number": "+12125550777"}),
              client.patch(f"{API}/phone-numbers/{pn['id']}", headers=account.headers, json={"isActive": False}),
              client.delete(f"{API}/phone-numbers/{pn['id']}", headers=account.headers)]
    assert [r.status_code for r in writes] == ([201, 200, 200] if can_write else [403] * 3)


def test_other_organization_answers_404(client, owner, accounts_api):
    pn = add(client, owner)
    stranger = accounts_api.signup(org="Other Co")
    url = f"{API}/phone-numbers/{pn['id']}"
    assert client.get(url, headers=stranger.headers).status_code == 404
    assert client.patch(url, headers=stranger.headers, json={"displayName": "mine"}).status_code == 404
    assert client.delete(url, headers=stranger.headers).status_code == 404
    assert client.get(f"{API}/phone-numbers", headers=stranger.headers).json["data"] == []
    assert add(client, stranger)["number"] == "+12125550123"  # numbers are unique per workspace
    other_asst = client.post(f"{API}/assistants", headers=stranger.headers, json={"name": "Theirs"}).json["data"]
    assert client.patch(url, headers=owner.headers, json={"assistantId": other_asst["id"]}).status_code == 422
