"""A local SQS-compatible server (moto's) on 127.0.0.1, for development and the demo.

moto comes from the optional extra ``local`` (``pip install 'simple-worker[local]'``); it is
imported only when a server is started. moto's ReceiveMessage is not atomic: two receivers
polling one queue at once (a worker has several on a busy queue) can both get the same message,
which SQS does not do. Starting a server makes moto's receives atomic per queue in this process
(the message picking runs under a per-queue lock; long polls wait outside it).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import attrs

from simple_worker.errors import SimpleWorkerError

HOST: Final = "127.0.0.1"
REGION: Final = "us-east-1"
DUMMY_CREDENTIAL: Final = "testing"  # moto accepts any; explicit ones keep real AWS out of reach
START_TIMEOUT_S: Final = 15.0


class LocalSqsError(SimpleWorkerError, RuntimeError):
    """The local SQS server cannot start (moto missing, port in use)."""


@attrs.frozen
class LocalSqs:
    """A running local server: where it listens and the broker URL that reaches it."""

    host: str
    port: int

    def broker_url(self, query: str = "") -> str:
        """``sqs://testing:testing@HOST:PORT?region=us-east-1`` plus ``&query``."""
        extra = f"&{query}" if query else ""
        credentials = f"{DUMMY_CREDENTIAL}:{DUMMY_CREDENTIAL}"
        return f"sqs://{credentials}@{self.host}:{self.port}?region={REGION}{extra}"


@contextmanager
def local_sqs(port: int = 0) -> Iterator[LocalSqs]:
    """Run moto's threaded server on 127.0.0.1 (``port`` 0: a free one) until the block exits."""
    try:
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 (optional dependency)
    except ModuleNotFoundError as exc:
        raise LocalSqsError(
            f"the local SQS server needs moto ({exc.name} is not installed); "
            "install it with: pip install 'simple-worker[local]'"
        ) from exc
    _check_port_free(port)
    make_moto_receives_atomic()
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    # start() waits forever if the server thread fails to bind, so wait for it with a timeout.
    starter = threading.Thread(
        target=server.start, name="simple-worker-local-sqs-start", daemon=True
    )
    starter.start()
    starter.join(START_TIMEOUT_S)
    if starter.is_alive():
        raise LocalSqsError(
            f"the local SQS server did not start on {HOST}:{port} within "
            f"{START_TIMEOUT_S:.0f} s; is the port in use?"
        )
    try:
        host, bound_port = server.get_host_and_port()
        yield LocalSqs(host=host, port=bound_port)
    finally:
        server.stop()


def _check_port_free(port: int) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the server does: a port held only by closed connections (TIME_WAIT) is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise LocalSqsError(
                f"cannot listen on {HOST}:{port} ({exc.strerror or exc}); another program uses "
                "the port: stop it or choose another with --port"
            ) from None


_RECEIVE_RECHECK_S: Final = 0.05
_patch_lock = threading.Lock()


def make_moto_receives_atomic() -> None:
    """Wrap moto's ``SQSBackend.receive_message`` once: pick under a per-queue lock."""
    from moto.sqs.models import Message, SQSBackend  # noqa: PLC0415 (optional dependency)

    with _patch_lock:
        original = SQSBackend.receive_message
        if getattr(original, "simple_worker_atomic", False):
            return
        queue_locks: dict[tuple[int, str], threading.Lock] = {}

        def receive_message(  # noqa: PLR0917 (moto's signature)
            self: SQSBackend,
            queue_name: str,
            count: int,
            wait_seconds_timeout: int,
            visibility_timeout: int,
            message_attribute_names: list[str] | None = None,
        ) -> list[Message]:
            with _patch_lock:
                lock = queue_locks.setdefault((id(self), queue_name), threading.Lock())
            deadline_s = time.monotonic() + wait_seconds_timeout
            while True:
                with lock:  # a zero-wait receive: picks and marks messages atomically
                    received = original(
                        self, queue_name, count, 0, visibility_timeout, message_attribute_names
                    )
                remaining_s = deadline_s - time.monotonic()
                if received or remaining_s <= 0:
                    return received
                # Wakes when a message is sent; rechecks for ones whose visibility ran out.
                # (moto annotates the timeout as int; it is a Condition timeout in seconds.)
                wait_s = min(_RECEIVE_RECHECK_S, remaining_s)
                self.get_queue(queue_name).wait_for_messages(wait_s)  # type: ignore[arg-type]

        receive_message.simple_worker_atomic = True  # type: ignore[attr-defined]
        SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
