"""The staff UI in real headless Chromium against ``callbox up``: sign-in, dashboard charts, the knowledge editor,
the Try-it chat with spoken replies, live registration status, keyboard use, and screenshots at 1280 and 375 px."""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tests.e2e.conftest import DEMO_EMAIL, DEMO_PASSWORD, open_page, screenshot, sign_in

pytestmark = pytest.mark.slow

MAIN_PAGES = {"dashboard": "/", "calls": "/calls", "appointments": "/appointments", "week": "/appointments/week",
              "knowledge": "/knowledge", "try-it": "/try", "assistants": "/assistants", "ai-config": "/ai-config",
              "phone-numbers": "/phone-numbers", "users": "/users", "api-keys": "/api-keys", "settings": "/settings",
              "account": "/account"}

DRAWN = """canvas => {
  const chart = window.Chart && window.Chart.getChart(canvas);
  if (!chart || canvas.width === 0 || canvas.height === 0) return 0;
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
  return painted;
}"""


def test_sign_in_and_see_the_dashboard_charts_drawn(page):
    sign_in(page)
    canvases = page.locator("canvas[data-chart]")
    assert canvases.count() >= 3
    page.wait_for_function("() => window.Chart && document.querySelectorAll('.chart-card.drawn').length >= 3")
    for i in range(canvases.count()):
        canvas = canvases.nth(i)
        canvas.scroll_into_view_if_needed()
        page.wait_for_timeout(500)  # the charts animate in
        assert canvas.evaluate(DRAWN) > 500, f"chart {canvas.get_attribute('data-chart')} is blank"
    tiles = page.locator(".tile-value").all_inner_texts()
    assert len(tiles) == 12 and all(re.match(r"^\d+(%|/\d+)?$", t) for t in tiles), tiles


def test_the_date_range_picker_changes_the_period(page):
    sign_in(page)
    page.get_by_role("link", name="7 days").click()
    page.wait_for_url(re.compile(r"days=7"))
    details = page.locator("details.chart-data").first
    details.locator("summary").click()
    assert details.locator("tbody tr").count() == 7


def test_edit_a_knowledge_item_with_a_new_variation(page):
    sign_in(page)
    page.get_by_role("link", name="Knowledge").click()
    page.get_by_label("Search").fill("parking")
    page.wait_for_url(re.compile(r"search=parking"))  # htmx filtered in place and pushed the URL
    first = page.locator("#kb-results tbody a").first
    question = first.inner_text()
    first.click()
    page.get_by_role("button", name="Add a variation").click()
    page.locator("input[name=questionVariations]").last.fill("Can I leave my car near you?")
    page.get_by_role("textbox", name="Answer", exact=True).fill("Yes: free parking behind the building, <b>two hours</b>.")
    page.get_by_role("button", name="Save answer").click()
    assert page.locator(".flash-success").is_visible()
    page.reload()
    values = [v.input_value() for v in page.locator("input[name=questionVariations]").all()]
    assert "Can I leave my car near you?" in values
    assert page.get_by_role("textbox", name="Answer", exact=True).input_value() == "Yes: free parking behind the building, <b>two hours</b>."
    assert page.locator("textarea[name=question]").input_value() == question


def test_chat_with_the_assistant_and_hear_the_reply(page):
    sign_in(page)
    page.get_by_role("link", name="Try it").click()
    page.get_by_label("What the caller says").fill("When are you open on Saturday?")
    page.get_by_role("button", name="Send").click()
    replies = page.locator("#chat-log .msg-ai")
    replies.nth(1).wait_for()  # the greeting, then the answer
    assert page.locator("#session-id").input_value().startswith("ais_")
    assert re.search(r"Intent \w+ · confidence [\d.]+%", replies.nth(1).inner_text())
    page.get_by_label("Speak the replies").check()
    page.get_by_label("What the caller says").fill("Do you take insurance?")
    page.get_by_role("button", name="Send").click()
    audio = page.locator("#chat-log .msg-ai audio")
    audio.wait_for(timeout=60_000)
    duration = audio.evaluate("""a => new Promise(done => {
      if (a.readyState >= 1) return done(a.duration);
      a.addEventListener('loadedmetadata', () => done(a.duration));
      a.addEventListener('error', () => done(-1));
    })""")
    assert duration > 0.3, duration
    assert page.locator("#chat-log .msg-caller").count() == 2


def test_registration_status_updates_by_itself(page, callbox_data_dir):
    sign_in(page)
    page.goto("/phone-numbers")
    row = page.locator("#numbers-table tbody tr").first
    number = row.locator("a").inner_text()
    with sqlite3.connect(callbox_data_dir / "callbox.db") as db:
        db.execute("UPDATE phone_numbers SET registration_status = 'failed', registration_error = ? "
                   "WHERE number = ?", ("403 Forbidden from the PBX", number))
    page.locator("#numbers-table .badge-bad").wait_for(timeout=15_000)  # no reload: htmx polls
    assert "403 Forbidden from the PBX" in page.locator("#numbers-table").inner_text()


