"""The call records API, what changes things: records from other systems, detail, notes, tags, roles,
cross-organization 404s, live calls and concurrency. Read-only list tests are in test_calls_list_api."""
from __future__ import annotations

import pytest

from tests.calls_data import API, DATA, body_for, build_world
from tests.conftest import assert_error


@pytest.fixture
def world(app, client):
    return build_world(app, client)


def test_dates_are_days_in_the_workspace_time_zone(world, client, make_account):
    owner_headers = make_account("ADMIN", world.manager.org_id).headers
    assert client.put("/api/v1/settings", headers=owner_headers,
                      json={"timezone": "America/New_York"}).status_code == 200
    # f started 2026-10-04 23:00 UTC = 19:00 in New York, still the 4th; a (10-01 09:00 UTC) is 05:00 on the 1st
    assert "".join(world.labels("?startDate=2026-10-04&endDate=2026-10-04")) == "f"
    assert "".join(world.labels("?endDate=2026-10-01")) == "ba"


def test_stats_follow_new_records(world, client):
    before = world.get()["stats"]["totalCalls"]
    body = body_for(DATA[0], world.assistants) | {"externalId": "pbx-new", "handledBy": "HUMAN"}
    assert client.post(API, headers=world.manager.headers, json=body).status_code == 201
    after = world.get()["stats"]
    assert after["totalCalls"] == before + 1 and after["aiHandled"] == 3


def test_detail_has_transcript_analysis_events_notes_and_tags(world, client):
    body = body_for(DATA[0], world.assistants) | {"externalId": "pbx-t", "outcome": None, "handledBy": None,
                                                   "outcomeDetails": "asked about Friday hours",
                                                   "structuredOutputs": {"callback": False}, "transcript": [
        {"speaker": "CALLER", "text": "What time do you close on Friday?", "startSeconds": 1.5, "endSeconds": 3,
         "confidence": 0.93},
        {"speaker": "AI", "text": "We're open until six p.m. on Fridays.", "startSeconds": 63, "endSeconds": 66}]}
    created = client.post(API, headers=world.manager.headers, json=body)
    assert created.status_code == 201, created.json
    call_id = created.json["data"]["id"]
    client.post(f"{API}/{call_id}/notes", headers=world.agent.headers, json={"content": "Asked twice"})
    client.post(f"{API}/{call_id}/tags", headers=world.agent.headers, json={"tag": "Hours"})
    detail = client.get(f"{API}/{call_id}", headers=world.viewer.headers).json["data"]
    assert detail["transcript"] == [
        {"timestamp": "2026-10-01T09:00:06Z", "offset": "00:01", "speaker": "CALLER",
         "text": "What time do you close on Friday?", "startSeconds": 1.5, "endSeconds": 3.0, "confidence": 0.93},
        {"timestamp": "2026-10-01T09:01:08Z", "offset": "01:03", "speaker": "AI",
         "text": "We're open until six p.m. on Fridays.", "startSeconds": 63.0, "endSeconds": 66.0,
         "confidence": None}]
    assert detail["outcome"] == "INFO" and detail["handledBy"] == "AI" and detail["intentDetected"]
    assert detail["summary"].startswith("Caller: What time") and "hours" in detail["topics"]
    assert detail["outcomeDetails"] == "asked about Friday hours" and detail["structuredOutputs"] == {"callback": False}
    assert [e["eventType"] for e in detail["events"]] == ["started", "answered", "ended"]
    assert detail["events"][0]["timestamp"] == "2026-10-01T09:00:00Z"
    assert detail["notes"][0]["content"] == "Asked twice" and detail["tags"] == ["hours"]
    assert detail["recordingUrl"] is None and detail["recording"] is None


def test_create_duplicate_external_id_and_roles(world, client):
    body = body_for(DATA[0], world.assistants)  # externalId pbx-a exists
    assert_error(client.post(API, headers=world.manager.headers, json=body), 409, "DUPLICATE_ENTRY")
    body["externalId"] = "pbx-role"
    assert_error(client.post(API, headers=world.agent.headers, json=body), 403, "FORBIDDEN")
    assert_error(client.post(API, headers=world.viewer.headers, json=body), 403, "FORBIDDEN")
    assert_error(client.get(API), 401, "UNAUTHORIZED")


