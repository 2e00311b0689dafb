"""The call records list, read-only: every filter and sort, search, pagination edges, stats for the filter, and
bad queries (one organization built once for the module: these tests change nothing)."""
from __future__ import annotations

import pytest

from appliance.datadir import open_database
from data.db import database
from tests.calls_data import API, DATA, body_for, build_world
from tests.conftest import assert_error, make_config


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from web import create_app

    config = make_config(tmp_path_factory.mktemp("calls-list"))
    open_database(config)
    app = create_app(config)
    yield build_world(app, app.test_client())
    database.close()


def test_list_shape_and_default_order(world):
    body = world.get()
    assert set(body) == {"success", "data", "stats", "pagination"}
    assert [c["id"] for c in body["data"]] == [world.ids[x] for x in "hgfedcba"]  # newest first
    first = body["data"][-1]
    assert (first["fromNumber"], first["callerNumber"], first["phoneNumber"]) == ("+12125550101", "+12125550101",
                                                                                 "+12125550142")
    assert first["startedAt"] == "2026-10-01T09:00:00Z" and first["durationSeconds"] == 120
    assert first["aiConfidence"] == 90.0 and first["assistantId"] == world.assistants["A1"]
    assert body["stats"] == {"totalCalls": 8, "aiHandled": 3, "humanTransfers": 1, "avgDuration": 176}


@pytest.mark.parametrize("query, expected", [
    ("status=completed", "cba"), ("status=no_answer", "d"), ("status=busy", "e"), ("status=failed", "f"),
    ("status=answered", "g"), ("status=active", "h"),
    ("direction=outbound", "dc"), ("direction=inbound", "hgfeba"),
    ("agentId=agt_2", "dc"), ("agentId=agt_1", "b"), ("campaignId=cmp_1", "dc"), ("campaignId=cmp_2", "g"),
    ("language=es", "dc"), ("language=de", "fe"),
    ("handledBy=AI", "gfa"), ("handledBy=HUMAN", "b"), ("handledBy=HYBRID", "c"),
    ("outcome=MISSED", "ed"), ("outcome=TRANSFER", "b"), ("outcome=BOOKING", "c"), ("outcome=INFO", "a"),
    ("outcome=VOICEMAIL", "g"), ("outcome=OTHER", "f"),
    ("startDate=2026-10-02&endDate=2026-10-03", "edc"), ("endDate=2026-10-01", "ba"),
    ("startDate=2026-10-04", "hgf"),
    ("startDate=2026-10-02T12:00:00Z&endDate=2026-10-03T09:00:00Z", "ed"),
    ("startDate=2026-10-02T14:00:00%2B02:00", "hgfed"),
    ("direction=outbound&status=completed", "c"), ("language=en&handledBy=AI", "ga"),
    ("search=(212) 555-0101", "ga"), ("search=%2B1 212 555 0199", "c"), ("search=0199", "c"),
    ("search=1004", "f"), ("search=1002", "b"), ("search=%2B44 20 7183 8750", "e"), ("search=7183", "e"),
    ("search=anonymous", ""), ("search=555-0198", "d"),
])
def test_every_filter(world, query, expected):
    assert "".join(world.labels(f"?{query}")) == expected


def test_assistant_filter(world):
    assert "".join(world.labels(f"?assistantId={world.assistants['A1']}")) == "gba"
    assert "".join(world.labels(f"?assistantId={world.assistants['A2']}")) == "ec"
    assert world.labels("?assistantId=asst_unknown") == []


@pytest.mark.parametrize("query, stats", [
    ("status=completed", {"totalCalls": 3, "aiHandled": 1, "humanTransfers": 1, "avgDuration": 220}),
    ("language=de", {"totalCalls": 2, "aiHandled": 1, "humanTransfers": 0, "avgDuration": 0}),
    ("outcome=MISSED", {"totalCalls": 2, "aiHandled": 0, "humanTransfers": 0, "avgDuration": 0}),
    ("direction=inbound&limit=1", {"totalCalls": 6, "aiHandled": 3, "humanTransfers": 1, "avgDuration": 155}),
    ("search=nothing-like-this", {"totalCalls": 0, "aiHandled": 0, "humanTransfers": 0, "avgDuration": 0}),
])
def test_stats_cover_the_filter_not_the_page(world, query, stats):
    body = world.get(f"?{query}")
    assert body["stats"] == stats and body["pagination"]["total"] == stats["totalCalls"]


