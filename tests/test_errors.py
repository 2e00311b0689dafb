"""Every error leaves as the envelope ``{"success": false, "error": {code, message}}``: never HTML, never a traceback."""
from __future__ import annotations

import logging

import pytest

from tests.conftest import assert_error

LOGIN = "/api/v1/auth/login"


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/users/usr_nope/extra", "/api/nope"])  # UI paths: test_ui_shell
def test_unknown_route_is_404(client, path):
    assert_error(client.get(path), 404, "NOT_FOUND")


def test_unknown_id_is_404(client, owner):
    error = assert_error(client.get("/api/v1/users/usr_doesnotexist", headers=owner.headers), 404, "NOT_FOUND")
    assert "User" in error["message"]
    assert_error(client.delete("/api/v1/api-keys/key_doesnotexist", headers=owner.headers), 404, "NOT_FOUND")


@pytest.mark.parametrize("method, path, allowed", [
    ("put", LOGIN, "POST"),
    ("delete", "/api/v1/auth/me", "GET"),
    ("post", "/api/v1/health", "GET"),
])
def test_wrong_method_is_405_with_allow(client, method, path, allowed):
    resp = getattr(client, method)(path, json={})
    assert_error(resp, 405, "METHOD_NOT_ALLOWED")
    assert allowed in resp.headers["Allow"]


def test_malformed_json_is_400(client):
    resp = client.post(LOGIN, data='{"email": "a@b.c", "password": ', content_type="application/json")
    assert assert_error(resp, 400, "VALIDATION_ERROR")["message"] == "The request body is not valid JSON"


@pytest.mark.parametrize("body", [[1, 2], "just a string", 42, None])
def test_json_that_is_not_an_object_is_422(client, body):
    import json

    resp = client.post(LOGIN, data=json.dumps(body), content_type="application/json")
    assert_error(resp, 422, "VALIDATION_ERROR")


def test_validation_error_names_each_field(client):
    error = assert_error(client.post(LOGIN, json={"email": "a@b.c", "extra": True}), 422, "VALIDATION_ERROR")
    assert set(error["details"]["json"]) == {"password", "extra"}
    assert error["message"].startswith(("password", "extra"))


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml",
                                          "multipart/form-data; boundary=x"])
def test_wrong_content_type_is_415(client, content_type):
    resp = client.post(LOGIN, data=b"email=a&password=b", content_type=content_type)
    error = assert_error(resp, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert "application/json" in error["message"]


def test_json_suffix_content_types_are_accepted(client, owner):
    resp = client.post(LOGIN, data=f'{{"email": "{owner.email}", "password": "{owner.password}"}}',
                       content_type="application/vnd.callbox+json; charset=utf-8")
    assert resp.status_code == 200


def test_body_over_the_size_limit_is_413(app_with):
    client = app_with(web={"max_content_mb": 1}).test_client()
    big = b'{"email": "' + b"a" * (1024 * 1024 + 10) + b'", "password": "x"}'
    assert_error(client.post(LOGIN, data=big, content_type="application/json"), 413, "PAYLOAD_TOO_LARGE")
    small = client.post(LOGIN, json={"email": "a@example.com", "password": "x" * 1000})
    assert small.status_code == 401


def test_missing_token_is_401_and_low_role_is_403(client, members):
    assert_error(client.get("/api/v1/users"), 401, "UNAUTHORIZED")
    error = assert_error(client.get("/api/v1/users", headers=members["MANAGER"].headers), 403, "FORBIDDEN")
    assert "ADMIN" in error["message"]


def test_conflict_is_409(client, owner):
    assert_error(client.delete(f"/api/v1/users/{owner.user_id}", headers=owner.headers), 409, "CONFLICT")


def test_unexpected_exception_is_500_without_details(app_with, caplog):
    app = app_with()

    def explode():
        raise RuntimeError("secret internal detail /etc/shadow")

    explode._callbox_access = "public"
    app.add_url_rule("/api/v1/_test/explode", "test_explode", explode)
    caplog.set_level(logging.ERROR)
    resp = app.test_client().get("/api/v1/_test/explode")
    error = assert_error(resp, 500, "INTERNAL_ERROR")
    assert "secret" not in resp.get_data(as_text=True) and "details" not in error
    assert "RuntimeError" in caplog.text  # logged with its traceback for the operator


def test_endpoint_without_access_rule_is_refused(app_with):
    app = app_with()
    app.add_url_rule("/api/v1/_test/undeclared", "test_undeclared", lambda: {"success": True})
    assert_error(app.test_client().get("/api/v1/_test/undeclared"), 403, "FORBIDDEN")


def test_error_responses_keep_security_headers(client):
    resp = client.get("/api/v1/nope")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["X-Request-Id"]
