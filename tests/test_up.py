"""``callbox up`` and its supervisor, with real processes on loopback ports."""
from __future__ import annotations

import signal
import socket
import sys
import time

import pytest
import requests

from appliance.cli import main
from appliance.config import load_config
from appliance.supervisor import ChildSpec, RestartPolicy, Supervisor, run_services
from tests.processes import (free_port, kill_quietly, pid_alive, start_callbox, started_pids, stop,
                             wait_until)

pytestmark = pytest.mark.slow


def _health(base: str):
    try:
        resp = requests.get(f"{base}/api/v1/health", timeout=2)
    except requests.RequestException:
        return None
    return resp.json() if resp.status_code == 200 else None


def _web_pids(log) -> list[int]:
    return [pid for name, pid in started_pids(log) if name == "web"]


def test_up_serves_restarts_a_crashed_child_and_stops_cleanly(tmp_path):
    data, log, port = tmp_path / "data", tmp_path / "up.log", free_port()
    assert main(["init", "--data-dir", str(data), "--demo"]) == 0
    base = f"http://127.0.0.1:{port}"
    proc = start_callbox(["up", "--data-dir", str(data), "--port", str(port), "--sip-port", str(free_port())], log)
    try:
        wait_until(lambda: _health(base), 60, 0.25, "the web child to answer /api/v1/health")
        wait_until(lambda: f"Callbox is running at {base}" in log.read_text(), 10, what="the URL line")
        assert str(data) in log.read_text()
        login = requests.post(f"{base}/api/v1/auth/login", timeout=5,
                              json={"email": "demo@callbox.local", "password": "demo-password"})
        assert login.status_code == 200, login.text
        assert login.json()["data"]["user"]["role"] == "OWNER"
        names = {name for name, _ in started_pids(log)}
        assert {"web", "worker"} <= names

        first_web = _web_pids(log)[-1]
        kill_quietly(first_web)
        wait_until(lambda: len(_web_pids(log)) >= 2, 30, what="the web child to be restarted")
        assert _web_pids(log)[-1] != first_web
        wait_until(lambda: _health(base), 60, 0.25, "the restarted web child to answer")

        children = [pid for _, pid in started_pids(log)]
        assert stop(proc, timeout=45) == 0
        wait_until(lambda: not any(pid_alive(pid) for pid in children), 10, what="every child to be gone")
        text = log.read_text()
        assert "web stopped (status 0)" in text and "worker stopped (status 0)" in text
        assert "Traceback" not in text
    finally:
        for _, pid in started_pids(log):
            kill_quietly(pid)
        stop(proc, timeout=5)


def test_up_refuses_a_port_in_use(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["init", "--data-dir", str(data)]) == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        assert main(["up", "--data-dir", str(data), "--port", str(port)]) == 1
        assert time.monotonic() - started < 15
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("callbox: error: cannot listen on 127.0.0.1:")


def _python(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


def test_supervisor_gives_up_on_a_crash_loop(tmp_path):
    config = load_config(tmp_path, env={}, web={"port": free_port()})
    policy = RestartPolicy(backoff_initial=0.05, backoff_max=0.1, max_restarts=3, window_seconds=30, stop_timeout=5)
    started = time.monotonic()
    status = run_services([ChildSpec("crasher", _python("import sys; sys.exit(1)"))], config,
                          out=lambda line: None, policy=policy)
    assert status == 1
    assert time.monotonic() - started < 20


def test_supervisor_does_not_restart_a_misconfigured_child(tmp_path):
    config = load_config(tmp_path, env={}, web={"port": free_port()})
    status = run_services([ChildSpec("bad", _python("import sys; sys.exit(2)"))], config, out=lambda line: None,
                          policy=RestartPolicy(backoff_initial=0.05, stop_timeout=5))
    assert status == 2


def test_supervisor_kills_a_child_that_ignores_sigterm():
    stubborn = _python("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                       "print('ready', flush=True); time.sleep(60)")
    supervisor = Supervisor([ChildSpec("stubborn", stubborn)], RestartPolicy(stop_timeout=1.0))
    supervisor.start()
    child = supervisor.children[0]
    try:
        time.sleep(0.5)  # let it install its handler
        started = time.monotonic()
        supervisor.stop()
        assert time.monotonic() - started < 10
        assert child.proc.returncode == -signal.SIGKILL
    finally:
        kill_quietly(child.pid)


def test_supervisor_stops_on_sigterm_and_restarts_with_backoff(tmp_path):
    sleeper = _python("import time; time.sleep(60)")
    supervisor = Supervisor([ChildSpec("sleeper", sleeper)], RestartPolicy(backoff_initial=0.1, stop_timeout=5))
    supervisor.install_signal_handlers()
    try:
        supervisor.start()
        first = supervisor.children[0].pid
        kill_quietly(first)
        assert supervisor.wait_for(lambda: supervisor.children[0].pid != first, 10)
        signal.raise_signal(signal.SIGTERM)
        supervisor.run()  # returns because the handler asked it to stop
        assert supervisor.stop_requested
    finally:
        supervisor.stop()
        supervisor.restore_signal_handlers()
    assert supervisor.children[0].proc.returncode is not None
