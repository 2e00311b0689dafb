"""File handling behind ``models_store``: fetching a source, unpacking zips safely, recognizing model layouts.

Kept apart from the store's bookkeeping so each stays small. Errors are raised as the caller's error class so the
CLI and API show one clear message (never a traceback) for a bad zip, a missing file or a refused URL.
"""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

logger = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT = 60
CHUNK = 1 << 20
MAX_MEMBERS = 20000


def tree_size(path: Path) -> int:
    """Bytes in a file or a folder tree."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0


def fetch_source(source: str, staging: Path, max_bytes: int, error: type[Exception]) -> Path:
    """A local path for PATH, ``file://`` or ``http(s)://`` (downloaded into ``staging``)."""
    parsed = urllib.parse.urlparse(source)
    if parsed.scheme in ("http", "https"):
        name = Path(urllib.parse.unquote(parsed.path)).name or "download"
        local = download(source, staging / name, max_bytes, error)
        if local.suffix == ".onnx":
            download(source + ".json", staging / f"{name}.json", max_bytes, error)
        return local
    if parsed.scheme == "file":
        path = Path(urllib.parse.unquote(parsed.path))
    elif parsed.scheme and len(parsed.scheme) > 1:
        raise error(f"unsupported URL scheme {parsed.scheme!r}: use a path, file://, http:// or https://")
    else:
        path = Path(source).expanduser()
    if not path.exists():
        raise error(f"{path} does not exist")
    if path.name.endswith(".onnx.json"):
        path = path.with_name(path.name.removesuffix(".json"))
    return path.resolve()


def download(url: str, target: Path, max_bytes: int, error: type[Exception]) -> Path:
    """Stream ``url`` into ``target``, refusing anything over ``max_bytes``."""
    request = urllib.request.Request(url, headers={"User-Agent": "callbox-models"})
    try:
        with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT) as response, open(target, "wb") as out:
            copied = 0
            while chunk := response.read(CHUNK):
                copied += len(chunk)
                if copied > max_bytes:
                    raise error(f"{url} is larger than the {max_bytes} byte limit")
                out.write(chunk)
    except urllib.error.HTTPError as exc:
        raise error(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise error(f"download of {url} failed: {getattr(exc, 'reason', exc)}") from exc
    return target


def extract_zip(archive: Path, target: Path, max_bytes: int, error: type[Exception]) -> Path:
    """Unpack a zip into ``target`` after checking every member stays inside it and the total size is sane."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            _check_members(members, max_bytes, archive, error)
            target.mkdir(parents=True, exist_ok=True)
            for member in members:
                zf.extract(member, target)
    except zipfile.BadZipFile as exc:
        raise error(f"{archive.name} is not a valid zip archive ({exc})") from exc
    except (OSError, EOFError, zipfile.LargeZipFile) as exc:
        raise error(f"{archive.name} could not be unpacked: {exc}") from exc
    return target


def _check_members(members: list[zipfile.ZipInfo], max_bytes: int, archive: Path, error: type[Exception]) -> None:
    if not members:
        raise error(f"{archive.name} is an empty zip archive")
    if len(members) > MAX_MEMBERS:
        raise error(f"{archive.name} has too many files ({len(members)})")
    if sum(m.file_size for m in members) > max_bytes:
        raise error(f"{archive.name} unpacks to more than {max_bytes} bytes")
    for member in members:
        parts = Path(member.filename).parts
        is_link = (member.external_attr >> 16) & 0o170000 == 0o120000
        if member.filename.startswith(("/", "\\")) or ".." in parts or ":" in member.filename or is_link:
            raise error(f"{archive.name} contains an unsafe path: {member.filename!r}")


def find_vosk_root(folder: Path) -> Path | None:
    """The Vosk model folder at or directly below ``folder`` (zips often wrap it in one more folder)."""
    if not folder.is_dir():
        return None
    for candidate in [folder, *sorted(p for p in folder.iterdir() if p.is_dir())]:
        if (candidate / "am" / "final.mdl").is_file() and (candidate / "conf").is_dir():
            return candidate
    return None


def find_piper_voice(folder: Path) -> dict | None:
    """The voice config of the single Piper voice in ``folder`` (None if there is none)."""
    voices = sorted(p for p in folder.glob("*.onnx") if Path(f"{p}.json").is_file()) if folder.is_dir() else []
    if not voices:
        return None
    try:
        return json.loads(Path(f"{voices[0]}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def validate_piper_voice(onnx: Path, error: type[Exception]) -> dict:
    """Check a Piper voice (model + JSON config beside it) and return its config."""
    config_path = Path(f"{onnx}.json")
    if not onnx.is_file() or onnx.stat().st_size == 0:
        raise error(f"{onnx.name} is not a Piper voice model file")
    if not config_path.is_file():
        raise error(f"{onnx.name} has no {config_path.name} beside it (a Piper voice needs both)")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise error(f"{config_path.name} is not valid JSON: {exc}") from exc
    if not isinstance(config, dict) or "phoneme_id_map" not in config or "audio" not in config:
        raise error(f"{config_path.name} is not a Piper voice config (no phoneme_id_map/audio)")
    return config


def classify_folder(folder: Path, error: type[Exception]) -> tuple[str, Path]:
    """("vosk", model root) or ("piper", .onnx path) for an unpacked folder; a clear error otherwise."""
    root = find_vosk_root(folder)
    if root is not None:
        graph = root / "graph"
        if not ((graph / "HCLG.fst").is_file() or (graph / "HCLr.fst").is_file()):
            raise error(f"{root.name} looks like a Vosk model but has no graph (graph/HCLG.fst or graph/HCLr.fst)")
        return "vosk", root
    for candidate in [folder, *sorted(p for p in folder.iterdir() if p.is_dir())]:
        voices = sorted(candidate.glob("*.onnx"))
        if voices:
            return "piper", voices[0]
    raise error(f"{folder.name} holds neither a Vosk model (am/final.mdl, conf/, graph/) nor a Piper voice (.onnx)")
