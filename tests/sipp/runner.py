"""Run SIPp (Debian ``sip-tester``) as a real SIP peer on loopback; every process is killed and reaped."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

SCENARIOS = Path(__file__).parent
SIPP = shutil.which("sipp")


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port that is free right now (even, so it also suits RTP)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
        if port % 2 == 0 and port < 65000:
            return port
    raise RuntimeError("no free even UDP port")


class Sipp:
    """One SIPp process playing ``scenario`` (a file in tests/sipp) once."""

    def __init__(self, scenario: str, workdir: Path, *, remote: str | None = None, local_ip: str = "127.0.0.1",
                 port: int | None = None, media_port: int | None = None, keys: dict[str, str] | None = None,
                 rtp_echo: bool = False, timeout: float = 30, service: str = "1000", extra: tuple = ()):
        self.scenario = SCENARIOS / scenario if "/" not in scenario else Path(scenario)
        self.port = port or free_udp_port(local_ip)
        self.media_port = media_port or free_udp_port(local_ip)
        self.local_ip = local_ip
        self.timeout = timeout
        self.log = workdir / f"sipp-{self.scenario.stem}-{self.port}.log"
        self.messages = workdir / f"sipp-{self.scenario.stem}-{self.port}-messages.log"
        self.errors = workdir / f"sipp-{self.scenario.stem}-{self.port}-errors.log"
        args = [SIPP, "-sf", str(self.scenario), "-m", "1", "-i", local_ip, "-p", str(self.port),
                "-mi", local_ip, "-mp", str(self.media_port), "-s", service, "-nostdin",
                "-timeout", f"{int(timeout)}s", "-timeout_error", "-max_retrans", "3",
                "-trace_msg", "-message_file", str(self.messages), "-trace_err", "-error_file", str(self.errors)]
        if rtp_echo:
            args.append("-rtp_echo")
        for name, value in (keys or {}).items():
            args += ["-key", name, str(value)]
        args += list(extra)
        if remote:
            args.append(remote)
        self.args = args
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Sipp":
        """Start SIPp in the background; a UAS is given a moment to bind its port."""
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        time.sleep(0.3)
        return self

    def wait(self, timeout: float | None = None) -> int:
        """Wait for SIPp to finish (killing it after ``timeout``); returns its exit code (0: every call passed)."""
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=timeout or self.timeout + 5)
        except subprocess.TimeoutExpired:
            self.stop()
            return -9

    def stop(self) -> None:
        """Kill SIPp if it is still running and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def transcript(self) -> str:
        """SIPp's message trace and errors, for assertion messages."""
        parts = []
        for path in (self.errors, self.messages, self.log):
            if path.exists():
                parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-6000:]}")
        return "\n".join(parts)

    def __enter__(self) -> "Sipp":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
