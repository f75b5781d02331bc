"""Security: messages are data only (no pickle, eval or dynamic lookup), task names select
among registered handlers only, and credentials never reach logs, reprs or errors."""

from __future__ import annotations

import ast
import io
import logging
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from generated import CONTRACT
from simple_worker import App, BrokerError, ManualClock, MemoryBroker
from simple_worker.brokers.base import OutgoingMessage
from simple_worker.errors import BrokerURLError, QueueNotFoundError
from simple_worker.wire import DEAD_LETTER_REASON_ATTRIBUTE
from tests.reliability.harness import Results, WorkerProcess, create_queue, new_prefix
from tests.sqs_server import REGION, MotoSqs, unused_port

PACKAGE = Path(__file__).resolve().parents[2] / "simple_worker"
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "marshal", "shelve", "importlib", "pydoc"}
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
DYNAMIC_LOOKUPS = {"getattr", "setattr", "delattr"}
# Reviewed exceptions, each with why it cannot be driven by a message:
ALLOWED = {
    # Evaluates a handler's own string annotations (PEP 563) in its module's namespace, at
    # registration; message contents never reach it.
    ("handler_check.py", "eval"),
    # getattr with a computed name: the attribute names come from the contract's record
    # fields (loaded from the contract file), never from a message.
    ("validation/converters.py", "getattr"),
    # `simple-worker worker MODULE:APP` imports the app named on the command line (operator
    # configuration, like `python -m`); messages never reach it.
    ("cli/ops_worker.py", "importlib"),
    ("cli/ops_worker.py", "getattr"),
}


def _findings(path: Path, root: Path = PACKAGE) -> list[tuple[str, str, int]]:
    """(file, forbidden name, line) for each import or call that could run data as code."""
    relative = path.relative_to(root).as_posix()
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [(node.module or "").split(".")[0]]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            computed_name = not (
                len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
            )
            if name in FORBIDDEN_CALLS or (name in DYNAMIC_LOOKUPS and computed_name):
                names = [name]
        found += [
            (relative, name, node.lineno)
            for name in names
            if (name in FORBIDDEN_MODULES or name in FORBIDDEN_CALLS or name in DYNAMIC_LOOKUPS)
            and (relative, name) not in ALLOWED
        ]
    return found


def test_the_package_never_unpickles_evaluates_or_looks_up_names_from_data() -> None:
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 20

    findings = [finding for path in sources for finding in _findings(path)]

    assert findings == []


def test_the_source_check_catches_the_forbidden_forms(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import pickle\nfrom importlib import import_module\nimport marshal as m\n"
        "def f(obj, name, text):\n    eval(text)\n    exec(text)\n    __import__(text)\n"
        "    setattr(obj, 'fixed', 1)\n    return getattr(obj, name)\n"
    )

    names = sorted(name for _, name, _ in _findings(probe, tmp_path))

    assert names == ["__import__", "eval", "exec", "getattr", "importlib", "marshal", "pickle"]


HOSTILE_NAMES = [
    "os.system",
    "__class__",
    "__init__",
    "__import__",
    "add.__globals__",
    "register_task_handler",
    "builtins.eval",
    "App",
]


@pytest.mark.parametrize("with_contract", [False, True])
def test_a_task_name_only_selects_a_registered_handler(with_contract: bool) -> None:
    broker = MemoryBroker(max_receive_count=3, clock=ManualClock())
    app = App(queue_prefix="s-", broker=broker, contract=CONTRACT if with_contract else None)
    ran = []

    @app.register_task_handler("add")
    def add(a: int, b: int) -> None:
        ran.append((a, b))

    for name in HOSTILE_NAMES:
        body = f'{{"task_name": "{name}", "task_payload": {{"command": "touch /tmp/x"}}}}'
        broker.send("s-default", [OutgoingMessage(ref=name, body=body)])

    app.worker().drain(raise_errors=False)

    dead = broker.messages("s-default-dlq")
    assert ran == []
    assert len(dead) == len(HOSTILE_NAMES)
    assert all(
        m.attributes[DEAD_LETTER_REASON_ATTRIBUTE].startswith("UnknownTaskError: unknown task")
        for m in dead
    )


