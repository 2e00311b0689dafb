"""Outbound webhooks through the API: CRUD, secrets shown once, signatures, the delivery log, redelivery, roles."""
from __future__ import annotations

import json
import time

import pytest

from appliance import events
from data.db import database
from data.webhooks import Delivery, Webhook
from tests.conftest import assert_error
from tests.webhook_receiver import Receiver, verify_signature

API = "/api/v1"


def add(client, account, url, **fields):
    body = {"url": url, "events": ["call.ended"], **fields}
    resp = client.post(f"{API}/webhooks", headers=account.headers, json=body)
    assert resp.status_code == 201, resp.json
    return resp.json["data"]


def trigger(client, account, event="call.ended", data=None):
    resp = client.post(f"{API}/webhooks/trigger", headers=account.headers, json={"event": event, "data": data or {}})
    assert resp.status_code == 202, resp.json
    return resp.json["data"]


def deliveries(client, account, webhook_id, **query):
    resp = client.get(f"{API}/webhooks/{webhook_id}/deliveries", headers=account.headers, query_string=query)
    assert resp.status_code == 200, resp.json
    return resp.json["data"]


def test_secret_is_shown_once_and_sealed_with_custom_credentials(client, members):
    owner = members["OWNER"]
    made = add(client, owner, "http://127.0.0.1:9/hook", headers={"Authorization": "Bearer crm-token", "X-Env": "test"})
    assert made["id"].startswith("wh_") and made["secret"].startswith("whsec_") and len(made["secret"]) > 30
    assert made["headers"] == {"Authorization": "********", "X-Env": "test"}
    shown = client.get(f"{API}/webhooks/{made['id']}", headers=owner.headers).json["data"]
    assert shown["secret"] == "********" and shown["headers"]["Authorization"] == "********"
    listed = client.get(f"{API}/webhooks", headers=owner.headers).json["data"]
    assert made["secret"] not in json.dumps(listed) and "crm-token" not in json.dumps(listed)
    with database.connection_context():
        row = Webhook.get_by_id(made["id"])
    assert made["secret"] not in row.secret and "crm-token" not in row.headers


def test_delivery_is_signed_so_an_independent_check_passes(client, members):
    owner = members["OWNER"]
    with Receiver() as receiver:
        made = add(client, owner, receiver.url, secret="my-own-secret-123")
        assert made["secret"] == "my-own-secret-123"
        sent = trigger(client, owner, data={"callId": "call_123", "durationSeconds": 42})
        got = receiver.wait_for(1, 10)
    assert len(got) == 1 and len(sent["deliveries"]) == 1
    request = got[0]
    assert verify_signature("my-own-secret-123", request.body, request.headers["X-Webhook-Signature"])
    assert not verify_signature("another-secret", request.body, request.headers["X-Webhook-Signature"])
    body = json.loads(request.body)
    assert set(body) == {"id", "event", "timestamp", "data"}
    assert body["id"] == sent["eventId"] == request.headers["X-Webhook-Id"] and body["id"].startswith("evt_")
    assert body["event"] == request.headers["X-Webhook-Event"] == "call.ended"
    assert body["data"] == {"callId": "call_123", "durationSeconds": 42} and body["timestamp"].endswith("Z")
    assert abs(int(request.headers["X-Webhook-Timestamp"]) - time.time()) < 60
    assert request.headers["Content-Type"] == "application/json"


def test_custom_headers_are_sent_and_a_masked_value_round_trips(client, members):
    owner = members["OWNER"]
    with Receiver() as receiver:
        made = add(client, owner, receiver.url, headers={"Authorization": "Bearer crm-token"})
        resp = client.patch(f"{API}/webhooks/{made['id']}", headers=owner.headers,
                            json={"headers": {"Authorization": "********", "X-Tenant": "42"}})
        assert resp.status_code == 200, resp.json
        trigger(client, owner)
        got = receiver.wait_for(1, 10)
    assert got[0].headers["Authorization"] == "Bearer crm-token" and got[0].headers["X-Tenant"] == "42"


