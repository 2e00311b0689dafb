"""The OpenAPI document and the docs UI: served, valid OpenAPI 3, complete, and offline."""
from __future__ import annotations

import re

import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_30_VALIDATOR

DOC = "/api/v1/openapi.json"
HTTP_METHODS = ("get", "put", "post", "delete", "patch")

# API.md "Auth, users, workspaces": every endpoint of issue 2.
FOUNDATION = [
    ("post", "/auth/signup"), ("post", "/auth/register"), ("post", "/auth/login"), ("post", "/auth/refresh"),
    ("post", "/auth/logout"), ("get", "/auth/me"), ("get", "/users/me"), ("patch", "/users/me"),
    ("get", "/users"), ("post", "/users"), ("patch", "/users/{user_id}"), ("delete", "/users/{user_id}"),
    ("get", "/workspaces"), ("post", "/workspaces"), ("get", "/api-keys"), ("post", "/api-keys"),
    ("delete", "/api-keys/{key_id}"), ("get", "/settings"), ("put", "/settings"), ("get", "/health"),
]
PUBLIC = [("post", "/auth/signup"), ("post", "/auth/login"), ("post", "/auth/refresh"), ("post", "/auth/accept-invite"),
          ("get", "/health")]
NOT_IN_DOC = ("/api/v1/openapi.json", "/api/v1/docs")


@pytest.fixture
def doc(client) -> dict:
    resp = client.get(DOC)
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    return resp.json


def operations(doc: dict):
    for path, item in doc["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield method, path, item[method]


def resolve(doc: dict, node: dict) -> dict:
    """Follow a local ``$ref`` (``#/components/...``) to what it names."""
    while "$ref" in node:
        target = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def all_refs(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from all_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from all_refs(value)


def test_document_is_valid_openapi_3(doc):
    assert doc["openapi"].startswith("3.0.")
    errors = [f"{e.instance_path}: {e.message}"[:300] for e in OPENAPI_30_VALIDATOR.iter_errors(doc)]
    assert errors == []
    assert doc["info"]["title"] and doc["info"]["version"]


def test_validator_catches_a_broken_document(doc):
    broken = dict(doc, paths={"/x": {"get": {"responses": "nothing"}}})
    assert list(OPENAPI_30_VALIDATOR.iter_errors(broken))


def test_every_reference_resolves(doc):
    refs = set(all_refs(doc))
    assert refs, "the document uses component references"
    for ref in refs:
        assert ref.startswith("#/components/"), ref
        resolve(doc, {"$ref": ref})  # a KeyError names the dangling reference


def test_every_foundation_endpoint_is_documented(doc):
    documented = {(method, path) for method, path, _ in operations(doc)}
    missing = [f"{m.upper()} /api/v1{p}" for m, p in FOUNDATION if (m, f"/api/v1{p}") not in documented]
    assert missing == []


def test_every_api_route_of_the_app_is_documented(app, doc):
    documented = {(method, path) for method, path, _ in operations(doc)}
    undocumented = []
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        if not path.startswith("/api/v1/") or path.startswith(NOT_IN_DOC):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (method.lower(), path) not in documented:
                undocumented.append(f"{method} {path}")
    assert undocumented == []


def test_every_operation_documents_the_error_envelope(doc):
    envelope = resolve(doc, {"$ref": "#/components/schemas/ErrorEnvelope"})
    assert set(envelope["required"]) == {"success", "error"}
    assert set(resolve(doc, envelope["properties"]["error"])["required"]) == {"code", "message"}
    problems = []
    for method, path, operation in operations(doc):
        responses = operation["responses"]
        if "default" not in responses:
            problems.append(f"{method.upper()} {path}: no default error response")
        for status, response in responses.items():
            if status.startswith(("2", "3")) or (path.endswith("/health") and status == "503"):
                continue
            schema = resolve(doc, response)["content"]["application/json"]["schema"]
            if schema != {"$ref": "#/components/schemas/ErrorEnvelope"}:
                problems.append(f"{method.upper()} {path} {status}: not the error envelope")
    assert problems == []


def test_every_operation_has_a_summary_and_a_success_schema(doc):
    problems = []
    for method, path, operation in operations(doc):
        if not operation.get("summary"):
            problems.append(f"{method.upper()} {path}: no summary")
        success = [resolve(doc, r) for s, r in operation["responses"].items() if s.startswith("2")]
        if not success or "content" not in success[0]:
            problems.append(f"{method.upper()} {path}: no documented success body")
    assert problems == []


def test_security_schemes_bearer_and_api_key(doc):
    schemes = doc["components"]["securitySchemes"]
    bearer = [s for s in schemes.values() if s.get("type") == "http" and s.get("scheme") == "bearer"]
    api_key = [s for s in schemes.values() if s.get("type") == "apiKey"]
    assert bearer and bearer[0].get("bearerFormat") == "JWT"
    assert api_key and api_key[0]["in"] == "header" and api_key[0]["name"] == "X-API-Key"
    assert sorted(next(iter(r)) for r in doc["security"]) == sorted(schemes)


def test_public_operations_need_no_sign_in(doc):
    public = {(m, f"/api/v1{p}") for m, p in PUBLIC}
    for method, path, operation in operations(doc):
        if (method, path) in public:
            assert operation.get("security") == [], f"{method.upper()} {path} should document no security"
        else:
            assert operation.get("security", doc["security"]), f"{method.upper()} {path} should need sign-in"


def test_document_and_docs_need_no_sign_in(client):
    assert client.get(DOC).status_code == 200
    assert client.get("/api/v1/docs").status_code == 200


def test_docs_ui_is_served_from_the_appliance_itself(client):
    resp = client.get("/api/v1/docs")
    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert "SwaggerUIBundle" in html and DOC in html
    assert re.findall(r"(?:https?:)?//[\w.-]+", html) == [], "the docs page refers to another host"
    assert '"validatorUrl": null' in html, "Swagger UI would fetch a badge from validator.swagger.io"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        assert asset.startswith("/"), asset
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.data) > 1000, asset


def test_docs_page_allows_its_inline_script_only_from_self(client):
    csp = client.get("/api/v1/docs").headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "http" not in csp
