"""Kamailio (Debian package ``kamailio``) as a real registrar on loopback, started and stopped by the tests."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.sipp.runner import SCENARIOS, free_udp_port

KAMAILIO = shutil.which("kamailio") or ("/usr/sbin/kamailio" if os.path.exists("/usr/sbin/kamailio") else None)


class Kamailio:
    """One kamailio process group listening on ``127.0.0.1:port`` with tests/sipp/kamailio.cfg."""

    def __init__(self, workdir: Path, port: int | None = None):
        self.port = port or free_udp_port()
        self.workdir = workdir
        self.log = workdir / f"kamailio-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0) -> "Kamailio":
        """Start kamailio and wait until it answers OPTIONS."""
        rundir = self.workdir / f"kamailio-run-{self.port}"
        rundir.mkdir(exist_ok=True)
        args = [KAMAILIO, "-f", str(SCENARIOS / "kamailio.cfg"), "-l", f"udp:127.0.0.1:{self.port}", "-DD", "-E",
                "-m", "32", "-M", "8", "-Y", str(rundir), "-P", str(rundir / "kamailio.pid"), "-w", str(rundir)]
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        if not self._answers(timeout):
            self.stop()
            raise RuntimeError(f"kamailio did not come up on port {self.port}:\n{self.log.read_text()[-3000:]}")
        return self

    def _answers(self, timeout: float) -> bool:
        ping = (f"OPTIONS sip:127.0.0.1:{self.port} SIP/2.0\r\n"
                "Via: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bKping{n}\r\n"
                f"From: <sip:probe@127.0.0.1>;tag=probe\r\nTo: <sip:127.0.0.1:{self.port}>\r\nCall-ID: probe-{{n}}\r\n"
                "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
        deadline = time.monotonic() + timeout
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(0.2)
            n = 0
            while time.monotonic() < deadline and self.proc.poll() is None:
                n += 1
                sock.sendto(ping.format(p=sock.getsockname()[1], n=n).encode(), ("127.0.0.1", self.port))
                try:
                    if sock.recv(65535).startswith(b"SIP/2.0 200"):
                        return True
                except (socket.timeout, ConnectionRefusedError):
                    time.sleep(0.1)
        return False

    def stop(self) -> None:
        """Terminate the whole process group (main process and its children) and reap it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
