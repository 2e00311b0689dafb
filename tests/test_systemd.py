"""The systemd units pass ``systemd-analyze verify`` and keep their hardening."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from appliance.cli import COMMANDS

UNITS_DIR = Path(__file__).resolve().parent.parent / "systemd"
SERVICES = ("callbox-web.service", "callbox-worker.service")
INSTALLED_BINARY = "/opt/callbox/.venv/bin/callbox"
ANALYZE = shutil.which("systemd-analyze")

needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (apt install systemd)")


def directives(path: Path) -> dict[str, list[str]]:
    """Every ``Key=value`` of a unit file, by key (units may repeat keys)."""
    found: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def copy_units(target: Path, binary: Path) -> list[Path]:
    """The units copied to ``target`` with ExecStart pointing at ``binary`` (verify wants it to exist)."""
    copies = []
    for unit in sorted(UNITS_DIR.iterdir()):
        if unit.suffix in (".service", ".target"):
            copy = target / unit.name
            copy.write_text(unit.read_text().replace(INSTALLED_BINARY, str(binary)))
            copies.append(copy)
    return copies


def verify(units: list[Path]) -> list[str]:
    """What ``systemd-analyze verify`` says about these units: problems only, empty when clean.

    Unknown keys and bad values are only warnings to systemd (status 0), so any line about our files counts.
    """
    result = subprocess.run([ANALYZE, "verify", *map(str, units)], capture_output=True, text=True, timeout=60,
                            cwd=units[0].parent)
    names = [u.name for u in units] + [str(u.parent) for u in units]
    lines = [ln for ln in (result.stdout + result.stderr).splitlines() if ln.strip()]
    problems = [ln for ln in lines if any(name in ln for name in names)]
    if result.returncode != 0 and not problems:
        problems = lines or [f"systemd-analyze exited with {result.returncode}"]
    return problems


@pytest.fixture
def stub(tmp_path) -> Path:
    binary = tmp_path / "bin" / "callbox"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\nexit 0\n")
    binary.chmod(0o755)
    return binary


@needs_analyze
def test_units_pass_systemd_analyze_verify(tmp_path, stub):
    units = copy_units(tmp_path, stub)
    assert {u.name for u in units} >= {*SERVICES, "callbox.target"}
    assert verify(units) == []


@needs_analyze
@pytest.mark.parametrize("breakage", [
    ("Restart=on-failure", "Restart=sometimes"),
    ("ProtectSystem=strict", "ProtectSytem=strict"),
    ("ExecStart=", "#ExecStart="),
])
def test_verify_catches_a_broken_unit(tmp_path, stub, breakage):
    units = copy_units(tmp_path, stub)
    web = tmp_path / "callbox-web.service"
    web.write_text(web.read_text().replace(*breakage, 1))
    assert verify(units) != []


@pytest.mark.parametrize("name", SERVICES)
def test_services_are_hardened(name):
    unit = directives(UNITS_DIR / name)
    expected = {"User": "callbox", "ProtectSystem": "strict", "ReadWritePaths": "/var/lib/callbox",
                "NoNewPrivileges": "yes", "PrivateTmp": "yes", "ProtectHome": "yes", "Restart": "on-failure",
                "PartOf": "callbox.target"}
    for key, value in expected.items():
        assert unit.get(key) == [value], key


@pytest.mark.parametrize("name", SERVICES)
def test_services_run_an_existing_command_on_the_data_dir(name):
    argv = directives(UNITS_DIR / name)["ExecStart"][0].split()
    assert argv[0] == INSTALLED_BINARY
    assert argv[1] == name.removeprefix("callbox-").removesuffix(".service")
    assert argv[1] in COMMANDS
    assert argv[2:] == ["--data-dir", "/var/lib/callbox"]


def test_target_wants_every_service():
    target = directives(UNITS_DIR / "callbox.target")
    wanted = " ".join(target.get("Wants", [])).split()
    services = sorted(p.name for p in UNITS_DIR.glob("callbox-*.service"))
    assert sorted(wanted) == services
    for name in services:
        assert directives(UNITS_DIR / name)["WantedBy"] == ["callbox.target"]
