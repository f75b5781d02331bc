"""The worker: receives messages, runs their handlers, acknowledges them; start, stop and drain.

Threads of ``start()`` (all named ``simple-worker-*``):

- receivers per queue (``simple-worker-receiver-<queue>``, then ``...-2`` and on; how many:
  ``default_receivers``): each long-polls its queue for up to 10 messages whenever the
  held-message budget has room for 10 (budget: 2 x concurrency + 10 per receiver, so handlers
  always have the next messages waiting but only a few batches sit unstarted and invisible to
  other workers). The first receiver always polls; the others poll only while the queue is
  busy (its last receive was a full batch), so round trips overlap under load and an idle
  queue costs one long poll at a time;
- ``concurrency`` handler threads (``simple-worker-handler-<i>``): decode, validate, run inside
  the task-context hooks; on success queue the ack; on failure leave the message for its
  visibility timeout; a poison message goes to the dead-letter queue or stays in the queue;
- one acker (``simple-worker-acker``): deletes in batches of 10, at least every second.

``drain()`` uses the same handler threads and acker, but receives from the calling thread
without waiting, and returns when no message is visible and no handler is running.

Shutdown order (``stop()``, SIGTERM or SIGINT): stop receiving; make received-but-unstarted
messages visible again at once; let running handlers finish within ``shutdown_grace_s``; join
the receivers (each finishes its current poll, returning anything it got); flush pending acks
and join the acker. A second signal skips the grace period. Nothing is lost either way: a
message is deleted only after its handler returned or after it was copied to a DLQ.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Final

from simple_worker.errors import BrokerError
from simple_worker.provenance import ForeignFingerprints
from simple_worker.run import RECEIVE_BATCH_SIZE, RetryBackoff, WorkerRun

if TYPE_CHECKING:
    from simple_worker.app import App

logger = logging.getLogger(__name__)

_OUTAGE_BACKOFF_MAX_S: Final = 30.0
_BUSY_RECHECK_S: Final = 0.25
_MAX_DEFAULT_RECEIVERS: Final = 4
_IDLE_RECHECK_S: Final = 0.05
_SIGNAL_CHECK_S: Final = 0.1


class Worker:
    """Runs the handlers of an App for messages on some of its queues."""

    def __init__(
        self,
        app: App,
        queues: Sequence[str],
        *,
        concurrency: int = 1,
        shutdown_grace_s: float = 30.0,
        retry_backoff: RetryBackoff | None = None,
        receivers_per_queue: int | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        if receivers_per_queue is not None and receivers_per_queue < 1:
            raise ValueError(f"receivers_per_queue must be at least 1, got {receivers_per_queue}")
        self.app = app
        self.queues = tuple(queues)
        self.concurrency = concurrency
        self.receivers_per_queue = receivers_per_queue or default_receivers(concurrency)
        self.shutdown_grace_s = shutdown_grace_s
        self.retry_backoff = retry_backoff
        self._queue_names = [app.queue_name(q) for q in self.queues]
        self._stop_requested = threading.Event()
        self._hurry = threading.Event()
        self._foreign = ForeignFingerprints(app.contract)

    def __repr__(self) -> str:
        return f"Worker(queues={list(self.queues)!r}, concurrency={self.concurrency})"

    def start(self) -> None:
        """Process messages until ``stop()``, SIGTERM or SIGINT; then shut down gracefully."""
        if not self.queues:
            raise ValueError("this worker has no queues: register a handler or pass queues=[...]")
        for queue_name in self._queue_names:
            # Fail fast (QueueNotFoundError, bad credentials) instead of retrying forever.
            self.app.broker.visibility_timeout_s(queue_name)
        self._stop_requested.clear()
        self._hurry.clear()
        restore_signals = self._install_signal_handlers()
        run = WorkerRun(
            self.app,
            concurrency=self.concurrency,
            record_errors=False,
            queue_count=len(self._queue_names),
            receivers_per_queue=self.receivers_per_queue,
            retry_backoff=self.retry_backoff,
            foreign_fingerprints=self._foreign,
        )
        receivers = self._receivers(run)
        logger.info(
            "worker started on %s with concurrency %d (%d receivers per queue)",
            ", ".join(self._queue_names),
            self.concurrency,
            self.receivers_per_queue,
        )
        run.start()
        try:
            for receiver in receivers:
                receiver.start()
            # Short waits: a signal delivered to another thread runs its Python handler only
            # when the main thread wakes up.
            while not self._stop_requested.wait(_SIGNAL_CHECK_S):
                pass
        finally:
            self._shut_down(run, receivers)
            restore_signals()

    def foreign_fingerprints(self) -> dict[tuple[str, str], int]:
        """Messages run from producers of another contract version, by (task, fingerprint).

        The fingerprint is ``"none"`` for producers that send none (simple-worker 0.2.x, other
        languages). When a parallel change's old producers are gone, their count stops growing.
        """
        return self._foreign.counts()

    def stop(self) -> None:
        """Ask a running ``start()`` to shut down gracefully (callable from any thread)."""
        self._stop_requested.set()

    def drain(self, *, raise_errors: bool = True) -> int:
        """Process until no message is visible and no handler runs; return how many handlers ran.

        Tasks that handlers enqueue meanwhile are processed too. Delayed messages and failed
        ones waiting out their visibility timeout are not waited for. With ``raise_errors``,
        the first handler exception (or poison-message error) propagates from here, with the
        task named in an exception note, instead of only being logged.
        """
        run = WorkerRun(
            self.app,
            concurrency=self.concurrency,
            record_errors=raise_errors,
            queue_count=len(self._queue_names),
            retry_backoff=self.retry_backoff,
            foreign_fingerprints=self._foreign,
        )
        run.start()
        try:
            while run.first_error is None:
                held_before = run.held.held()
                received = sum(
                    run.receive_into_buffer(queue_name, wait_s=0, block=False)
                    for queue_name in self._queue_names
                )
                if received == 0:
                    if held_before == 0:
                        break  # nothing running could add work, and nothing is visible
                    run.held.wait_for_change(_IDLE_RECHECK_S)
        finally:
            run.stop_handlers(grace_s=None)
        if run.first_error is not None:
            raise run.first_error
        return run.ran

    def _receivers(self, run: WorkerRun) -> list[threading.Thread]:
        threads = []
        for queue_name in self._queue_names:
            activity = _QueueActivity()  # shared by the receivers of one queue
            for index in range(self.receivers_per_queue):
                threads.append(
                    threading.Thread(
                        target=self._receive_forever if index == 0 else self._receive_while_busy,
                        args=(run, queue_name, activity),
                        name=f"simple-worker-receiver-{queue_name}"
                        + (f"-{index + 1}" if index else ""),
                        daemon=True,  # joined on shutdown, except after a second signal
                    )
                )
        return threads

    def _receive_forever(self, run: WorkerRun, queue_name: str, activity: _QueueActivity) -> None:
        """The first receiver of a queue: always polls; backs off and logs during an outage."""
        outage_started_s: float | None = None
        backoff_s = 1.0
        while not run.stopping.is_set():
            try:
                activity.observe(
                    run.receive_into_buffer(
                        queue_name, wait_s=self.app.broker.long_poll_s, block=True
                    )
                )
            except Exception as exc:  # the receive loop must survive anything the broker raises
                activity.observe(0)
                if outage_started_s is None:
                    outage_started_s = time.monotonic()
                    logger.error(
                        "cannot receive from %s (%s); retrying with backoff until it recovers",
                        queue_name,
                        exc,
                        exc_info=not isinstance(exc, BrokerError),  # a bug: show where
                        extra={"queue": queue_name},
                    )
                run.stopping.wait(backoff_s)
                backoff_s = min(backoff_s * 2, _OUTAGE_BACKOFF_MAX_S)
                continue
            if outage_started_s is not None:
                logger.warning(
                    "receiving from %s again after %.1f s",
                    queue_name,
                    time.monotonic() - outage_started_s,
                    extra={"queue": queue_name},
                )
                outage_started_s, backoff_s = None, 1.0

    def _receive_while_busy(
        self, run: WorkerRun, queue_name: str, activity: _QueueActivity
    ) -> None:
        """Another receiver of a queue: polls only while the queue's last receive (by any of
        its receivers) was a full batch.

        Errors park it until the first receiver, which logs them, finds the queue busy again.
        """
        while not run.stopping.is_set():
            if not activity.wait_until_busy(_BUSY_RECHECK_S):
                continue
            try:
                received = run.receive_into_buffer(
                    queue_name, wait_s=self.app.broker.long_poll_s, block=True
                )
            except Exception:  # the first receiver logs an outage, once
                logger.debug("extra receiver on %s failed", queue_name, exc_info=True)
                received = 0
            activity.observe(received)

    def _shut_down(self, run: WorkerRun, receivers: list[threading.Thread]) -> None:
        logger.info("worker stopping: finishing running tasks")
        run.stopping.set()
        still_running = run.stop_handlers(grace_s=self.shutdown_grace_s, hurry=self._hurry)
        for receiver in receivers:
            # Each finishes its current long poll; after a second signal, nobody waits for it
            # (what that poll returns stays invisible until its visibility timeout: not lost).
            while receiver.is_alive() and not self._hurry.is_set():
                receiver.join(_SIGNAL_CHECK_S)
        run.requeue(run.take_unstarted())
        if still_running:
            logger.warning(
                "%d tasks still running after the %.0f s grace period; their messages come back "
                "after the visibility timeout",
                len(still_running),
                0.0 if self._hurry.is_set() else self.shutdown_grace_s,
            )
        logger.info("worker stopped after %d tasks", run.ran)

    def _install_signal_handlers(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return _nothing_to_restore

        def on_signal(signum: int, frame: FrameType | None) -> None:
            if self._stop_requested.is_set():
                logger.warning("second signal: stopping without waiting for running tasks")
                self._hurry.set()
                return
            logger.info("received %s: stopping", signal.Signals(signum).name)
            self._stop_requested.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}

        def restore() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        return restore


def default_receivers(concurrency: int) -> int:
    """Receivers per queue: 1 for one handler thread, 2 up to 11, 3 up to 23, then 4.

    One receiver delivers at most 10 messages per round trip, which fast handlers outrun; the
    extra ones poll only while the queue is busy, so they cost nothing when it is idle (see
    the README's Performance section for the measurements behind these steps).
    """
    if concurrency == 1:
        return 1
    return min(_MAX_DEFAULT_RECEIVERS, 2 + concurrency // 12)


class _QueueActivity:
    """Whether a queue's last receive was a full batch: the extra receivers poll only then."""

    def __init__(self) -> None:
        self._busy = threading.Event()

    def observe(self, received: int) -> None:
        if received >= RECEIVE_BATCH_SIZE:
            self._busy.set()
        else:
            self._busy.clear()

    def wait_until_busy(self, timeout_s: float) -> bool:
        return self._busy.wait(timeout_s)


def _nothing_to_restore() -> None:
    """Signal handlers were not installed (not the main thread)."""
