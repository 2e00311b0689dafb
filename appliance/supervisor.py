"""``callbox up``: run web, worker and voice as child processes, restart the ones that crash, stop them all.

Each child is ``python -m appliance.cli <command> ...`` in its own process group (so a Ctrl-C in the terminal
reaches only the supervisor, which then stops the children in order) and, on Linux, with a parent-death
signal so no child outlives a supervisor that was killed outright.
"""
from __future__ import annotations

import collections
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable, Sequence

from appliance.config import Config
from appliance.errors import CallboxError

logger = logging.getLogger(__name__)

EXIT_CONFIG = 2  # a child that exits with this code was misconfigured; restarting it cannot help
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ChildSpec:
    name: str
    """Short name shown in logs (``web``, ``worker``, ``voice``)."""
    argv: tuple[str, ...]
    """The full command line."""


@dataclass(frozen=True)
class RestartPolicy:
    backoff_initial: float = 0.5
    """Delay before the first restart of a crashed child, in seconds; doubles per recent crash."""
    backoff_max: float = 10.0
    """Longest delay between restarts."""
    max_restarts: int = 5
    """Crashes of one child within ``window_seconds`` after which the supervisor gives up."""
    window_seconds: float = 60.0
    """How far back crashes count."""
    stop_timeout: float = 25.0
    """How long children get to exit after SIGTERM before SIGKILL."""


class GiveUp(Exception):
    """A child cannot be kept running; carries the exit status for ``up``."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def _death_signal_hook() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the kernel SIGTERM the child when the supervisor dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def hook() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the supervisor died between fork and prctl
            os.kill(os.getpid(), signal.SIGTERM)

    return hook


class Child:
    """One supervised process and its crash history."""

    def __init__(self, spec: ChildSpec, policy: RestartPolicy):
        self.spec = spec
        self.policy = policy
        self.proc: subprocess.Popen | None = None
        self.crashes: collections.deque[float] = collections.deque()
        self.restart_at: float | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> None:
        """Start (or restart) the process."""
        self.proc = subprocess.Popen(self.spec.argv, process_group=0, preexec_fn=_death_signal_hook(),
                                     stdin=subprocess.DEVNULL)
        self.restart_at = None
        logger.info("started %s (pid %d)", self.spec.name, self.proc.pid)

    def exited(self) -> int | None:
        """The exit status if the process has ended, else None."""
        return None if self.proc is None else self.proc.poll()

    def schedule_restart(self, status: int, now: float) -> None:
        """Note a crash and pick when to restart; ``GiveUp`` when it crashes too often."""
        if status == EXIT_CONFIG:
            raise GiveUp(f"{self.spec.name} exited with status {status} (configuration error); not restarting",
                         EXIT_CONFIG)
        while self.crashes and now - self.crashes[0] > self.policy.window_seconds:
            self.crashes.popleft()
        self.crashes.append(now)
        if len(self.crashes) > self.policy.max_restarts:
            raise GiveUp(f"{self.spec.name} crashed {len(self.crashes)} times within "
                         f"{self.policy.window_seconds:.0f} s; giving up")
        delay = min(self.policy.backoff_initial * 2 ** (len(self.crashes) - 1), self.policy.backoff_max)
        self.restart_at = now + delay
        logger.warning("%s exited with status %s; restarting in %.1f s", self.spec.name, status, delay)

    def signal(self, signum: int) -> None:
        """Send a signal to the child's process group (ignored once it is gone)."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signum)
            except ProcessLookupError:
                pass


