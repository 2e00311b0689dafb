"""Assistants, the AI configuration and the Try-it chat in the browser."""
from __future__ import annotations

import re

import pytest

from appliance import assistants
from appliance.settings import get_settings
from data.ai import Assistant
from tests.ui_helpers import browser_for, field_error, text_of  # noqa: F401

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def assistant_form(**changes) -> dict:
    form = {"name": "Front Desk", "language": "en", "isActive": "on", "greetingMessage": "Hi, Bright Smile here!",
            "closingMessage": "Bye!", "tone": "friendly", "speakingStyle": "concise", "voice.voiceId": "",
            "asr.engine": "vosk", "asr.model": "", "transferDestination": "200",
            "transferRules.confidenceThreshold": "55", "transferRules.maxDuration": "300",
            "transferRules.lowConfidenceTurns": "2", "transferRules.transferOnRequest": "on",
            "transferRules.languages": "es, de", "safetyRules.forbiddenTopics": "diagnosis\nprices of drugs",
            "safetyRules.disclaimer": "I can't advise on that.", "bookingEnabled": "on", "enableSentiment": "on",
            "enableIntent": "on", "afterHoursAction": "voicemail", "appointmentDurationMinutes": "45"}
    for day in DAYS[:5]:
        form[f"businessHours.{day}.open"], form[f"businessHours.{day}.close"] = "09:00", "17:00"
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def test_a_manager_creates_and_edits_an_assistant(app, members, browser_for):
    manager = browser_for(members["MANAGER"])
    resp = manager.post("/assistants/new", assistant_form())
    assert resp.status_code == 303
    row = Assistant.get(Assistant.name == "Front Desk")
    view = assistants.view(row)
    assert view["transferRules"]["languages"] == ["es", "de"] and view["transferRules"]["confidenceThreshold"] == 55
    assert view["safetyRules"]["forbiddenTopics"] == ["diagnosis", "prices of drugs"]
    assert set(view["businessHours"]) == set(DAYS[:5]) and view["appointmentDurationMinutes"] == 45
    assert view["afterHoursAction"] == "voicemail" and view["tone"] == "friendly"
    resp = manager.post(f"/assistants/{row.id}", assistant_form(name="Night Desk", bookingEnabled=None,
                                                                **{"businessHours.friday.open": ""},
                                                                **{"businessHours.friday.close": ""}))
    assert resp.status_code == 303
    view = assistants.view(Assistant.get_by_id(row.id))
    assert view["name"] == "Night Desk" and view["bookingEnabled"] is False and "friday" not in view["businessHours"]
    page = manager.page(f"/assistants/{row.id}")
    assert 'value="Night Desk"' in page and "Assistant Night Desk saved." in text_of(page)


@pytest.mark.parametrize("changes, field, message", [
    ({"name": ""}, "name", "Length must be between 1 and 100."),
    ({"tone": "sarcastic"}, "tone", "Must be one of"),
    ({"transferRules.confidenceThreshold": "150"}, "transferRules.confidenceThreshold", "less than or equal to 100"),
    ({"businessHours.monday.open": "18:00"}, "businessHours", "open must be before close"),
    ({"businessHours.monday.close": "25:99"}, "businessHours.monday", "use HH:MM"),
    ({"transferRules.languages": "english please"}, "transferRules.languages", "language code"),
])
def test_assistant_errors_sit_next_to_their_fields(members, browser_for, changes, field, message):
    manager = browser_for(members["MANAGER"])
    resp = manager.post("/assistants/new", assistant_form(**changes))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422, text_of(page)[:300]
    assert message in (field_error(page, field) or ""), (field, re.findall(r'-error">(.*?)<', page))
    assert Assistant.select().count() == 0


