"""Helpers for the browser UI's test-client tests: a signed-in browser session with its CSRF token."""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest



class Browser:
    """One browser: its own cookie jar, signed in through the real sign-in form."""

    def __init__(self, app):
        self.client = app.test_client()

    def sign_in(self, email: str, password: str) -> "Browser":
        page = self.client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        resp = self.client.post("/login", data={"csrf_token": token, "email": email, "password": password})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return self

    @property
    def csrf(self) -> str:
        with self.client.session_transaction() as session:
            return session.get("csrf_token", "")

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kwargs):
        """A form post with the session's CSRF token (unless ``csrf=False``)."""
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf)
        return self.client.post(path, data=data, **kwargs)

    def page(self, path: str, status: int = 200) -> str:
        """GET a page, check its status, and return its HTML."""
        resp = self.get(path)
        assert resp.status_code == status, (path, resp.status_code, resp.get_data(as_text=True)[:800])
        assert resp.mimetype == "text/html"
        return resp.get_data(as_text=True)


@pytest.fixture
def browser_for(app):
    """``browser_for(account)``: a browser signed in as that account (which needs a password)."""
    return lambda account: Browser(app).sign_in(account.email, account.password)


@pytest.fixture
def anonymous(app):
    """A browser that has not signed in."""
    return Browser(app)


def text_of(page: str) -> str:
    """The visible-ish text of a page: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def field_error(page: str, field: str) -> str | None:
    """The error shown next to a form field (``None`` when there is none)."""
    found = re.search(rf'id="{re.escape(field.replace(".", "-"))}-error">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)).strip() if found else None


class _ScriptFinder(HTMLParser):
    """Finds what the CSP (script-src 'self') would block: inline scripts and inline event handlers."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self.problems.append(f"inline <script> {names}")
        self.problems += [f"<{tag} {name}=...>" for name in names if name.lower().startswith("on")]
        if any((value or "").strip().lower().startswith("javascript:") for value in names.values()):
            self.problems.append(f"javascript: URL in <{tag}>")


def assert_csp_clean(page: str) -> None:
    """No inline script, no inline event handler, no javascript: URL (the CSP would block them)."""
    finder = _ScriptFinder()
    finder.feed(page)
    assert not finder.problems, finder.problems


def location(resp) -> str:
    """The path a redirect goes to."""
    return resp.headers["Location"].replace("http://localhost", "")
