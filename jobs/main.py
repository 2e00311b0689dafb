"""The worker's entry point: the queue plus every task module, and the consumer that runs them.

Huey's pattern: the instance lives alone in ``jobs.queue``; tasks live in modules by concern; this module
imports both so that the consumer knows every task. A new task module is one import line below.
"""
from __future__ import annotations

import logging

from appliance.config import Config
from jobs import maintenance  # noqa: F401  (registers its tasks)
from jobs import analysis  # noqa: F401  (post-call analysis)
from jobs import delivery  # noqa: F401  (webhook delivery: tasks and the dispatcher)
from jobs import runtime
from jobs.queue import bind_queues, huey

logger = logging.getLogger(__name__)

# A task running when SIGTERM arrives gets this long to finish (systemd's TimeoutStopSec is longer).
SHUTDOWN_TIMEOUT = 20.0


def consumer_alive(consumer) -> bool:
    """Whether the consumer's scheduler and every worker thread are running."""
    env = consumer.environment
    threads = [proc for _, proc in consumer.worker_threads] + [consumer.scheduler]
    return all(env.is_alive(proc) for proc in threads)


def make_consumer(workers: int):
    """A thread-based consumer of the ``jobs`` queue; SIGTERM lets running tasks finish."""
    return huey.create_consumer(workers=max(1, workers), periodic=True, worker_type="thread",
                                initial_delay=0.1, backoff=1.15, max_delay=1.0,
                                graceful_signal="TERM", shutdown_timeout=SHUTDOWN_TIMEOUT,
                                check_worker_health=True, health_check_interval=5)


def run_worker(config: Config, workers: int) -> int:
    """Consume the ``jobs`` queue until SIGTERM/SIGINT; returns the exit status."""
    runtime.bind(config)
    bind_queues(config)
    consumer = make_consumer(workers)
    beat = maintenance.HeartbeatThread(config.queue.heartbeat_seconds, lambda: consumer_alive(consumer))
    logger.info("worker consuming queue %r with %d thread(s)", huey.name, max(1, workers))
    beat.start()
    try:
        consumer.run()
    finally:
        beat.stop()
    logger.info("worker stopped")
    return 0