def test_catalog_and_event_filter(client, members):
    manager, owner = members["MANAGER"], members["OWNER"]
    catalog = client.get(f"{API}/webhooks/events", headers=manager.headers).json["data"]
    assert [c["event"] for c in catalog] == list(events.EVENTS)
    assert all(c["description"] for c in catalog)
    ended = add(client, owner, "http://127.0.0.1:9/a", events=["call.ended", "lead.updated"])
    booked = add(client, owner, "http://127.0.0.1:9/b", events=["appointment.booked"])

    def ids(**query):
        resp = client.get(f"{API}/webhooks", headers=manager.headers, query_string=query)
        assert resp.status_code == 200, resp.json
        return {w["id"] for w in resp.json["data"]}

    assert ids() == {ended["id"], booked["id"]}
    assert ids(event="lead.updated") == {ended["id"]}
    assert ids(event="appointment.booked") == {booked["id"]}
    assert ids(event="call.started") == set()
    assert_error(client.get(f"{API}/webhooks?event=call.nope", headers=manager.headers), 422, "VALIDATION_ERROR")


def test_patch_deactivate_and_delete(client, members):
    owner = members["OWNER"]
    with Receiver() as receiver:
        made = add(client, owner, receiver.url)
        resp = client.patch(f"{API}/webhooks/{made['id']}", headers=owner.headers,
                            json={"isActive": False, "events": ["call.ended", "call.started"], "description": "CRM"})
        assert resp.status_code == 200, resp.json
        assert resp.json["data"]["isActive"] is False and resp.json["data"]["description"] == "CRM"
        assert trigger(client, owner)["deliveries"] == []
        client.patch(f"{API}/webhooks/{made['id']}", headers=owner.headers, json={"isActive": True})
        assert len(trigger(client, owner, "call.started")["deliveries"]) == 1
        assert len(receiver.wait_for(1, 10)) == 1
    resp = client.delete(f"{API}/webhooks/{made['id']}", headers=owner.headers)
    assert resp.status_code == 200
    assert_error(client.get(f"{API}/webhooks/{made['id']}", headers=owner.headers), 404, "NOT_FOUND")
    with database.connection_context():
        assert Delivery.select().where(Delivery.webhook == made["id"]).count() == 0


@pytest.mark.parametrize("body, fragment", [
    ({"url": "ftp://example.com/x"}, "http"),
    ({"url": "not a url"}, "http"),
    ({"url": "http:///path-only"}, "host"),
    ({"url": "http://user:pw@example.com/"}, "credentials"),
    ({"url": "http://169.254.169.254/latest/meta-data"}, "blocked"),
    ({"url": "http://[fe80::1]/x"}, "blocked"),
    ({"url": "http://[::ffff:169.254.169.254]/x"}, "blocked"),
    ({"events": []}, "events"),
    ({"events": ["call.exploded"]}, "events"),
    ({"headers": {"Content-Type": "text/plain"}}, "headers"),
    ({"headers": {"X-Webhook-Signature": "forged"}}, "headers"),
    ({"headers": {"X-Ok": "line\r\nInjected: yes"}}, "headers"),
    ({"headers": {"Bad Name": "x"}}, "headers"),
    ({"secret": "short"}, "secret"),
    ({"retries": 3}, "retries"),
])
def test_invalid_webhooks_are_refused_clearly(client, members, body, fragment):
    resp = client.post(f"{API}/webhooks", headers=members["ADMIN"].headers,
                       json={"url": "http://127.0.0.1:9/x", "events": ["call.ended"], **body})
    error = assert_error(resp, 422, "VALIDATION_ERROR")
    assert fragment in json.dumps(error).lower(), error