SORT_KEYS = {"startedAt": lambda c: c["startedAt"], "endedAt": lambda c: c["endedAt"],
             "durationSeconds": lambda c: c["durationSeconds"], "status": lambda c: c["status"],
             "direction": lambda c: c["direction"], "fromNumber": lambda c: c["fromNumber"],
             "toNumber": lambda c: c["toNumber"], "outcome": lambda c: c["outcome"],
             "aiConfidence": lambda c: c["aiConfidence"]}


def expected_order(items: list[dict], key, descending: bool) -> list[str]:
    """Values in order, ties by id in the same direction, calls without a value last."""
    valued = sorted((c for c in items if key(c) is not None), key=lambda c: (key(c), c["id"]), reverse=descending)
    empty = sorted((c for c in items if key(c) is None), key=lambda c: c["id"], reverse=descending)
    return [c["id"] for c in valued + empty]


@pytest.mark.parametrize("sort", sorted(SORT_KEYS))
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_every_sort(world, sort, order):
    everything = world.get("?limit=100")["data"]
    got = [c["id"] for c in world.get(f"?sortBy={sort}&order={order}&limit=100")["data"]]
    assert got == expected_order(everything, SORT_KEYS[sort], order == "desc")


def test_pagination_edges(world):
    pages = [world.get(f"?limit=3&page={n}") for n in (1, 2, 3)]
    assert [len(p["data"]) for p in pages] == [3, 3, 2]
    assert sum(([c["id"] for c in p["data"]] for p in pages), []) == [world.ids[x] for x in "hgfedcba"]
    assert pages[0]["pagination"] == {"page": 1, "limit": 3, "total": 8, "totalPages": 3, "hasNext": True,
                                      "hasPrev": False}
    assert pages[2]["pagination"]["hasNext"] is False and pages[2]["pagination"]["hasPrev"] is True
    beyond = world.get("?limit=3&page=9")
    assert beyond["data"] == [] and beyond["pagination"]["total"] == 8 and beyond["pagination"]["hasNext"] is False
    one = world.get("?limit=1&page=8")
    assert [c["id"] for c in one["data"]] == [world.ids["a"]] and one["pagination"]["totalPages"] == 8


@pytest.mark.parametrize("query, where", [
    ("page=0", "page"), ("limit=1000", "limit"), ("limit=0", "limit"), ("status=ringing", "status"),
    ("direction=up", "direction"), ("handledBy=ROBOT", "handledBy"), ("outcome=WON", "outcome"),
    ("sortBy=secret", "sortBy"), ("order=sideways", "order"), ("startDate=yesterday", "startDate"),
    ("startDate=2026-10-05&endDate=2026-10-01", "endDate"), ("search=" + "9" * 80, "search"),
])
def test_bad_queries_are_422(world, query, where):
    error = assert_error(world.client.get(f"{API}?{query}", headers=world.viewer.headers), 422, "VALIDATION_ERROR")
    assert where in str(error)


@pytest.mark.parametrize("change, status, where", [
    ({"fromNumber": "not a number"}, 422, "fromNumber"),
    ({"toNumber": "+1 555"}, 422, "toNumber"),
    ({"endedAt": "2026-10-01T08:00:00Z"}, 422, "endedAt"),
    ({"answeredAt": "2026-10-01T08:59:00Z"}, 422, "answeredAt"),
    ({"endedAt": None}, 422, "endedAt"),
    ({"status": "active"}, 422, "status"),
    ({"assistantId": "asst_elsewhere"}, 422, "assistantId"),
    ({"direction": "both"}, 422, "direction"),
    ({"surprise": 1}, 422, "surprise"),
    ({"aiConfidence": 101}, 422, "aiConfidence"),
    ({"transcript": [{"speaker": "AI", "text": "x", "startSeconds": 5, "endSeconds": 1}]}, 422, "transcript"),
])
def test_create_validation(world, change, status, where):
    body = body_for(DATA[0], world.assistants) | {"externalId": "pbx-x"} | change
    error = assert_error(world.client.post(API, headers=world.manager.headers, json=body), status,
                         "VALIDATION_ERROR")
    assert where in str(error)


@pytest.mark.parametrize("term", ["+12125550142", "(212) 555-0101", "1004"])
def test_a_page_found_by_walking_the_order_equals_the_indexed_one(world, term):
    from appliance import calls_list

    args = {"search": term, "page": 1, "limit": 100}
    with database.connection_context():
        flt = calls_list.Filter.parse(world.manager.org_id, args)
        indexed = calls_list.rows(flt, args)
        walked = calls_list.rows(flt, args, matches=calls_list.DENSE + 1)
    assert indexed and [r["id"] for r in walked] == [r["id"] for r in indexed]
