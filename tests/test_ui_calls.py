"""Calls in the browser: the filtered list with stats, CSV export, one call with its recording, notes and tags."""
from __future__ import annotations

import csv
import io
import re
import wave

import pytest

from data.calls import CallNote, CallTag
from tests.ui_helpers import anonymous, browser_for, text_of  # noqa: F401


def _record(client, owner, **body) -> str:
    base = {"direction": "inbound", "fromNumber": "+12125550101", "toNumber": "+12125550142",
            "startedAt": "2030-05-06T14:00:00Z", "endedAt": "2030-05-06T14:03:00Z", "handledBy": "AI",
            "outcome": "BOOKING", "summary": "Booked a <cleaning>.", "sentiment": "positive",
            "transcript": [{"speaker": "AI", "text": "Hello, Bright Smile.", "startSeconds": 1.0, "endSeconds": 3.0},
                           {"speaker": "CALLER", "text": "I'd like a <b>cleaning</b>.",
                            "startSeconds": 5.0, "endSeconds": 8.0}]}
    resp = client.post("/api/v1/calls", headers=owner.headers, json={**base, **body})
    assert resp.status_code == 201, resp.json
    return resp.json["data"]["id"]


def _wav(seconds: float = 2.0) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x10\x00\xf0\xff" * int(4000 * seconds))
    return out.getvalue()


def test_the_list_filters_and_shows_the_stats(client, members, browser_for):
    owner = members["OWNER"]
    _record(client, owner)
    _record(client, owner, fromNumber="+13105550199", handledBy="HUMAN", outcome="TRANSFER", status="completed")
    viewer = browser_for(members["VIEWER"])
    page = viewer.page("/calls")
    tiles = re.findall(r'class="tile-value">([^<]+)<', page)
    assert tiles[:3] == ["2", "1", "1"] and "+12125550101" in page and "+13105550199" in page
    page = viewer.page("/calls?search=310 555&handledBy=HUMAN")
    assert "+13105550199" in page and "+12125550101" not in page
    page = viewer.page("/calls?status=teleported&outcome=NOPE")
    assert "Ignored filters that are not valid" in text_of(page) and "+12125550101" in page
    assert "No calls match." in viewer.page("/calls?startDate=2031-01-01")


def test_csv_export_follows_the_filter_and_defuses_formulas(client, members, browser_for):
    owner = members["OWNER"]
    _record(client, owner)
    _record(client, owner, fromNumber="+13105550199", outcome="INFO", endedReason="=HYPERLINK(\"http://x\")")
    resp = browser_for(members["VIEWER"]).get("/calls/export.csv?outcome=INFO")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert len(rows) == 1 and rows[0]["from_number"] == "+13105550199"
    assert rows[0]["ended_reason"].startswith("'=")


def test_a_call_in_full_with_its_recording(client, members, browser_for):
    owner = members["OWNER"]
    call_id = _record(client, owner)
    resp = client.post(f"/api/v1/calls/{call_id}/recording", headers=owner.headers,
                       data={"recording": (io.BytesIO(_wav()), "call.wav")}, content_type="multipart/form-data")
    assert resp.status_code == 201, resp.json
    viewer = browser_for(members["VIEWER"])
    page = viewer.page(f"/calls/{call_id}")
    assert f'src="/calls/{call_id}/recording"' in page and 'data-start="' in page
    assert "I&#39;d like a &lt;b&gt;cleaning&lt;/b&gt;." in page and "<b>cleaning" not in page
    assert "Add a note" not in page  # a VIEWER reads, an AGENT annotates
    audio = viewer.get(f"/calls/{call_id}/recording", headers={"Range": "bytes=0-99"})
    assert audio.status_code == 206 and audio.mimetype == "audio/wav" and len(audio.data) == 100
    assert audio.data.startswith(b"RIFF")


def test_notes_and_tags_are_added_by_agents(client, members, browser_for):
    call_id = _record(client, members["OWNER"])
    agent, viewer = browser_for(members["AGENT"]), browser_for(members["VIEWER"])
    assert agent.post(f"/calls/{call_id}/notes", {"content": "Called back <later>"}).status_code == 303
    assert agent.post(f"/calls/{call_id}/tags", {"tag": "Follow Up"}).status_code == 303
    page = agent.page(f"/calls/{call_id}")
    assert "Called back &lt;later&gt;" in page and ">follow up<" in page
    assert agent.post(f"/calls/{call_id}/tags", {"tag": "follow up", "action": "remove"}).status_code == 303
    assert CallTag.select().count() == 0
    agent.post(f"/calls/{call_id}/notes", {"content": "   "})
    assert "Note not added" in text_of(agent.page(f"/calls/{call_id}"))
    assert viewer.post(f"/calls/{call_id}/notes", {"content": "sneaky"}).status_code == 403
    assert viewer.post(f"/calls/{call_id}/tags", {"tag": "sneaky"}).status_code == 403
    assert CallNote.select().count() == 1


def test_another_workspace_call_is_404(client, members, browser_for, make_account):
    theirs = _record(client, make_account("OWNER"))
    agent = browser_for(members["AGENT"])
    for path in (f"/calls/{theirs}", f"/calls/{theirs}/recording"):
        assert agent.get(path).status_code == 404
    assert agent.post(f"/calls/{theirs}/notes", {"content": "x"}).status_code == 404
    assert agent.get(f"/calls/{_record(client, members['OWNER'])}/recording").status_code == 404  # none yet


@pytest.mark.parametrize("path", ["/calls", "/calls/export.csv", "/calls/call_x", "/calls/call_x/recording"])
def test_calls_need_a_sign_in(anonymous, path):
    assert anonymous.get(path).status_code == 302
