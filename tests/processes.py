"""Helpers for tests that run real ``callbox`` processes on loopback: ports, bounded waits, clean-up."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

CALLBOX = (sys.executable, "-m", "appliance.cli")
STARTED = re.compile(r"started (\w+) \(pid (\d+)\)")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def start_callbox(args: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    """Start ``callbox ARGS`` with stdout and stderr going to ``log``."""
    handle = open(log, "ab")
    try:
        return subprocess.Popen([*CALLBOX, *args], stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, **(env or {})})
    finally:
        handle.close()


def started_pids(log: Path) -> list[tuple[str, int]]:
    """Every ``started NAME (pid N)`` line a supervisor logged, in order."""
    return [(m.group(1), int(m.group(2))) for m in STARTED.finditer(log.read_text(errors="replace"))]


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def kill_quietly(pid: int) -> None:
    """SIGKILL a process we started, if it is still there."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop(proc: subprocess.Popen, timeout: float = 30) -> int:
    """SIGTERM a process we started and wait (bounded); SIGKILL if it will not go. Returns its status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait(timeout=10)
