"""The knowledge base editor in the browser: list, live search fragment, variations, import, escaping, roles."""
from __future__ import annotations

import io

import pytest

from appliance import knowledge
from data.ai import KnowledgeItem
from tests.ui_helpers import assert_csp_clean, browser_for, field_error, text_of  # noqa: F401

HOSTILE = '<script>alert("kb")</script><img src=x onerror=alert(1)>'


def _item(app, org_id, **body):
    with app.app_context():
        return knowledge.create(org_id, {"question": "Where can I park?", "answer": "Behind the building.",
                                         "category": "location", "questionVariations": ["parking?"], **body})


def test_a_manager_adds_an_item_with_variations(members, browser_for):
    manager = browser_for(members["MANAGER"])
    assert 'class="secondary small add-variation"' in manager.page("/knowledge/new")
    resp = manager.post("/knowledge/new", {"category": "Pricing", "question": "How much is a cleaning?",
                                           "answer": "A cleaning is 90 dollars.", "isActive": "on",
                                           "questionVariations": ["cost of cleaning", " ", "COST OF CLEANING",
                                                                  "price for a cleaning"]})
    assert resp.status_code == 303
    row = KnowledgeItem.get(KnowledgeItem.question == "How much is a cleaning?")
    assert row.category == "pricing" and row.is_active and not row.is_priority
    assert row.question_variations == ["cost of cleaning", "price for a cleaning"]


def test_edit_removes_and_adds_variations(app, members, browser_for):
    row = _item(app, members["OWNER"].org_id)
    manager = browser_for(members["MANAGER"])
    page = manager.page(f"/knowledge/{row.id}")
    assert 'value="parking?"' in page and "Used 0 times" in page
    resp = manager.post(f"/knowledge/{row.id}", {"category": "location", "question": "Where can I park?",
                                                 "answer": "Free parking behind the building.", "isPriority": "on",
                                                 "isActive": "on", "questionVariations": ["", "is there parking"]})
    assert resp.status_code == 303
    row = KnowledgeItem.get_by_id(row.id)
    assert row.question_variations == ["is there parking"] and row.is_priority and row.answer.startswith("Free")


def test_hostile_text_is_shown_as_text_everywhere(app, members, browser_for):
    row = _item(app, members["OWNER"].org_id, question=HOSTILE, answer=HOSTILE, category="x<b>",
                questionVariations=[HOSTILE])
    manager = browser_for(members["MANAGER"])
    for path in ("/knowledge", f"/knowledge/{row.id}", "/knowledge?search=script", "/"):
        page = manager.page(path)
        assert "<script>alert" not in page and "<img src=x" not in page
        assert_csp_clean(page)
    assert "&lt;script&gt;alert(&#34;kb&#34;)&lt;/script&gt;" in manager.page(f"/knowledge/{row.id}")


@pytest.mark.parametrize("form, field, message", [
    ({"question": "", "answer": "A"}, "question", "Length must be between 1 and 1000."),
    ({"question": "Q?", "answer": ""}, "answer", "Length must be between 1 and 5000."),
    ({"question": "Q?", "answer": "A", "category": "c" * 65}, "category", "Length must be between 1 and 64."),
    ({"question": "Q?", "answer": "A", "questionVariations": ["v" * 1001]}, "questionVariations", "Longer than"),
])
def test_form_errors_sit_next_to_their_fields(members, browser_for, form, field, message):
    manager = browser_for(members["MANAGER"])
    resp = manager.post("/knowledge/new", form)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    shown = field_error(page, field) or field_error(page, "variations")
    assert shown and message in shown, shown
    assert KnowledgeItem.select().count() == 0


def test_search_filters_and_htmx_gets_only_the_results(app, members, browser_for):
    org = members["OWNER"].org_id
    _item(app, org)
    _item(app, org, question="Do you take insurance?", answer="Yes, most plans.", category="billing",
          questionVariations=["Delta Dental"])
    agent = browser_for(members["AGENT"])
    page = agent.page("/knowledge?search=delta")
    assert "Do you take insurance?" in page and "Where can I park?" not in page
    fragment = agent.get("/knowledge?category=location", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert body.startswith('\n<div id="kb-results">') or body.lstrip().startswith('<div id="kb-results">')
    assert "<html" not in body and "Where can I park?" in body and "insurance" not in body
    assert "HX-Request" in fragment.headers["Vary"]
    assert "No answers match." in agent.page("/knowledge?state=priority")


def test_pages_of_results(app, members, browser_for):
    with app.app_context():
        knowledge.import_csv(members["OWNER"].org_id, ("question,answer\n" + "".join(
            f"Question {i}?,Answer {i}\n" for i in range(30))).encode())
    agent = browser_for(members["AGENT"])
    first, second = agent.page("/knowledge"), agent.page("/knowledge?page=2")
    assert "Page 1 of 2 (30 in all)" in first and 'rel="next"' in first
    assert "Page 2 of 2" in second and second.count('href="/knowledge/kb_') == 5
    assert "Page 2 of 2" in agent.page("/knowledge?page=99")  # past the end: the last page


def test_csv_import_reports_good_and_bad_rows(members, browser_for):
    manager = browser_for(members["MANAGER"])
    data = b"question,answer,questionVariations\nOpen Sundays?,No.,sunday|weekend\n,missing question\n"
    resp = manager.post("/knowledge/import", {"file": (io.BytesIO(data), "kb.csv")},
                        content_type="multipart/form-data")
    assert resp.status_code == 303
    page = text_of(manager.page("/knowledge"))
    assert "Imported 1 answers; 0 duplicates skipped; 1 rows with errors." in page
    assert "Line 3: question and answer are required" in page
    assert KnowledgeItem.get(KnowledgeItem.question == "Open Sundays?").question_variations == ["sunday", "weekend"]
    resp = manager.post("/knowledge/import", {"file": (io.BytesIO(b"\xff\xfe garbage"), "kb.csv")},
                        content_type="multipart/form-data")
    assert "Import refused: The file is not UTF-8 text" in text_of(manager.page("/knowledge"))


def test_agents_read_managers_edit_viewers_see_nothing(app, members, browser_for):
    row = _item(app, members["OWNER"].org_id)
    agent, viewer = browser_for(members["AGENT"]), browser_for(members["VIEWER"])
    page = agent.page(f"/knowledge/{row.id}")
    assert "Save answer" not in page and "disabled" in page and "New answer" not in agent.page("/knowledge")
    for browser, status in ((agent, 403), (viewer, 403)):
        assert browser.post(f"/knowledge/{row.id}", {"question": "x", "answer": "y"}).status_code == status
        assert browser.post(f"/knowledge/{row.id}/delete").status_code == status
        assert browser.post("/knowledge/new", {"question": "x", "answer": "y"}).status_code == status
    viewer.page("/knowledge", 403)
    assert KnowledgeItem.get_by_id(row.id).question == "Where can I park?"


def test_delete_and_other_workspaces(app, members, browser_for, make_account):
    mine = _item(app, members["OWNER"].org_id)
    theirs = _item(app, make_account("OWNER").org_id)
    manager = browser_for(members["MANAGER"])
    assert manager.get(f"/knowledge/{theirs.id}").status_code == 404
    assert manager.post(f"/knowledge/{theirs.id}/delete").status_code == 404
    assert manager.post(f"/knowledge/{mine.id}/delete").status_code == 303
    assert KnowledgeItem.get_or_none(KnowledgeItem.id == mine.id) is None