class Supervisor:
    """Keeps a set of child processes running until asked to stop."""

    def __init__(self, specs: Sequence[ChildSpec], policy: RestartPolicy = RestartPolicy(),
                 poll_interval: float = 0.2):
        self.children = [Child(spec, policy) for spec in specs]
        self.policy = policy
        self.poll_interval = poll_interval
        self.stop_signal: int | None = None
        self._previous_handlers: dict[int, object] = {}

    @property
    def stop_requested(self) -> bool:
        return self.stop_signal is not None

    def _on_signal(self, signum: int, frame) -> None:
        # Only a flag here: the loop does the logging and the stopping outside the handler.
        self.stop_signal = signum

    def install_signal_handlers(self) -> None:
        """SIGINT and SIGTERM ask the supervisor to stop its children and exit."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous_handlers[signum] = signal.signal(signum, self._on_signal)

    def restore_signal_handlers(self) -> None:
        """Put back the handlers that were there before."""
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)
        self._previous_handlers.clear()

    def start(self) -> None:
        """Start every child."""
        for child in self.children:
            child.start()

    def poll(self) -> None:
        """Notice children that exited and restart those whose backoff has elapsed."""
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.start()
                continue
            status = child.exited()
            if status is not None:
                child.schedule_restart(status, now)

    def wait_for(self, ready: Callable[[], bool], timeout: float) -> bool:
        """Keep supervising until ``ready()`` holds, a stop is requested, or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while not self.stop_requested and time.monotonic() < deadline:
            if ready():
                return True
            self.poll()
            time.sleep(self.poll_interval)
        return False

    def run(self) -> None:
        """Supervise until SIGINT/SIGTERM (returns) or a child cannot be kept up (``GiveUp``)."""
        while not self.stop_requested:
            self.poll()
            time.sleep(self.poll_interval)

    def stop(self) -> None:
        """SIGTERM every child, wait up to ``stop_timeout``, then SIGKILL what is left."""
        if self.stop_signal is not None:
            logger.info("received %s; stopping", signal.Signals(self.stop_signal).name)
        for child in reversed(self.children):
            child.signal(signal.SIGTERM)
        deadline = time.monotonic() + self.policy.stop_timeout
        for child in self.children:
            if child.proc is not None:
                self._wait_or_kill(child, deadline)

    def _wait_or_kill(self, child: Child, deadline: float) -> None:
        try:
            status = child.proc.wait(timeout=max(deadline - time.monotonic(), 0))
            logger.info("%s stopped (status %s)", child.spec.name, status)
        except subprocess.TimeoutExpired:
            logger.warning("%s did not stop within %.0f s; killing it", child.spec.name, self.policy.stop_timeout)
            child.signal(signal.SIGKILL)
            child.proc.wait(timeout=10)


# -- callbox up -------------------------------------------------------------------------------------------------

READY_TIMEOUT = 60.0


def _loopback_for(host: str) -> str:
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


def port_open(host: str, port: int) -> bool:
    """Whether something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((_loopback_for(host), port), timeout=0.5):
            return True
    except OSError:
        return False


def check_port_free(host: str, port: int) -> None:
    """Refuse to start when the web port is taken (rather than letting the child crash in a loop)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        raise CallboxError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; is Callbox already "
                           "running? choose another port with --port") from exc


def _say(line: str) -> None:
    print(line, flush=True)


def run_services(specs: Sequence[ChildSpec], config: Config, out: Callable[[str], None] = _say,
                 policy: RestartPolicy = RestartPolicy()) -> int:
    """Start the children, announce the URL once the web answers, supervise until a stop signal."""
    supervisor = Supervisor(specs, policy)
    supervisor.install_signal_handlers()
    try:
        supervisor.start()
        host, port = config.web.host, config.web.port
        if supervisor.wait_for(lambda: port_open(host, port), READY_TIMEOUT):
            out(f"Callbox is running at http://{host}:{port}")
            out(f"Data directory: {config.data_dir}")
            out("Press Ctrl-C to stop.")
        elif not supervisor.stop_requested:
            logger.warning("the web process did not answer within %.0f s; still trying", READY_TIMEOUT)
        supervisor.run()
        return 0
    except GiveUp as exc:
        logger.error("%s", exc)
        return exc.status
    finally:
        supervisor.stop()
        supervisor.restore_signal_handlers()
