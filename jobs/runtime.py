"""What tasks may need while they run: the configuration, bound once when the consumer starts.

Tasks take ids and primitives; anything else they need (paths, settings) comes from here, never from
``os.environ`` and never from state built at import. ``callbox worker`` binds it before consuming.
"""
from __future__ import annotations

from appliance.config import Config


class Runtime:
    """Holds the running process's configuration (empty until ``bind``)."""

    def __init__(self) -> None:
        self._config: Config | None = None

    def bind(self, config: Config) -> None:
        """Set the configuration tasks of this process use."""
        self._config = config

    @property
    def config(self) -> Config:
        """The bound configuration; a clear error when a task runs in a process that never bound it."""
        if self._config is None:
            raise RuntimeError("the jobs runtime is not bound: call jobs.runtime.bind(config) at process start")
        return self._config


runtime = Runtime()


def bind(config: Config) -> None:
    """Bind the configuration for the tasks of this process."""
    runtime.bind(config)


def config() -> Config:
    """The configuration of the process running the task."""
    return runtime.config
