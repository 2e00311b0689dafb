"""Third-party assets served by the appliance itself (offline), compressed; pages work without them."""
from __future__ import annotations

import gzip
from pathlib import Path

from web.ui import assets
from tests.ui_helpers import browser_for  # noqa: F401


def _fake_package(root: Path, package: str, inner: str, text: str, version: str = "9.9.9") -> None:
    target = root / "node_modules" / package / inner
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    (root / "node_modules" / package / "package.json").write_text(f'{{"version": "{version}"}}')


def test_vendor_files_are_served_compressed_and_cached(app, tmp_path):
    for name, (package, inner) in assets.VENDOR.items():
        _fake_package(tmp_path, package, inner, f"/* {name} */ " + "var x = 1; " * 300)
    app.extensions["callbox.assets"] = assets.AssetStore([tmp_path])
    client = app.test_client()
    resp = client.get("/assets/chart.umd.min.js?v=9.9.9", headers={"Accept-Encoding": "gzip, br"})
    assert resp.status_code == 200 and resp.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(resp.data).decode().startswith("/* chart.umd.min.js */")
    assert "immutable" in resp.headers["Cache-Control"] and "Accept-Encoding" in resp.headers["Vary"]
    plain = client.get("/assets/htmx.min.js")
    assert "Content-Encoding" not in plain.headers and plain.data.startswith(b"/* htmx.min.js */")
    again = client.get("/assets/htmx.min.js", headers={"If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304


def test_only_known_files_are_served(client):
    for path in ("/assets/../../setup.cfg", "/assets/package.json", "/assets/chart.umd.min.js.map",
                 "/assets/%2e%2e%2fsecret.key"):
        resp = client.get(path)
        assert resp.status_code == 404 and resp.mimetype == "text/html", path


def test_our_static_files_are_compressed(client):
    resp = client.get("/static/callbox.css", headers={"Accept-Encoding": "gzip"})
    assert resp.headers["Content-Encoding"] == "gzip" and b"--accent" in gzip.decompress(resp.data)


def test_pages_work_without_the_vendor_files(app, members, browser_for, tmp_path):
    app.extensions["callbox.assets"] = assets.AssetStore([tmp_path / "empty"])
    assert assets.AssetStore([tmp_path / "empty"]).missing() == list(assets.VENDOR)
    owner = browser_for(members["OWNER"])
    page = owner.page("/")
    assert "/assets/" not in page and "Show the data" in page  # the tables stand in for the charts
    assert "/assets/" not in owner.page("/phone-numbers")
    assert app.test_client().get("/assets/htmx.min.js").status_code == 404


def test_missing_assets_for_the_doctor(config):
    found = assets.missing_assets(config)
    assert isinstance(found, list) and set(found) <= set(assets.VENDOR)
    assert "scripts/fetch-assets" in assets.FETCH_HINT
