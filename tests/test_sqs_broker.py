"""The SQS broker beyond the shared contract: batching, caching, URLs, error translation, secrets.

Runs against moto's server over real HTTP on 127.0.0.1 (see ``tests/sqs_server.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from botocore.exceptions import EndpointConnectionError

from simple_worker.brokers import broker_from_url
from simple_worker.brokers.base import OutgoingMessage
from simple_worker.brokers.sqs import SqsBroker
from simple_worker.brokers.sqs_limits import MAX_BATCH_BYTES, send_batches
from simple_worker.errors import BatchSendError, BrokerError, BrokerURLError, QueueNotFoundError
from tests.sqs_server import REGION, MotoSqs, unused_port

pytestmark = pytest.mark.timeout(60)

KEY_ID = "AKIAEXAMPLEKEYID7Q"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPx@Rf:iCYEXAMPLEKEY"


@pytest.fixture
def sqs(moto_server: MotoSqs) -> Iterator[SqsBroker]:
    broker = moto_server.broker()
    yield broker
    broker.close()


def _messages(count: int, *, body_bytes: int = 1) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(
            ref=f"task-{i}", body=str(i).rjust(body_bytes, "x"), attributes={"n": str(i)}
        )
        for i in range(count)
    ]


def _receive_all(sqs: SqsBroker, queue: str) -> list[str]:
    bodies: list[str] = []
    while received := sqs.receive(queue, max_messages=10, wait_s=0):
        bodies += [m.body for m in received]
    return bodies


def _unreachable_url(query: str = "") -> str:
    credentials = f"{quote(KEY_ID, safe='')}:{quote(SECRET, safe='')}"
    return (
        f"sqs://{credentials}@127.0.0.1:{unused_port()}?region={REGION}"
        f"&max_attempts=1&connect_timeout=1{query}"
    )


# -- batching ---------------------------------------------------------------------------------


def test_25_messages_go_in_3_batch_calls_and_ids_come_back_in_order(
    moto_server: MotoSqs, sqs: SqsBroker
) -> None:
    queue = moto_server.create_queue()

    ids = sqs.send(queue, _messages(25))

    assert sqs.api_calls()["SendMessageBatch"] == 3
    received: dict[str, str] = {}
    while batch := sqs.receive(queue, max_messages=10, wait_s=0):
        received |= {m.message_id: m.body for m in batch}
    assert [received[message_id] for message_id in ids] == [str(i) for i in range(25)]


def test_one_message_is_sent_with_send_message(moto_server: MotoSqs, sqs: SqsBroker) -> None:
    queue = moto_server.create_queue()

    sqs.send(queue, _messages(1))

    assert sqs.api_calls().get("SendMessageBatch", 0) == 0
    assert sqs.api_calls()["SendMessage"] == 1


def test_the_batch_byte_limit_splits_a_batch(moto_server: MotoSqs, sqs: SqsBroker) -> None:
    queue = moto_server.create_queue()
    messages = _messages(3, body_bytes=400 * 1024)  # 1.2 MiB together: over one batch's limit

    sqs.send(queue, messages)

    assert sqs.api_calls()["SendMessageBatch"] == 2
    assert sorted(len(body) for body in _receive_all(sqs, queue)) == [400 * 1024] * 3


def test_batches_respect_both_limits_and_keep_order() -> None:
    small = _messages(12)
    big = _messages(3, body_bytes=MAX_BATCH_BYTES // 2)

    assert send_batches(small) == [list(range(10)), [10, 11]]
    assert send_batches(big) == [[0], [1], [2]]  # two halves plus attributes exceed the limit
    assert send_batches([]) == []


def test_a_refused_entry_raises_batch_send_error_and_the_rest_are_sent(
    moto_server: MotoSqs, sqs: SqsBroker
) -> None:
    queue = moto_server.create_queue()
    messages = _messages(12)
    messages[3] = OutgoingMessage(ref="too-late", body="x", delay_s=901)  # over SQS's 900 s

    with pytest.raises(BatchSendError) as caught:
        sqs.send(queue, messages)

    assert [(f.ref, f.code) for f in caught.value.failures] == [
        ("too-late", "InvalidParameterValue")
    ]
    assert len(caught.value.sent_message_ids) == 11
    assert str(caught.value).startswith(f"1 of 12 messages could not be sent to queue {queue!r}")
    assert "too-late: InvalidParameterValue: " in str(caught.value)
    assert sqs.api_calls()["SendMessageBatch"] == 2  # no re-send of the sent ones
    assert len(_receive_all(sqs, queue)) == 11


def test_a_refused_batch_fails_its_entries_and_later_batches_are_still_sent(
    moto_server: MotoSqs, sqs: SqsBroker
) -> None:
    queue = moto_server.create_queue({"MaximumMessageSize": "1024"})
    messages = _messages(12)
    messages[0] = OutgoingMessage(ref="huge", body="x" * 2000)  # SQS refuses the whole call

    with pytest.raises(BatchSendError) as caught:
        sqs.send(queue, messages)

    assert [f.ref for f in caught.value.failures] == ["huge"] + [f"task-{i}" for i in range(1, 10)]
    assert set(caught.value.sent_message_ids) == {"task-10", "task-11"}
    assert sorted(_receive_all(sqs, queue)) == ["10", "11"]


def test_a_connection_lost_mid_send_lists_every_unsent_message(
    moto_server: MotoSqs, sqs: SqsBroker
) -> None:
    queue = moto_server.create_queue()
    calls = iter(range(100))

    def cut_after_first_batch(**_: object) -> None:
        if next(calls) >= 1:
            raise EndpointConnectionError(endpoint_url=moto_server.endpoint_url)

    sqs._client().meta.events.register("before-call.sqs.SendMessageBatch", cut_after_first_batch)

    with pytest.raises(BatchSendError) as caught:
        sqs.send(queue, _messages(25))

    assert [f.ref for f in caught.value.failures] == [f"task-{i}" for i in range(10, 25)]
    assert {f.code for f in caught.value.failures} == {"NotSent"}
    assert len(caught.value.sent_message_ids) == 10
    assert len(_receive_all(sqs, queue)) == 10


# -- caching and the other operations ---------------------------------------------------------


def test_the_queue_url_is_resolved_once_for_many_calls(
    moto_server: MotoSqs, sqs: SqsBroker
) -> None:
    queue = moto_server.create_queue()

    for _ in range(5):
        sqs.send(queue, _messages(2))
    sqs.receive(queue, max_messages=1, wait_s=0)
    sqs.counts(queue)

    assert sqs.api_calls()["GetQueueUrl"] == 1


def test_concurrent_first_calls_share_one_client_and_one_url_lookup(
    moto_server: MotoSqs, sqs: SqsBroker
) -> None:
    queue = moto_server.create_queue()
    threads = [
        threading.Thread(target=sqs.queue_url, args=(queue,), name=f"url-{i}") for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert sqs.api_calls() == {"GetQueueUrl": 1}


def test_static_attributes_are_read_once(moto_server: MotoSqs, sqs: SqsBroker) -> None:
    queue, dead_letter_queue = moto_server.create_queue_pair(
        visibility_timeout_s=30, max_receive_count=3
    )
    small = moto_server.create_queue({"MaximumMessageSize": "2048"})

    assert sqs.dead_letter_queue(queue) == dead_letter_queue
    assert sqs.max_message_bytes(queue) == 1_048_576
    assert sqs.visibility_timeout_s(queue) == 30
    assert sqs.dead_letter_queue(dead_letter_queue) is None
    assert sqs.max_message_bytes(small) == 2048
    assert sqs.api_calls()["GetQueueAttributes"] == 3


def test_fifo_group_and_deduplication_ids_reach_sqs(moto_server: MotoSqs, sqs: SqsBroker) -> None:
    queue = f"{moto_server.create_queue()}.fifo"
    sqs.create_queue(queue, attributes={"FifoQueue": "true"})
    first, duplicate, second = (
        OutgoingMessage(ref=ref, body=ref, group_id="g", deduplication_id=dedup)
        for ref, dedup in (("a", "d1"), ("a-again", "d1"), ("b", "d2"))
    )

    sqs.send(queue, [first, duplicate])
    sqs.send(queue, [second])
    received = sqs.receive(queue, max_messages=10, wait_s=0)

    assert [(m.body, m.group_id) for m in received] == [("a", "g"), ("b", "g")]


def test_receive_maps_attributes_and_receive_count(moto_server: MotoSqs, sqs: SqsBroker) -> None:
    queue = moto_server.create_queue()
    sqs.send(queue, [OutgoingMessage(ref="r", body="b", attributes={"a": "1", "b": "two"})])

    (message,) = sqs.receive(queue, max_messages=20, wait_s=0)

    assert (message.queue_name, message.body, dict(message.attributes)) == (
        queue,
        "b",
        {"a": "1", "b": "two"},
    )
    assert message.receive_count == 1


def test_acks_go_in_batches_of_10_and_invalid_receipts_come_back(
    moto_server: MotoSqs, sqs: SqsBroker
) -> None:
    queue = moto_server.create_queue()
    sqs.send(queue, _messages(11))
    receipts = [m.receipt for m in sqs.receive(queue, max_messages=10, wait_s=0)]
    receipts += [m.receipt for m in sqs.receive(queue, max_messages=10, wait_s=0)]

    failed = sqs.ack(queue, [*receipts, "not-a-receipt"])

    assert failed == ["not-a-receipt"]
    assert sqs.api_calls()["DeleteMessageBatch"] == 2
    assert sqs.counts(queue).in_flight == 0


def test_changing_visibility_of_a_deleted_message_is_quiet(
    moto_server: MotoSqs, sqs: SqsBroker, caplog: pytest.LogCaptureFixture
) -> None:
    queue = moto_server.create_queue()
    sqs.send(queue, _messages(1))
    (message,) = sqs.receive(queue, max_messages=1, wait_s=0)
    sqs.ack(queue, [message.receipt])
    caplog.set_level(logging.DEBUG, logger="simple_worker")

    sqs.change_visibility(queue, [(message.receipt, 0)])

    ours = [(r.levelname, r.getMessage()) for r in caplog.records if r.name.startswith("simple")]
    assert ours == [
        ("DEBUG", f"visibility not changed on {queue}: message gone (ReceiptHandleIsInvalid)")
    ]


def test_a_closed_broker_refuses_work(moto_server: MotoSqs, sqs: SqsBroker) -> None:
    queue = moto_server.create_queue()
    sqs.queue_url(queue)
    sqs.close()

    with pytest.raises(BrokerError, match="closed"):
        sqs.counts(queue)


def test_create_queue_returns_its_url_and_caches_it(moto_server: MotoSqs, sqs: SqsBroker) -> None:
    url = sqs.create_queue("t-created", attributes={"VisibilityTimeout": "5"})

    assert url.endswith("/t-created")
    assert sqs.queue_url("t-created") == url
    assert "GetQueueUrl" not in sqs.api_calls()


# -- errors -----------------------------------------------------------------------------------


def test_a_missing_queue_says_how_to_create_it(sqs: SqsBroker) -> None:
    with pytest.raises(QueueNotFoundError) as caught:
        sqs.send("t-no-such-queue", _messages(1))

    assert isinstance(caught.value, LookupError)
    assert str(caught.value) == (
        "SQS queue 't-no-such-queue' does not exist in region us-east-1; create the queue "
        "(e.g. `aws sqs create-queue --queue-name t-no-such-queue`, or "
        "`simple-worker queues ensure`)"
    )


def test_connection_refused_is_a_quick_broker_error() -> None:
    broker = broker_from_url(_unreachable_url())
    started = time.monotonic()

    with pytest.raises(BrokerError) as caught:
        broker.receive("t-q", max_messages=1, wait_s=0)

    assert time.monotonic() - started < 5
    assert isinstance(caught.value.__cause__, EndpointConnectionError)
    assert str(caught.value).startswith("GetQueueUrl on SQS queue 't-q' failed: Could not connect")
    assert str(caught.value).endswith(
        "check the endpoint (host and port, or ?endpoint_url=) and the network"
    )


def test_missing_credentials_say_where_to_put_them(monkeypatch: pytest.MonkeyPatch) -> None:
    _isolate_from_aws_config(monkeypatch)
    broker = broker_from_url(f"sqs://127.0.0.1:{unused_port()}?region={REGION}&max_attempts=1")

    with pytest.raises(BrokerError, match="no usable AWS credentials found: set AWS_ACCESS_KEY_ID"):
        broker.counts("t-q")


def test_a_missing_region_says_how_to_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    _isolate_from_aws_config(monkeypatch)
    broker = broker_from_url("sqs://k:s@?max_attempts=1")

    with pytest.raises(BrokerError, match=r"set \?region= in the broker URL or AWS_DEFAULT_REGION"):
        broker.counts("t-q")


def _isolate_from_aws_config(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SQS",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata probe


# -- URLs ---------------------------------------------------------------------------------------


def test_the_seed_example_url_is_accepted_and_fails_clearly_on_first_use() -> None:
    broker = broker_from_url("sqs://yo@yo:")

    assert isinstance(broker, SqsBroker)
    assert repr(broker) == (
        "SqsBroker(region=None, endpoint_url='http://yo', profile=None, credentials='explicit')"
    )
    with pytest.raises(BrokerError, match="an access key id without a secret access key"):
        broker.counts("q")


def test_a_bare_url_uses_the_standard_chains_and_touches_nothing() -> None:
    broker = broker_from_url("sqs://")

    assert isinstance(broker, SqsBroker)
    assert repr(broker) == (
        "SqsBroker(region=None, endpoint_url=None, profile=None, credentials='default chain')"
    )
    assert broker.api_calls() == {}


def test_url_options_reach_the_broker() -> None:
    broker = broker_from_url(
        "sqs://?region=eu-west-1&endpoint_url=https://sqs.example:4566&profile=dev"
    )

    assert repr(broker) == (
        "SqsBroker(region='eu-west-1', endpoint_url='https://sqs.example:4566', "
        "profile='dev', credentials='default chain')"
    )


def test_credentials_are_percent_decoded(moto_server: MotoSqs) -> None:
    url = f"sqs://{quote(KEY_ID, safe='')}:{quote(SECRET, safe='')}@{moto_server.host_and_port}"
    broker = broker_from_url(url + f"?region={REGION}")
    assert isinstance(broker, SqsBroker)
    queue = moto_server.create_queue()

    broker.send(queue, _messages(1))  # signs with the decoded pair; moto accepts any

    credentials = broker._client()._request_signer._credentials  # type: ignore[attr-defined]
    assert (credentials.access_key, credentials.secret_key) == (KEY_ID, SECRET)
    broker.close()


def test_the_endpoint_comes_from_aws_endpoint_url_sqs(
    moto_server: MotoSqs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", moto_server.endpoint_url)
    queue = moto_server.create_queue()
    broker = broker_from_url(f"sqs://testing:testing@?region={REGION}")

    broker.send(queue, _messages(1))

    assert [m.body for m in broker.receive(queue, max_messages=1, wait_s=0)] == ["0"]
    broker.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "sqs://?regoin=x",
            "unknown option 'regoin' in broker URL sqs://?...; allowed: region, endpoint_url, "
            "profile, max_attempts, connect_timeout, read_timeout, max_connections, wait_time",
        ),
        ("sqs://h:1?endpoint_url=http://x", "gives both a host and ?endpoint_url=; give one"),
        ("sqs://h:notaport", "broker URL sqs://h:notaport has an invalid port"),
        ("sqs://h:1/queue", "has a path '/queue'; an sqs:// URL names no queue"),
        ("sqs://?max_attempts=two", "option 'max_attempts' in broker URL sqs://?... must be a"),
        ("sqs://?read_timeout=5", "read_timeout_s must be more than the 20 s long poll"),
        ("sqs://?max_attempts=0", "max_attempts must be >= 1, got 0"),
    ],
)
def test_bad_urls_are_clear_errors(url: str, message: str) -> None:
    with pytest.raises(BrokerURLError) as caught:
        broker_from_url(url)

    assert message in str(caught.value)


# -- secrets --------------------------------------------------------------------------------------


def test_secrets_are_absent_from_reprs_errors_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    broker = broker_from_url(_unreachable_url())
    url_error = _url_error(_unreachable_url("&colour=blue"))

    with pytest.raises(BrokerError) as caught:
        broker.send("t-q", _messages(1))

    texts = [repr(broker), str(caught.value), str(url_error), repr(caught.value)]
    logged = [record.getMessage() for record in caplog.records]
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("simple_worker")]
    assert ours  # the client creation was logged
    for text in texts + logged:
        assert SECRET not in text
        assert quote(SECRET, safe="") not in text
    for text in texts + ours:  # botocore's own DEBUG lines carry the key id, never the secret
        assert KEY_ID not in text


def test_a_secret_echoed_by_the_service_is_scrubbed(moto_server: MotoSqs) -> None:
    secret_queue = "t-queue-named-like-the-secret"
    broker = SqsBroker(
        region=REGION,
        endpoint_url=moto_server.endpoint_url,
        access_key_id="testing",
        secret_access_key=secret_queue,
    )

    with pytest.raises(QueueNotFoundError) as caught:
        broker.counts(secret_queue)  # the queue name echoes the "secret" back

    assert secret_queue not in str(caught.value)
    assert "***" in str(caught.value)


def _url_error(url: str) -> BrokerURLError:
    try:
        broker_from_url(url)
    except BrokerURLError as exc:
        return exc
    raise AssertionError(f"no error for {url}")


def test_wait_time_sets_the_long_poll() -> None:
    assert broker_from_url("sqs://127.0.0.1:1?wait_time=2").long_poll_s == 2.0
    assert broker_from_url("sqs://127.0.0.1:1").long_poll_s == 20.0
    with pytest.raises(BrokerURLError, match="long_poll_s must be 1 to 20 seconds, got 21"):
        broker_from_url("sqs://127.0.0.1:1?wait_time=21")