def test_notes(world, client):
    call = world.ids["b"]
    resp = client.post(f"{API}/{call}/notes", headers=world.agent.headers, json={"content": "  Needs a callback  "})
    assert resp.status_code == 201
    note = resp.json["data"]
    assert note["id"].startswith("note_") and note["callId"] == call and note["content"] == "Needs a callback"
    assert note["createdBy"]["id"] == world.agent.user_id and note["createdBy"]["name"].startswith("Agent")
    client.post(f"{API}/{call}/notes", headers=world.manager.headers, json={"content": "Called back"})
    listed = client.get(f"{API}/{call}/notes", headers=world.viewer.headers).json["data"]
    assert [n["content"] for n in listed] == ["Needs a callback", "Called back"]
    assert_error(client.post(f"{API}/{call}/notes", headers=world.viewer.headers, json={"content": "x"}),
                 403, "FORBIDDEN")
    assert_error(client.post(f"{API}/{call}/notes", headers=world.agent.headers, json={"content": "   "}),
                 422, "VALIDATION_ERROR")
    assert_error(client.post(f"{API}/{call}/notes", headers=world.agent.headers, json={}), 422, "VALIDATION_ERROR")


def test_tags(world, client):
    call, headers = world.ids["c"], world.agent.headers
    first = client.post(f"{API}/{call}/tags", headers=headers, json={"tag": "Wheelchair Access"})
    assert first.status_code == 201 and first.json["data"] == {"callId": call, "tag": "wheelchair access",
                                                               "tags": ["wheelchair access"]}
    again = client.post(f"{API}/{call}/tags", headers=headers, json={"tag": " wheelchair   ACCESS "})
    assert again.status_code == 200 and again.json["data"]["tags"] == ["wheelchair access"]
    client.post(f"{API}/{call}/tags", headers=headers, json={"tag": "vip"})
    removed = client.delete(f"{API}/{call}/tags/Wheelchair Access", headers=headers)
    assert removed.status_code == 200 and removed.json["data"]["tags"] == ["vip"]
    assert_error(client.delete(f"{API}/{call}/tags/never", headers=headers), 404, "NOT_FOUND")
    assert_error(client.post(f"{API}/{call}/tags", headers=headers, json={"tag": "<script>"}), 422,
                 "VALIDATION_ERROR")
    assert_error(client.post(f"{API}/{call}/tags", headers=world.viewer.headers, json={"tag": "x"}), 403,
                 "FORBIDDEN")
    assert client.get(f"{API}/{call}", headers=world.viewer.headers).json["data"]["tags"] == ["vip"]


def test_another_organizations_calls_are_404(world, client, make_account):
    stranger = make_account()
    call = world.ids["a"]
    for method, path, body in [("get", f"{API}/{call}", None), ("get", f"{API}/{call}/notes", None),
                               ("post", f"{API}/{call}/notes", {"content": "hi"}),
                               ("post", f"{API}/{call}/tags", {"tag": "x"}),
                               ("delete", f"{API}/{call}/tags/x", None),
                               ("get", f"{API}/{call}/recording", None),
                               ("get", f"{API}/call_doesnotexist", None)]:
        resp = getattr(client, method)(path, headers=stranger.headers, json=body) if body else \
            getattr(client, method)(path, headers=stranger.headers)
        assert_error(resp, 404, "NOT_FOUND")
    listed = client.get(API, headers=stranger.headers).json
    assert listed["data"] == [] and listed["stats"]["totalCalls"] == 0
    assert client.get(f"{API}/live", headers=stranger.headers).json["data"] == []
    assert client.get(f"{API}/concurrency", headers=stranger.headers).json["data"]["current"] == 0


def test_live_calls_and_concurrency(world, client):
    live = client.get(f"{API}/live", headers=world.viewer.headers).json["data"]
    assert [c["id"] for c in live] == [world.ids["h"]]
    assert live[0]["currentTranscript"] == [{"speaker": "CALLER", "text": "hello?", "partial": True}]
    assert live[0]["aiConfidence"] == 50.0 and live[0]["status"] == "active" and live[0]["durationSeconds"] >= 0
    now = client.get(f"{API}/concurrency", headers=world.viewer.headers).json["data"]
    assert now == {"current": 1, "peak": 1, "limit": 10}
    series = client.get(f"{API}/concurrency/timeseries?granularity=minute&limit=5", headers=world.viewer.headers)
    assert series.status_code == 200 and len(series.json["data"]) == 5
    assert series.json["data"][-1]["count"] == 1 and series.json["data"][0]["timestamp"].endswith(":00Z")
    default = client.get(f"{API}/concurrency/timeseries", headers=world.viewer.headers).json["data"]
    assert len(default) == 24
    for query in ("granularity=week", "limit=0", "limit=5000"):
        assert_error(client.get(f"{API}/concurrency/timeseries?{query}", headers=world.viewer.headers), 422,
                     "VALIDATION_ERROR")
