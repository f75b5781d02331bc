"""The benchmark's SQS server: moto's SQS app behind a counting, serialising WSGI middleware.

Run as ``python -m bench.server``; it prints one JSON line ``{"port": N, "server": "..."}``
and serves on 127.0.0.1 until stdin closes or it gets SIGTERM.

Why a middleware of our own in front of moto (5.2.x):

- **Counting at the server**: every request is counted by (queue, action), whoever sends it (our
  worker, the hand-written loop, peers), at ``GET /__bench__/counts``.
- **No double delivery**: moto's ``receive_message`` is not atomic, so two concurrent receivers
  can get the same message. Requests are served one at a time under one lock, so a duplicate
  in the results is the client's doing, not moto's.
- **Long polls without holding the lock**: a ``ReceiveMessage`` with ``WaitTimeSeconds > 0`` is
  passed to moto as a zero-wait receive, retried when a message may have become visible (after
  a send or a visibility change, and every 50 ms for timeouts), until it gets messages or its
  wait is over. The client sees one long poll and it is counted once.
- **Keep-alive**: served by waitress (HTTP/1.1 persistent connections), not by werkzeug's
  development server, which closes the connection after every response.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final, cast
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

SERVER_DESCRIPTION: Final = (
    "moto {moto} SQS app (in-memory, hot paths patched for speed) on waitress {waitress} "
    "(HTTP/1.1 keep-alive), behind the benchmark's counting middleware (requests serialised, "
    "long polls emulated), in its own process on 127.0.0.1"
)
COUNTS_PATH: Final = "/__bench__/counts"
RELEASE_PATH: Final = "/__bench__/release"
"""``POST /__bench__/release?queue=NAME``: end the queue's long polls now, and all later ones
at once (a finished benchmark run need not wait up to 20 s for its worker's last poll)."""
_RECHECK_S: Final = 0.05
_WAKING_ACTIONS: Final = frozenset(
    {"SendMessage", "SendMessageBatch", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch"}
)


class CountingApp:
    """WSGI middleware: count requests by queue and action; serialise; emulate long polls."""

    def __init__(self, inner: WSGIApplication) -> None:
        self._inner = inner
        self._lock = threading.Lock()  # one moto call at a time
        self._changed = threading.Condition()  # notified after sends and visibility changes
        self._counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()
        self._released: set[str] = set()
        self.busy_s = 0.0  # time spent inside moto, under the lock

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == COUNTS_PATH:
            with self._counts_lock:
                body = json.dumps({**self._counts, "|~moto_busy_s": self.busy_s}).encode()
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        if environ.get("PATH_INFO") == RELEASE_PATH:
            queue = parse_qs(str(environ.get("QUERY_STRING", ""))).get("queue", [""])[0]
            with self._changed:
                self._released.add(queue)
                self._changed.notify_all()
            start_response("204 No Content", [("Content-Length", "0")])
            return [b""]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        request = _parse(environ, raw)
        with self._counts_lock:
            self._counts[f"{request.queue}|{request.action}"] += 1
        if request.action == "ReceiveMessage" and request.wait_s > 0:
            return self._long_poll(environ, start_response, request)
        result = self._call(environ, raw)
        if request.action in _WAKING_ACTIONS:
            with self._changed:
                self._changed.notify_all()
        start_response(result.status, result.headers)
        return [result.body]

    def _long_poll(
        self, environ: WSGIEnvironment, start_response: StartResponse, request: _Request
    ) -> Iterable[bytes]:
        deadline_s = time.monotonic() + request.wait_s
        raw = request.without_wait()
        while True:
            with self._changed:  # taken before the call, so no notification is missed
                result = self._call(environ, raw)
                remaining_s = deadline_s - time.monotonic()
                released = request.queue in self._released
                if result.has_messages() or remaining_s <= 0 or released:
                    break
                self._changed.wait(min(_RECHECK_S, remaining_s))
        start_response(result.status, result.headers)
        return [result.body]

    def _call(self, environ: WSGIEnvironment, raw: bytes) -> _Result:
        environ = dict(environ)
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        captured: list[tuple[str, list[tuple[str, str]]]] = []

        def capture(
            status: str, headers: list[tuple[str, str]], exc_info: object = None
        ) -> Callable[[bytes], object]:
            captured.append((status, headers))
            return lambda _data: None

        with self._lock:
            started_s = time.perf_counter()
            chunks = self._inner(environ, cast("StartResponse", capture))
            try:
                body = b"".join(chunks)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
            self.busy_s += time.perf_counter() - started_s
        status, headers = captured[0]
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        return _Result(status, headers, body)


class _Request:
    """What the middleware needs from a request: action, queue, long-poll wait."""

    def __init__(self, action: str, queue: str, wait_s: float, raw: bytes, is_json: bool) -> None:
        self.action = action
        self.queue = queue
        self.wait_s = wait_s
        self._raw = raw
        self._is_json = is_json

    def without_wait(self) -> bytes:
        """The same request body with a zero wait, for moto."""
        if self._is_json:
            document = json.loads(self._raw)
            document["WaitTimeSeconds"] = 0
            return json.dumps(document).encode()
        form = parse_qs(self._raw.decode(), keep_blank_values=True)
        form["WaitTimeSeconds"] = ["0"]
        pairs = [f"{_quote(k)}={_quote(v)}" for k, values in form.items() for v in values]
        return "&".join(pairs).encode()


class _Result:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def has_messages(self) -> bool:
        if not self.status.startswith("200"):
            return True  # an error: return it to the client at once
        if self.body.lstrip().startswith(b"{"):
            return bool(json.loads(self.body).get("Messages"))
        return b"<Message>" in self.body


def _parse(environ: WSGIEnvironment, raw: bytes) -> _Request:
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    if target:  # the JSON protocol of current botocore
        document = json.loads(raw or b"{}")
        queue = _queue_from(document.get("QueueUrl"), document.get("QueueName"))
        wait = document.get("WaitTimeSeconds", 0)
        return _Request(target.rpartition(".")[2], queue, float(wait or 0), raw, True)
    form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    form.update(parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True))
    path = str(environ.get("PATH_INFO", ""))
    url = form.get("QueueUrl", [path if path.count("/") >= 2 else ""])[0]
    queue = _queue_from(url, form.get("QueueName", [None])[0])
    action = form.get("Action", ["(unknown)"])[0]
    return _Request(action, queue, float(form.get("WaitTimeSeconds", ["0"])[0]), raw, False)


def _queue_from(url: object, name: object) -> str:
    if isinstance(url, str) and url:
        return url.rstrip("/").rpartition("/")[2]
    return name if isinstance(name, str) else ""


def _quote(text: str) -> str:
    from urllib.parse import quote  # noqa: PLC0415

    return quote(text, safe="")


def describe() -> str:
    from importlib.metadata import version  # noqa: PLC0415

    return SERVER_DESCRIPTION.format(moto=version("moto"), waitress=version("waitress"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--threads", type=int, default=64)
    args = parser.parse_args()

    from moto.server import create_backend_app  # type: ignore[attr-defined]  # noqa: PLC0415
    from waitress.server import create_server  # type: ignore[import-untyped]  # noqa: PLC0415

    _speed_up_moto()
    app = CountingApp(cast("WSGIApplication", create_backend_app("sqs")))
    server = create_server(
        app,
        host="127.0.0.1",
        port=args.port,
        threads=args.threads,
        connection_limit=512,
        channel_timeout=300,
    )
    port = getattr(server, "effective_port", args.port)
    print(json.dumps({"port": port, "server": describe()}), flush=True)

    def stop(*_: object) -> None:
        server.close()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=_exit_when_stdin_closes, name="bench-server-stdin", daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt, SystemExit, OSError):
        server.run()


def _speed_up_moto() -> None:
    """Make moto's SQS cheaper per request without changing what it answers.

    moto 5.2 recomputes a queue's attributes (three scans of the whole queue, with several
    datetime objects per message) for every message it sends or receives, and deletes by
    scanning the queue twice per receipt: that cost, not the client's, dominated the
    measurements. Patched here, in the benchmark's server process only:

    - its clock helpers: the same seconds, from ``time.time()``;
    - the retention check on receive: reads the retention period, not every attribute;
    - ``send_message``'s ContentBasedDeduplication check: reads that attribute only;
    - deleting a message: one scan, stopping at the message;
    - the copy of each received message (made so that filtering its attributes leaves the stored
      one alone): a shallow copy, not a ``deepcopy`` of every receipt handle it ever had;
    - receipt handles: the same 185 random lowercase letters, drawn in one call, not 185;
    - ReceiveMessage answers in the JSON protocol whose message attributes are all strings: the
      same JSON, encoded directly instead of by moto's generic serializer (which walks the
      service model for every field; with three attributes per message it cost more than the
      receive itself). ``tests/test_bench.py`` checks that both give the same document.
    """
    import copy  # noqa: PLC0415
    import random  # noqa: PLC0415
    import string  # noqa: PLC0415

    from moto.sqs import models, responses  # noqa: PLC0415
    from moto.sqs.exceptions import ReceiptHandleIsInvalid  # noqa: PLC0415

    def unix_time(dt: object = None) -> float:
        return time.time()

    def unix_time_millis(dt: object = None) -> float:
        return time.time() * 1000.0

    _patch(models, "unix_time", unix_time)
    _patch(models, "unix_time_millis", unix_time_millis)

    def retained(self: Any, queue_name: str, message: Any) -> bool:
        queue = self.get_queue(queue_name)
        retention_s = int(queue.message_retention_period)
        return bool(retention_s + message.sent_timestamp / 1000 > time.time())

    _patch(models.SQSBackend, "is_message_valid_based_on_retention_period", retained)

    full_attributes: Any = models.Queue.__dict__["attributes"]
    sending = threading.local()

    def attributes(self: Any) -> dict[str, Any]:
        if getattr(sending, "active", False):
            flag = self.__dict__.get("content_based_deduplication")
            return {"ContentBasedDeduplication": str(flag).lower() if flag else "false"}
        found: dict[str, Any] = full_attributes.fget(self)
        return found

    _patch(models.Queue, "attributes", property(attributes))
    send_message: Any = models.SQSBackend.send_message

    def send_message_cheaply(self: Any, *args: Any, **kwargs: Any) -> Any:
        sending.active = True
        try:
            return send_message(self, *args, **kwargs)
        finally:
            sending.active = False

    _patch(models.SQSBackend, "send_message", send_message_cheaply)

    def delete_message(self: Any, receipt_handle: str) -> None:
        if receipt_handle in self.deleted_messages:
            return
        for index, message in enumerate(self._messages):
            if message.had_receipt_handle(receipt_handle):
                self.pending_messages.discard(message)
                self.deleted_messages.update(message.all_receipt_handles)
                del self._messages[index]
                return
        raise ReceiptHandleIsInvalid()

    _patch(models.Queue, "delete_message", delete_message)

    def copy_for_receive(value: Any, memo: Any = None) -> Any:
        if isinstance(value, models.Message):
            # The attribute filter replaces message_attributes; nothing else is mutated.
            return copy.copy(value)
        return copy.deepcopy(value, memo)

    _patch(models, "deepcopy", copy_for_receive)

    def receipt_handle() -> str:
        return "".join(random.choices(string.ascii_lowercase, k=185))

    _patch(models, "generate_receipt_handle", receipt_handle)
    _patch(responses.SQSResponse, "serialized", _fast_receive_serializer(responses))


def _fast_receive_serializer(responses: Any) -> Callable[[Any, Any], Any]:
    generic: Any = responses.SQSResponse.serialized

    def serialized(self: Any, action_result: Any) -> Any:
        result = action_result.result
        if (
            self._get_action() == "ReceiveMessage"
            and self.headers.get("X-Amz-Target")  # the JSON protocol
            and isinstance(result, dict)
            and all(_plain_strings(message) for message in result.get("Messages", []))
        ):
            status, headers, _ = generic(self, responses.ActionResult({}))
            return status, headers, json.dumps(result)
        return generic(self, action_result)

    return serialized


def _plain_strings(message: dict[str, Any]) -> bool:
    """True if every message attribute is a plain string (no binary or list values)."""
    return all(
        set(value) == {"DataType", "StringValue"} and isinstance(value["StringValue"], str)
        for value in message.get("MessageAttributes", {}).values()
    )


def _patch(owner: object, name: str, value: object) -> None:
    if not hasattr(owner, name):
        raise RuntimeError(f"moto changed: {owner!r} has no {name}; update bench/server.py")
    setattr(owner, name, value)


def _exit_when_stdin_closes() -> None:
    sys.stdin.read()
    import os  # noqa: PLC0415

    os._exit(0)


if __name__ == "__main__":
    main()
