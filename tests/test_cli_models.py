"""``callbox models``: lists package-shipped models, installs a Piper voice from a folder, refuses bad input."""
import json
import subprocess
import sys

from appliance.models_store import list_models


def _callbox(*args, data_dir):
    return subprocess.run([sys.executable, "-m", "appliance.cli", *args[:1], "--data-dir", str(data_dir), *args[1:]],
                          capture_output=True, text=True, timeout=120)


def test_list_shows_package_models(tmp_path):
    data = tmp_path / "data"
    assert _callbox("init", data_dir=data).returncode == 0
    result = _callbox("models", "list", "--json", data_dir=data)
    assert result.returncode == 0, result.stderr
    kinds = {m["kind"] for m in json.loads(result.stdout)}
    assert {"piper", "pocketsphinx"} <= kinds


def test_install_a_piper_voice_from_a_file_then_refuse_the_duplicate(tmp_path):
    data = tmp_path / "data"
    assert _callbox("init", data_dir=data).returncode == 0
    voice = next(m for m in _package_models(data) if m.kind == "piper")
    result = _callbox("models", "install", str(voice.path), "--name", "joe-copy", "--language", "en-us",
                      data_dir=data)
    assert result.returncode == 0, result.stderr
    assert "joe-copy" in result.stdout
    again = _callbox("models", "install", str(voice.path), "--name", "joe-copy", data_dir=data)
    assert again.returncode == 1
    assert again.stderr.startswith("callbox: error:") and "Traceback" not in again.stderr


def test_missing_source_and_missing_action_are_one_line_errors(tmp_path):
    data = tmp_path / "data"
    assert _callbox("init", data_dir=data).returncode == 0
    missing = _callbox("models", "install", str(tmp_path / "nope.zip"), data_dir=data)
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1
    no_action = _callbox("models", data_dir=data)
    assert no_action.returncode == 2 and "Traceback" not in no_action.stderr


def _package_models(data_dir):
    from appliance.config import load_config
    return list_models(load_config(data_dir, env={}))
