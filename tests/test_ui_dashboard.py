"""The dashboard: figures from aggregate queries, the date-range picker, chart data the scripts can read safely."""
from __future__ import annotations

import datetime as dt
import json
import re

from appliance import appointments, knowledge
from appliance.business_hours import local_now
from data.ai import KnowledgeItem
from tests.ui_helpers import browser_for, text_of  # noqa: F401


def _charts(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', page,
                                re.S).group(1))


def _seed(app, org_id):
    with app.app_context():
        today = local_now(org_id).date()
        for i, (time, status) in enumerate([("09:00", "scheduled"), ("10:00", "cancelled"), ("15:30", "confirmed")]):
            appointments.create(org_id, {"customerName": f"Patient <{i}>", "appointmentDate": today,
                                         "appointmentTime": time, "status": status}, source="AI" if i else "MANUAL")
        appointments.create(org_id, {"customerName": "Old", "appointmentDate": today - dt.timedelta(days=40),
                                     "appointmentTime": "09:00"})
        appointments.create(org_id, {"customerName": "Tomorrow <b>", "appointmentDate": today + dt.timedelta(days=1),
                                     "appointmentTime": "09:00"})
        item = knowledge.create(org_id, {"question": "</script><script>alert(1)</script>", "answer": "x"})
        KnowledgeItem.update(usage_count=7).where(KnowledgeItem.id == item.id).execute()
    return today


def test_figures_and_charts_of_the_default_period(app, members, browser_for):
    today = _seed(app, members["OWNER"].org_id)
    page = browser_for(members["AGENT"]).page("/")
    tiles = dict(zip(re.findall(r'class="tile-label">([^<]+)<', page), re.findall(r'class="tile-value">([^<]+)<', page)))
    assert tiles["Appointments today"] == "2" and tiles["Appointments in the period"] == "3"
    assert tiles["Booked by the AI (2)"] == "67%" and tiles["Cancelled or no-show"] == "1"
    charts = _charts(page)
    assert len(charts["byDay"]["labels"]) == 30 and charts["byDay"]["labels"][-1] == today.isoformat()
    assert charts["byDay"]["series"][0]["data"][-1] == 2 and charts["byDay"]["series"][1]["data"][-1] == 1
    assert charts["byHour"]["labels"][0] == "09:00" and charts["byHour"]["labels"][-1] == "15:00"
    assert sorted(charts["status"]["labels"]) == ["cancelled", "confirmed", "scheduled"]
    assert charts["answers"]["series"][0]["data"] == [7]
    assert "</script><script>" not in page  # the JSON block cannot be broken out of
    assert charts["answers"]["labels"] == ["</script><script>alert(1)</script>"]
    assert "Tomorrow &lt;b&gt;" in page  # the next appointments, escaped


def test_the_date_range_picker(app, members, browser_for):
    today = _seed(app, members["OWNER"].org_id)
    agent = browser_for(members["AGENT"])
    start = (today - dt.timedelta(days=45)).isoformat()
    charts = _charts(agent.page(f"/?start={start}&end={today.isoformat()}"))
    assert len(charts["byDay"]["labels"]) == 46 and sum(charts["byDay"]["series"][1]["data"]) == 2
    assert len(_charts(agent.page("/?days=7"))["byDay"]["labels"]) == 7
    for query, problem in [("start=2030-05-01&end=2030-04-01", "before the start"),
                           ("start=1999-01-01&end=2030-01-01", "at most 366 days"),
                           ("start=yesterday&end=2030-01-01", "YYYY-MM-DD")]:
        page = agent.page(f"/?{query}")
        assert problem in text_of(page) and len(_charts(page)["byDay"]["labels"]) == 30


def test_a_viewer_sees_figures_but_no_customer_names(app, members, browser_for):
    _seed(app, members["OWNER"].org_id)
    page = browser_for(members["VIEWER"]).page("/")
    assert "Tomorrow" not in page and "Next appointments" not in page
    assert _charts(page)["status"]["labels"]


def test_an_empty_workspace_has_a_calm_dashboard(members, browser_for):
    page = browser_for(members["OWNER"]).page("/")
    assert page.count("Nothing yet in this period.") == 5  # status, answers, outcomes, sentiment, intents
    assert "No upcoming appointments." in page


def test_call_figures_of_the_period(client, members, browser_for):
    owner = members["OWNER"]
    today = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    for i, (handled, outcome, sentiment) in enumerate([("AI", "BOOKING", "positive"), ("AI", "INFO", "neutral"),
                                                       ("AI", "TRANSFER", "negative"), ("HUMAN", "MISSED", None)]):
        started = today - dt.timedelta(minutes=30 + i)
        body = {"direction": "inbound", "fromNumber": f"+1212555010{i}", "toNumber": "+12125550142",
                "startedAt": started.isoformat(), "endedAt": (started + dt.timedelta(minutes=2)).isoformat(),
                "handledBy": handled, "outcome": outcome, "sentiment": sentiment, "intentDetected": "booking"}
        assert client.post("/api/v1/calls", headers=owner.headers, json=body).status_code == 201
    page = browser_for(members["VIEWER"]).page("/")
    tiles = dict(zip(re.findall(r'class="tile-label">([^<]+)<', page), re.findall(r'class="tile-value">([^<]+)<', page)))
    assert tiles["Calls in the period"] == "4" and tiles["Resolved by the AI (of 3)"] == "67%"
    assert tiles["Bookings"] == "1" and tiles["Transfers to staff"] == "1" and tiles["Missed calls"] == "1"
    charts = _charts(page)
    assert sum(sum(s["data"]) for s in charts["callsByDay"]["series"]) == 4
    assert sum(charts["callsByHour"]["series"][0]["data"]) == 4
    assert sorted(charts["outcomes"]["labels"]) == ["booking", "info", "missed", "transfer"]
    assert charts["intents"] == {"labels": ["booking"], "series": [{"label": "Calls", "data": [4]}]}