def test_sign_in_with_the_keyboard_only(browser, callbox):
    context, tab = open_page(browser, callbox)
    try:
        tab.goto("/login")
        tab.keyboard.type(DEMO_EMAIL)  # the email field has focus on arrival
        tab.keyboard.press("Tab")
        tab.keyboard.type(DEMO_PASSWORD)
        tab.keyboard.press("Enter")
        tab.wait_for_url("**/")
        tab.keyboard.press("Tab")
        assert tab.evaluate("document.activeElement.textContent") == "Skip to content"
        assert not tab.console.errors, tab.console.errors
    finally:
        context.close()


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_main_pages_render_without_errors_and_fit_the_screen(browser, callbox, width):
    context, tab = open_page(browser, callbox, width)
    try:
        sign_in(tab)
        for name, path in MAIN_PAGES.items():
            tab.goto(path)
            tab.wait_for_load_state("networkidle")
            assert tab.locator("h1").count() == 1, name
            overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{name} is {overflow} px wider than the {width} screen"
            screenshot(tab, f"{name}-{tab.viewport_size['width']}")
        if width == "phone":
            menu = tab.get_by_role("button", name="Menu")
            assert menu.is_visible() and not tab.get_by_role("link", name="Knowledge").is_visible()
            menu.click()
            assert tab.get_by_role("link", name="Knowledge").is_visible()
        assert not tab.console.errors, tab.console.errors
    finally:
        context.close()


def test_a_viewer_sees_no_edit_buttons(browser, callbox):
    context, tab = open_page(browser, callbox)
    try:
        sign_in(tab, "dr.nguyen@callbox.local")
        nav = tab.locator("#site-nav ul").inner_text()
        assert "Assistants" in nav and "Knowledge" not in nav and "Users" not in nav
        tab.goto("/assistants")
        assert tab.get_by_role("link", name="New assistant").count() == 0
        tab.locator("tbody a").first.click()
        assert tab.get_by_role("button", name="Save assistant").count() == 0
        assert tab.locator("fieldset[disabled]").count() >= 1
        assert not tab.console.errors, tab.console.errors
        response = tab.goto("/knowledge")  # the server refuses it anyway, with a page that says why
        assert response.status == 403 and "Not allowed for your role" in tab.content()
        assert all("403" in e for e in tab.console.errors), tab.console.errors
    finally:
        context.close()


def _wav(seconds: float) -> bytes:
    import io
    import math
    import struct
    import wave
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(6000 * math.sin(i / 8))) for i in range(int(8000 * seconds))))
    return out.getvalue()


def test_open_a_call_and_play_its_recording(page, callbox):
    import requests
    login = requests.post(f"{callbox}/api/v1/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
                          timeout=10).json()["data"]
    headers = {"Authorization": f"Bearer {login['token']}"}
    made = requests.post(f"{callbox}/api/v1/calls", headers=headers, timeout=10, json={
        "direction": "inbound", "fromNumber": "+12125550177", "toNumber": "+12125550142",
        "startedAt": "2030-01-02T15:00:00Z", "endedAt": "2030-01-02T15:00:12Z", "handledBy": "AI",
        "transcript": [{"speaker": "AI", "text": "Bright Smile Dental, how can I help?", "startSeconds": 0,
                        "endSeconds": 2.5},
                       {"speaker": "CALLER", "text": "I need a cleaning next week.", "startSeconds": 3,
                        "endSeconds": 5.5}]}).json()["data"]
    attached = requests.post(f"{callbox}/api/v1/calls/{made['id']}/recording", headers=headers, timeout=10,
                             files={"recording": ("call.wav", _wav(8.0), "audio/wav")})
    assert attached.status_code == 201, attached.text
    sign_in(page)
    page.get_by_role("link", name="Calls").click()
    page.get_by_label("Number or extension").fill("212 555 0177")
    page.get_by_role("button", name="Filter").click()
    page.locator("tbody a").first.click()
    audio = page.locator("#call-audio")
    assert audio.evaluate("""a => new Promise(done => {
      if (a.readyState >= 1) return done(a.duration);
      a.addEventListener('loadedmetadata', () => done(a.duration));
      a.addEventListener('error', () => done(-1));
    })""") > 7
    page.get_by_role("button", name="Play from 00:03").click()  # the transcript seeks the recording
    page.wait_for_function("() => document.getElementById('call-audio').currentTime > 3.2")
    line = page.locator("#transcript li", has_text="I need a cleaning")
    page.wait_for_function("() => document.querySelector('#transcript li.playing') !== null")
    assert "playing" in line.get_attribute("class")
    page.get_by_label("Add a note").fill("Patient wants Tuesday morning.")
    page.get_by_role("button", name="Add note").click()
    page.locator("#notes", has_text="Patient wants Tuesday morning.").wait_for()
    screenshot(page, "call-detail-1280")