KEY_ID = "AKIATESTSECRETKEY123"
SECRET = "s3cr3t/with+special"
SECRETS = (KEY_ID, SECRET, quote(SECRET, safe=""), "s3cr3t")


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """simple_worker loggers at DEBUG into a buffer (with tracebacks); botocore at WARNING,
    because botocore's own DEBUG request logs print the Authorization header (the key id)."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    package = logging.getLogger("simple_worker")
    quiet = [logging.getLogger(n) for n in ("botocore", "boto3", "urllib3")]
    saved = (root.level, package.level, [q.level for q in quiet])
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    package.setLevel(logging.DEBUG)
    for logger in quiet:
        logger.setLevel(logging.WARNING)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(saved[0])
    package.setLevel(saved[1])
    for logger, level in zip(quiet, saved[2], strict=True):
        logger.setLevel(level)


def _everything_about(exc: BaseException) -> str:
    return "\n".join([str(exc), repr(exc), *traceback.format_exception(exc)])


def test_credentials_never_appear_in_logs_reprs_or_errors(
    moto_server: MotoSqs, tmp_path: Path, captured_logs: io.StringIO
) -> None:
    prefix = new_prefix()
    create_queue(moto_server, prefix + "default", visibility_timeout_s=1, max_receive_count=2)
    userinfo = f"{quote(KEY_ID, safe='')}:{quote(SECRET, safe='')}"
    query = f"region={REGION}&wait_time=1&max_attempts=2&connect_timeout=1&read_timeout=25"
    url = f"sqs://{userinfo}@{moto_server.host_and_port}?{query}"
    texts: list[str] = []

    producer = App(broker_url=url, queue_prefix=prefix)

    @producer.register_task_handler("work")
    def work(i: int, sleep_ms: int = 0) -> None:
        pass

    @producer.register_task_handler("fails")
    def fails(i: int) -> None:
        pass

    texts += [repr(producer), repr(producer.broker), str(producer.broker)]
    producer.add_task("work", {"i": 1})
    producer.add_task("fails", {"i": 2})
    queue_url = moto_server.client.get_queue_url(QueueName=prefix + "default")["QueueUrl"]
    moto_server.client.send_message(QueueUrl=queue_url, MessageBody="poison")

    results = tmp_path / "runs.txt"
    worker = WorkerProcess(url, prefix, results, name="secret-worker", concurrency=2)
    try:
        deadline = time.monotonic() + 60
        while not (
            Results.read(results).done.get(1) and producer.queue_counts("default-dlq").visible >= 2
        ):
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.2)
    finally:
        worker.stop()
    texts += [worker.stdout(), worker.stderr()]
    assert "worker started" in worker.stderr()
    assert "poison message" in worker.stderr()
    assert "failed: RuntimeError" in worker.stderr()

    # A bad endpoint, a missing queue and a malformed URL, all with the same credentials.
    bad_endpoint = App(
        broker_url=url.replace(moto_server.host_and_port, f"127.0.0.1:{unused_port()}"),
        queue_prefix=prefix,
    )
    bad_endpoint.register_task_handler("work")(work)
    with pytest.raises(BrokerError) as refused:
        bad_endpoint.add_task("work", {"i": 3})
    texts += [_everything_about(refused.value), repr(bad_endpoint), repr(bad_endpoint.broker)]
    missing = App(broker_url=url, queue_prefix=prefix + "missing-")
    missing.register_task_handler("work")(work)
    with pytest.raises(QueueNotFoundError) as not_found:
        missing.add_task("work", {"i": 4})
    texts.append(_everything_about(not_found.value))
    with pytest.raises(BrokerURLError) as malformed:
        App(broker_url=f"sqs://{userinfo}@host:port?{query}")
    texts.append(_everything_about(malformed.value))
    for app in (producer, bad_endpoint, missing):
        app.broker.close()
    texts.append(captured_logs.getvalue())

    everything = "\n".join(texts)
    assert "GetQueueUrl on SQS queue" in everything  # the errors are in there ...
    assert "does not exist" in everything
    assert "DEBUG simple_worker" in everything  # ... and so are the DEBUG logs
    assert [secret for secret in SECRETS if secret in everything] == []
