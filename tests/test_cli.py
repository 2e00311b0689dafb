"""The ``callbox`` command line: init, demo, create-admin, doctor, backup/restore, and its error contract."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from appliance import demo
from appliance.cli import build_parser, flag_overrides, load, main
from appliance.config import load_config
from data.db import database
from data.migrations import available, current_version
from data.models import Membership, Organization, User

CONSOLE_SCRIPT = Path(sys.executable).parent / "callbox"
LATEST = max(m.version for m in available())


def run_cli(args: list[str], stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    """The installed console script, as a user would run it."""
    return subprocess.run([str(CONSOLE_SCRIPT), *args], input=stdin, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


@pytest.fixture
def data_dir(tmp_path) -> Path:
    root = tmp_path / "data"
    assert main(["init", "--data-dir", str(root)]) == 0
    return root


def web_client(root: Path):
    from web import create_app

    return create_app(load_config(root, env={}, testing=True)).test_client()


def login(client, email: str, password: str):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def test_console_script_is_installed():
    assert CONSOLE_SCRIPT.is_file(), "run: .venv/bin/pip install -e ."
    result = run_cli(["--help"])
    assert result.returncode == 0
    for name in ("init", "up", "web", "worker", "create-admin", "doctor", "backup", "restore"):
        assert name in result.stdout


def test_init_creates_a_private_directory_key_and_schema(data_dir):
    assert data_dir.stat().st_mode & 0o777 == 0o700
    assert (data_dir / "secret.key").stat().st_mode & 0o777 == 0o600
    assert len((data_dir / "secret.key").read_bytes().strip()) >= 32
    assert (data_dir / "callbox.toml").is_file()
    assert (data_dir / "callbox.db").stat().st_mode & 0o077 == 0
    with database.connection_context():
        assert current_version(database) == LATEST
        assert {"users", "organizations", "memberships"} <= set(database.get_tables())


def test_init_demo_signs_in_and_is_idempotent(tmp_path):
    root = tmp_path / "data"
    assert main(["init", "--data-dir", str(root), "--demo"]) == 0
    key = (root / "secret.key").read_bytes()
    assert main(["init", "--data-dir", str(root), "--demo"]) == 0
    assert (root / "secret.key").read_bytes() == key
    client = web_client(root)
    with database.connection_context():
        assert Organization.select().where(Organization.name == demo.DEMO_ORGANIZATION).count() == 1
        assert User.select().count() == 1 + len(demo.DEMO_TEAM)
        roles = {m.role for m in Membership.select()}
    assert roles == {"OWNER", "ADMIN", "MANAGER", "AGENT", "VIEWER"}
    resp = login(client, demo.DEMO_EMAIL, demo.DEMO_PASSWORD)
    assert resp.status_code == 200, resp.json
    user = resp.json["data"]["user"]
    assert user["role"] == "OWNER"
    email, _, role = demo.DEMO_TEAM[0]
    assert login(client, email, demo.DEMO_PASSWORD).json["data"]["user"]["role"] == role.value


def test_create_admin_reads_the_password_from_stdin(data_dir):
    result = run_cli(["create-admin", "--data-dir", str(data_dir), "--email", "Boss@Example.com",
                      "--name", "The Boss", "--password-stdin"], stdin="first-secret-pw\n")
    assert result.returncode == 0, result.stderr
    assert "boss@example.com" in result.stdout
    again = run_cli(["create-admin", "--data-dir", str(data_dir), "--email", "boss@example.com",
                     "--password-stdin", "--organization", "Second Org"], stdin="second-secret-pw\n")
    assert again.returncode == 0, again.stderr
    client = web_client(data_dir)
    assert login(client, "boss@example.com", "first-secret-pw").status_code == 401
    resp = login(client, "boss@example.com", "second-secret-pw")
    assert resp.status_code == 200 and resp.json["data"]["user"]["role"] == "OWNER"
    with database.connection_context():
        boss = User.by_email("boss@example.com")
        assert boss.is_superuser and boss.name == "The Boss"
        owned = {m.organization.name for m in Membership.select().where(Membership.user == boss)}
    assert owned == {"Callbox", "Second Org"}


@pytest.mark.parametrize("stdin, message", [("short\n", "at least 8 characters"), ("\n", "no password")])
def test_create_admin_refuses_a_bad_password(data_dir, stdin, message):
    result = run_cli(["create-admin", "--data-dir", str(data_dir), "--email", "a@example.com",
                      "--password-stdin"], stdin=stdin)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("callbox: error:") and message in result.stderr


def test_doctor_passes_on_a_fresh_directory(data_dir, capsys):
    assert main(["doctor", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    for name in ("data dir", "config", "secret key", "database", "queue", "disk", "models"):
        assert any(line.startswith("ok") and f" {name}:" in line for line in out.splitlines()), name
    assert "FAIL" not in out


def _world_readable_key(root: Path) -> str:
    (root / "secret.key").chmod(0o644)
    return "secret key"


def _no_key(root: Path) -> str:
    (root / "secret.key").unlink()
    return "secret key"


def _garbage_database(root: Path) -> str:
    for suffix in ("-wal", "-shm"):
        (root / f"callbox.db{suffix}").unlink(missing_ok=True)
    (root / "callbox.db").write_bytes(b"this is not a database" * 100)
    return "database"


def _behind_schema(root: Path) -> str:
    import sqlite3

    with sqlite3.connect(root / "callbox.db") as conn:
        conn.execute("DELETE FROM schema_migrations WHERE version = ?", (LATEST,))
    return "database"


def _corrupt_config(root: Path) -> str:
    (root / "callbox.toml").write_text("[web\nport = ")
    return "config"


def _missing_dir(root: Path) -> str:
    import shutil

    shutil.rmtree(root)
    return "data dir"


@pytest.mark.parametrize("breakage", [_world_readable_key, _no_key, _garbage_database, _behind_schema,
                                      _corrupt_config, _missing_dir])
def test_doctor_fails_on_a_broken_data_dir(data_dir, capsys, breakage):
    database.close()
    name = breakage(data_dir)
    assert main(["doctor", "--data-dir", str(data_dir)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("FAIL") and f" {name}:" in line for line in lines), lines


@pytest.mark.parametrize("args", [["init", "--bogus"], [], ["frobnicate"], ["web", "--port", "99999"],
                                  ["worker", "--workers", "none"], ["create-admin", "--data-dir", "x"]])
def test_usage_errors_are_one_line_and_status_2(args):
    result = run_cli(args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("callbox: error: ")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["up", "web", "worker", "backup", "demo"])
def test_a_missing_data_dir_is_status_2(tmp_path, command):
    result = run_cli([command, "--data-dir", str(tmp_path / "nowhere")])
    assert result.returncode == 2
    assert result.stderr.strip() == (f"callbox: error: data directory {tmp_path / 'nowhere'} does not exist; "
                                     f"create it with: callbox init --data-dir {tmp_path / 'nowhere'}")


def test_a_data_dir_that_is_a_file_is_status_2(tmp_path):
    (tmp_path / "file").write_text("")
    result = run_cli(["web", "--data-dir", str(tmp_path / "file")])
    assert result.returncode == 2 and result.stderr.startswith("callbox: error: data directory")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any directory")
def test_an_unreadable_data_dir_is_status_2(data_dir):
    data_dir.chmod(0o000)
    try:
        result = run_cli(["web", "--data-dir", str(data_dir)])
    finally:
        data_dir.chmod(0o700)
    assert result.returncode == 2 and "not readable" in result.stderr


@pytest.mark.parametrize("text, needle", [("[web\nport = ", "not valid TOML"),
                                          ("[nonsense]\n", "unknown section"),
                                          ("[web]\nport = 'eighty'\n", "expected int")])
def test_a_corrupt_config_is_status_2(data_dir, text, needle):
    (data_dir / "callbox.toml").write_text(text)
    result = run_cli(["web", "--data-dir", str(data_dir)])
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and needle in result.stderr


def test_environment_overrides_the_file_and_flags_override_both(data_dir, monkeypatch):
    monkeypatch.setenv("CALLBOX_DATA_DIR", str(data_dir))
    monkeypatch.setenv("CALLBOX_WEB_PORT", "9123")
    monkeypatch.setenv("CALLBOX_QUEUE_WORKERS", "5")
    parse = build_parser().parse_args
    from_env = load(None, flag_overrides(parse(["web"])))
    assert from_env.data_dir == data_dir and from_env.web.port == 9123
    flagged = load(None, flag_overrides(parse(["web", "--port", "9200", "--threads", "3"])))
    assert flagged.web.port == 9200 and flagged.web.threads == 3
    assert load(None, flag_overrides(parse(["worker"]))).queue.workers == 5
    up = load(None, flag_overrides(parse(["up", "--host", "127.0.0.2", "--sip-port", "5070"])))
    assert (up.web.host, up.web.port, up.voice.sip_port) == ("127.0.0.2", 9123, 5070)


def test_environment_reaches_the_real_command(data_dir):
    found = run_cli(["doctor"], env={"CALLBOX_DATA_DIR": str(data_dir)})
    assert found.returncode == 0 and str(data_dir) in found.stdout
    bad = run_cli(["web", "--data-dir", str(data_dir)], env={"CALLBOX_WEB_PORT": "abc"})
    assert bad.returncode == 2 and "CALLBOX_WEB_PORT" in bad.stderr
    level = run_cli(["backup", "--data-dir", str(data_dir)], env={"CALLBOX_LOG_LEVEL": "chatty"})
    assert level.returncode == 2 and "log level" in level.stderr


def test_backup_and_restore_round_trip(tmp_path, capsys):
    source = tmp_path / "source"
    assert main(["init", "--data-dir", str(source), "--demo"]) == 0
    archive = tmp_path / "box.tar.gz"
    assert main(["backup", "--data-dir", str(source), "--output", str(archive)]) == 0
    assert archive.stat().st_mode & 0o077 == 0

    assert main(["restore", "--data-dir", str(source), str(archive)]) == 1
    assert "pass --force" in capsys.readouterr().err
    target = tmp_path / "target"
    assert main(["restore", "--data-dir", str(target), str(archive)]) == 0
    assert (target / "secret.key").read_bytes() == (source / "secret.key").read_bytes()
    assert (target / "secret.key").stat().st_mode & 0o777 == 0o600
    assert main(["doctor", "--data-dir", str(target)]) == 0
    assert login(web_client(target), demo.DEMO_EMAIL, demo.DEMO_PASSWORD).status_code == 200
    assert main(["restore", "--data-dir", str(target), str(archive), "--force"]) == 0


def test_restore_refuses_something_that_is_not_a_backup(tmp_path, capsys):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive")
    assert main(["restore", "--data-dir", str(tmp_path / "d"), str(junk)]) == 1
    assert "cannot read backup" in capsys.readouterr().err
