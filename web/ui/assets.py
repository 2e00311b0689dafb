"""Third-party browser assets (htmx, Chart.js), served by the appliance itself: it runs offline, no CDN.

``scripts/fetch-assets`` installs them from the npm registry into ``web/ui/vendor/`` (git-ignored); an appliance may
also keep them in ``<data dir>/assets/``. Only the files named in ``VENDOR`` are served. When one is missing the
pages still work (charts show as tables, nothing updates by itself) and ``missing_assets`` says what to run.
Static text files (ours and these) go out gzip-compressed to browsers that accept it; HTML pages do not, because
they carry the CSRF token next to text a user typed (BREACH).
"""
from __future__ import annotations

import gzip
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, abort, current_app, request, url_for

from appliance.config import Config

logger = logging.getLogger(__name__)

VENDOR_DIR = Path(__file__).resolve().parent / "vendor"
# name served at /assets/<name> → (npm package, file inside node_modules/<package>)
VENDOR = {
    "htmx.min.js": ("htmx.org", "dist/htmx.min.js"),
    "chart.umd.min.js": ("chart.js", "dist/chart.umd.min.js"),
}
FETCH_HINT = "run scripts/fetch-assets (npm) to install the UI's htmx and Chart.js"
_COMPRESSIBLE = ("text/css", "text/javascript", "application/javascript", "image/svg+xml", "application/json")
_MIN_COMPRESS = 1024


@dataclass(frozen=True)
class Asset:
    path: Path
    version: str


class AssetStore:
    """Finds the vendor files in the search folders (first hit wins)."""

    def __init__(self, folders: list[Path]):
        self.folders = folders
        self.assets: dict[str, Asset] = {}
        for name, (package, inner) in VENDOR.items():
            found = self._find(package, inner)
            if found is not None:
                self.assets[name] = found

    def _find(self, package: str, inner: str) -> Asset | None:
        for folder in self.folders:
            root = folder / "node_modules" / package
            if (root / inner).is_file():
                return Asset(root / inner, _package_version(root))
        return None

    def url(self, name: str) -> str | None:
        """The URL of a vendor file, or None when it is not installed."""
        asset = self.assets.get(name)
        return url_for("ui_assets.vendor", name=name, v=asset.version) if asset else None

    def missing(self) -> list[str]:
        """Vendor files that are not installed."""
        return [name for name in VENDOR if name not in self.assets]


def _package_version(root: Path) -> str:
    try:
        return str(json.loads((root / "package.json").read_text(encoding="utf-8")).get("version", "0"))
    except (OSError, ValueError):
        return "0"


def search_folders(config: Config) -> list[Path]:
    """Where vendor files are looked for: the data directory first, then the package's own vendor folder."""
    return [config.data_dir / "assets", VENDOR_DIR]


def missing_assets(config: Config) -> list[str]:
    """For ``callbox doctor``: the UI's vendor files that are not installed (empty when all are)."""
    return AssetStore(search_folders(config)).missing()


def store() -> AssetStore:
    """The app's asset store."""
    return current_app.extensions["callbox.assets"]


class _GzipCache:
    """Compressed copies of static files, keyed by path and ETag (each file is compressed once)."""

    def __init__(self, limit: int = 64):
        self._lock, self._items, self._limit = threading.Lock(), {}, limit

    def get(self, key: tuple, data: bytes) -> bytes:
        with self._lock:
            if key in self._items:
                return self._items[key]
        packed = gzip.compress(data, compresslevel=9, mtime=0)
        with self._lock:
            if len(self._items) >= self._limit:
                self._items.clear()
            self._items[key] = packed
        return packed


def compress_static(response: Response) -> Response:
    """After-request: gzip our static files and the vendor files for browsers that accept it."""
    if not request.path.startswith(("/static/", "/assets/")) or response.status_code != 200:
        return response
    response.vary.add("Accept-Encoding")
    if ("gzip" not in request.headers.get("Accept-Encoding", "") or response.content_encoding
            or response.mimetype not in _COMPRESSIBLE or request.method != "GET"):
        return response
    response.direct_passthrough = False
    data = response.get_data()
    if len(data) < _MIN_COMPRESS:
        return response
    etag, _ = response.get_etag()
    packed = current_app.extensions["callbox.gzip"].get((request.path, etag, len(data)), data)
    response.set_data(packed)
    response.headers["Content-Encoding"] = "gzip"
    if etag:
        response.set_etag(f"{etag}-gz")
    return response


def _vendor(name: str):
    asset = store().assets.get(name)
    if asset is None:
        abort(404, description=f"{name} is not installed on this appliance: {FETCH_HINT}")
    from flask import send_file
    response = send_file(asset.path, mimetype="text/javascript", conditional=True, max_age=365 * 24 * 3600)
    response.cache_control.immutable = True
    return response


def init_app(app: Flask, config: Config, folders: list[Path] | None = None) -> None:
    """Serve the vendor files at ``/assets/<name>`` and compress static responses."""
    from flask import Blueprint

    assets = AssetStore(folders if folders is not None else search_folders(config))
    app.extensions["callbox.assets"] = assets
    app.extensions["callbox.gzip"] = _GzipCache()
    if assets.missing():
        logger.warning("UI assets missing (%s): %s", ", ".join(assets.missing()), FETCH_HINT)
    blueprint = Blueprint("ui_assets", __name__)
    blueprint.add_url_rule("/assets/<string:name>", "vendor", _vendor)
    app.register_blueprint(blueprint)
    app.after_request(compress_static)
