"""``POST /calls/dial``, ``/calls/{id}/hangup`` and ``/calls/{id}/transfer``: access, validation, tenancy, and
what happens when no voice agent consumes the request (the record is closed, never left "active")."""
from __future__ import annotations

import pytest

from appliance import calls
from data.calls import Call
from data.db import database
from tests.conftest import assert_error


@pytest.fixture
def dial(client, members):
    def post(role: str = "AGENT", **body):
        return client.post("/api/v1/calls/dial", headers=members[role].headers, json={"to": "+12125550199", **body})
    return post


def test_dial_opens_the_record_and_closes_it_when_no_agent_takes_it(dial, members):
    resp = dial()
    assert resp.status_code == 202, resp.json
    call_id = resp.json["data"]["callId"]
    assert call_id.startswith("call_") and resp.json["data"]["status"] == "queued"
    with database.connection_context():
        row = Call.get_by_id(call_id)
    assert row.organization_id == members["AGENT"].org_id and row.direction == "outbound"
    assert row.to_number == "+12125550199"
    # tests run the voice queue inline and no voice agent lives in this process
    assert row.status == "failed" and row.ended_reason == "voice_unavailable"


@pytest.mark.parametrize("role, status", [("VIEWER", 403), ("AGENT", 202), ("MANAGER", 202), ("OWNER", 202)])
def test_dial_needs_agent_or_above(dial, role, status):
    assert dial(role).status_code == status


@pytest.mark.parametrize("body", [{"to": "not a number"}, {"to": ""}, {"to": "+1555", "extra": 1},
                                  {"assistantId": "asst_nope"}, {"phoneNumberId": "pn_nope"}])
def test_dial_refuses_bad_requests(dial, body):
    resp = dial(**body)
    assert resp.status_code in (400, 422), resp.json
    assert resp.json["error"]["code"] == "VALIDATION_ERROR"


def test_hangup_and_transfer(client, members, make_account):
    agent = members["AGENT"]
    with database.connection_context():
        live = calls.start_call(agent.org_id, direction="inbound", from_number="+12125550100", to_number="100")
    for path, body in (("hangup", None), ("transfer", {"to": "200"})):
        resp = client.post(f"/api/v1/calls/{live}/{path}", headers=agent.headers, json=body)
        assert resp.status_code == 202, resp.json
        assert resp.json["data"] == {"callId": live, "status": "queued"}
    resp = client.post(f"/api/v1/calls/{live}/transfer", headers=agent.headers, json={"to": "bad target"})
    assert resp.status_code in (400, 422) and resp.json["error"]["code"] == "VALIDATION_ERROR"
    assert_error(client.post(f"/api/v1/calls/{live}/hangup", headers=members["VIEWER"].headers), 403, "FORBIDDEN")
    stranger = make_account("OWNER")
    assert_error(client.post(f"/api/v1/calls/{live}/hangup", headers=stranger.headers), 404, "NOT_FOUND")
    assert_error(client.post("/api/v1/calls/call_nope/hangup", headers=agent.headers), 404, "NOT_FOUND")
    with database.connection_context():
        calls.finish_call(live, status="completed", ended_reason="remote_hangup")
    assert_error(client.post(f"/api/v1/calls/{live}/hangup", headers=agent.headers), 409, "CONFLICT")