def test_a_failed_delivery_is_logged_and_redelivered(client, members):
    admin, manager = members["ADMIN"], members["MANAGER"]
    with Receiver(fail_first=1, fail_status=503, reply=b"x" * 5000) as receiver:
        made = add(client, admin, receiver.url)
        trigger(client, admin, data={"n": 1})
        receiver.wait_for(1, 10)
        [first] = deliveries(client, manager, made["id"])
        assert first["status"] == "pending" and first["attempts"] == 1 and first["lastStatusCode"] == 503
        assert first["lastError"] == "HTTP 503" and len(first["responseExcerpt"]) == 1024
        [log] = first["attemptLog"]
        assert log["success"] is False and log["statusCode"] == 503 and log["nextRetryAt"]
        assert first["payload"]["data"] == {"n": 1} and first["nextRetryAt"]

        resp = client.post(f"{API}/webhooks/{made['id']}/deliveries/{first['id']}/redeliver", headers=admin.headers)
        assert resp.status_code == 202, resp.json
        got = receiver.wait_for(2, 10)
    again = resp.json["data"]
    assert again["status"] == "delivered" and again["attempts"] == 2 and again["lastStatusCode"] == 200
    assert [a["success"] for a in again["attemptLog"]] == [False, True]
    assert got[0].body == got[1].body and got[0].headers["X-Webhook-Id"] == got[1].headers["X-Webhook-Id"]
    assert [r.headers["X-Webhook-Attempt"] for r in got] == ["1", "2"]
    assert [d["id"] for d in deliveries(client, manager, made["id"], status="delivered")] == [first["id"]]
    assert deliveries(client, manager, made["id"], status="failed") == []


def test_trigger_checks_the_event_and_reaches_only_subscribers(client, members):
    admin = members["ADMIN"]
    with Receiver() as a, Receiver() as b:
        add(client, admin, a.url, events=["lead.updated"])
        add(client, admin, b.url, events=["call.ended"])
        sent = trigger(client, admin, "lead.updated", {"leadId": "lead_1"})
        assert len(sent["deliveries"]) == 1
        assert len(a.wait_for(1, 10)) == 1 and b.count() == 0
    resp = client.post(f"{API}/webhooks/trigger", headers=admin.headers, json={"event": "lead.exploded"})
    assert_error(resp, 422, "VALIDATION_ERROR")


@pytest.mark.parametrize("role, reads, writes", [
    ("OWNER", 200, True), ("ADMIN", 200, True), ("MANAGER", 200, False), ("AGENT", 403, False),
    ("VIEWER", 403, False)])
def test_roles_read_manager_write_admin(client, members, role, reads, writes):
    caller, owner = members[role], members["OWNER"]
    made = add(client, owner, "http://127.0.0.1:9/x")
    trigger(client, owner)
    dlv = deliveries(client, owner, made["id"])[0]["id"]
    for path in ("/webhooks", "/webhooks/events", f"/webhooks/{made['id']}", f"/webhooks/{made['id']}/deliveries"):
        assert client.get(f"{API}{path}", headers=caller.headers).status_code == reads, path
    writes_status = [
        client.post(f"{API}/webhooks", headers=caller.headers, json={"url": "http://127.0.0.1:9/y",
                                                                     "events": ["call.ended"]}).status_code,
        client.patch(f"{API}/webhooks/{made['id']}", headers=caller.headers, json={"description": "x"}).status_code,
        client.post(f"{API}/webhooks/{made['id']}/deliveries/{dlv}/redeliver", headers=caller.headers).status_code,
        client.post(f"{API}/webhooks/trigger", headers=caller.headers, json={"event": "call.ended"}).status_code,
        client.delete(f"{API}/webhooks/{made['id']}", headers=caller.headers).status_code,
    ]
    assert writes_status == ([201, 200, 202, 202, 200] if writes else [403] * 5)
    assert client.get(f"{API}/webhooks").status_code == 401


def test_another_workspace_sees_404(client, members, make_account):
    owner, stranger = members["OWNER"], make_account("OWNER")
    made = add(client, owner, "http://127.0.0.1:9/x")
    trigger(client, owner)
    dlv = deliveries(client, owner, made["id"])[0]["id"]
    base = f"{API}/webhooks/{made['id']}"
    for resp in (client.get(base, headers=stranger.headers),
                 client.patch(base, headers=stranger.headers, json={"description": "mine"}),
                 client.get(f"{base}/deliveries", headers=stranger.headers),
                 client.post(f"{base}/deliveries/{dlv}/redeliver", headers=stranger.headers),
                 client.delete(base, headers=stranger.headers)):
        assert_error(resp, 404, "NOT_FOUND")
    assert client.get(f"{API}/webhooks", headers=stranger.headers).json["data"] == []
    assert trigger(client, stranger)["deliveries"] == []
    other = add(client, stranger, "http://127.0.0.1:9/z")
    assert_error(client.post(f"{base}/deliveries/{dlv}/redeliver".replace(made["id"], other["id"]),
                             headers=stranger.headers), 404, "NOT_FOUND")