def test_a_viewer_reads_assistants_but_cannot_change_them(app, members, browser_for):
    with app.app_context():
        row = assistants.create(members["OWNER"].org_id, {"name": "Reception"})
    viewer = browser_for(members["VIEWER"])
    page = viewer.page(f"/assistants/{row.id}")
    assert "Save assistant" not in page and "<fieldset class=\"plain-fieldset\" disabled>" in page
    assert "New assistant" not in viewer.page("/assistants")
    assert viewer.post(f"/assistants/{row.id}", assistant_form(name="Hacked")).status_code == 403
    assert viewer.post(f"/assistants/{row.id}/delete").status_code == 403
    assert viewer.post("/assistants/new", assistant_form()).status_code == 403
    assert Assistant.get_by_id(row.id).name == "Reception"


def test_delete_and_another_workspace_answers_404(app, members, browser_for, make_account):
    with app.app_context():
        mine = assistants.create(members["OWNER"].org_id, {"name": "Mine"})
        theirs = assistants.create(make_account("OWNER").org_id, {"name": "Theirs"})
    manager = browser_for(members["MANAGER"])
    assert manager.get(f"/assistants/{theirs.id}").status_code == 404
    assert manager.post(f"/assistants/{theirs.id}/delete").status_code == 404
    assert manager.post(f"/assistants/{mine.id}/delete").status_code == 303
    assert Assistant.get_or_none(Assistant.id == mine.id) is None and Assistant.get_by_id(theirs.id)


def test_ai_config_creates_the_default_and_an_admin_switches_it(app, members, browser_for):
    manager = browser_for(members["MANAGER"])
    assert "There is none yet" in text_of(manager.page("/ai-config"))
    assert manager.post("/ai-config", assistant_form(name="Default One")).status_code == 303
    first = Assistant.get(Assistant.name == "Default One")
    with app.app_context():
        second = assistants.create(members["OWNER"].org_id, {"name": "Second"})
    assert manager.post("/ai-config/default", {"assistantId": second.id}).status_code == 403
    admin = browser_for(members["ADMIN"])
    assert admin.post("/ai-config/default", {"assistantId": second.id}).status_code == 303
    with app.app_context():
        assert get_settings(members["OWNER"].org_id, app.extensions["callbox.box"])["defaultAssistantId"] == second.id
    page = manager.page("/ai-config")
    assert "It is Second" in text_of(page) and 'value="Second"' in page and f'value="{first.name}"' not in page


def test_try_it_without_javascript_answers_and_continues(app, members, browser_for, client):
    owner = members["OWNER"]
    client.post("/api/v1/knowledge", headers=owner.headers, json={
        "question": "When are you open?", "answer": "We are open from nine to five, <b>Monday</b> to Friday.",
        "category": "hours"})
    agent = browser_for(members["AGENT"])
    page = agent.page("/try")
    assert 'data-api="/api/v1/ai/test"' in page
    resp = agent.post("/try", {"userMessage": "what are your opening hours"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "nine to five, &lt;b&gt;Monday&lt;/b&gt;" in page
    session_id = re.search(r'id="session-id" value="(ais_[^"]+)"', page).group(1)
    page = agent.post("/try", {"userMessage": "thanks, bye", "sessionId": session_id}).get_data(as_text=True)
    assert f'value="{session_id}"' in page and "Hello" not in text_of(page).split("You")[0]
    bad = agent.post("/try", {"userMessage": "hi", "sessionId": "ais_gone"})
    assert bad.status_code == 422 and "No test session" in field_error(bad.get_data(as_text=True), "user-message")


def test_the_chat_script_may_use_the_api_with_the_session_and_csrf_header(members, browser_for):
    agent = browser_for(members["AGENT"])
    resp = agent.client.post("/api/v1/ai/test", json={"userMessage": "hello"}, headers={"X-CSRF-Token": agent.csrf})
    assert resp.status_code == 200 and resp.json["data"]["sessionId"].startswith("ais_")
    assert agent.client.post("/api/v1/ai/test", json={"userMessage": "hello"}).status_code == 401


def test_try_it_is_for_agents_and_up(members, browser_for):
    viewer = browser_for(members["VIEWER"])
    viewer.page("/try", 403)
    assert viewer.post("/try", {"userMessage": "book me in"}).status_code == 403
