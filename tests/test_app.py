"""The App: registration, producing, batching and the errors for bad input."""

from __future__ import annotations

import json

import pytest

import simple_worker
from simple_worker import (
    App,
    DuplicateHandlerError,
    HandlerSignatureError,
    MemoryBroker,
    PayloadTooLargeError,
    PayloadValidationError,
    UnknownTaskError,
)
from simple_worker.wire import TASK_ID_ATTRIBUTE


def _register_add(app: App) -> None:
    @app.register_task_handler("add")
    def add(a: int, b: int = 0) -> None:
        pass


def test_public_namespace_is_sorted_and_importable() -> None:
    assert simple_worker.__all__ == sorted(simple_worker.__all__)
    for name in simple_worker.__all__:
        assert getattr(simple_worker, name) is not None


def test_app_init_and_app_take_the_same_arguments() -> None:
    app = App.init(broker_url="memory://localhost?visibility_timeout=5", queue_prefix="p-")

    assert isinstance(app.broker, MemoryBroker)
    assert app.broker.visibility_timeout_s("p-default") == 5
    assert app.queue_name("default") == "p-default"


def test_add_task_sends_the_seed_body_with_a_task_id(app: App, broker: MemoryBroker) -> None:
    _register_add(app)

    task_id = app.add_task("add", {"a": 1, "b": 2})

    (message,) = broker.messages("test-default")
    assert message.body == '{"task_name": "add", "task_payload": {"a": 1, "b": 2}}'
    assert message.attributes == {TASK_ID_ATTRIBUTE: task_id}
    assert len(task_id) == 36


def test_handlers_route_to_their_queue(app: App, broker: MemoryBroker) -> None:
    @app.register_task_handler("send", queue="emails")
    def send(to: str) -> None:
        pass

    app.add_task("send", {"to": "x@example.com"})

    assert app.queue_counts("emails").visible == 1
    assert app.queue_counts("default").visible == 0


def test_registering_a_task_twice_is_refused(app: App) -> None:
    _register_add(app)

    with pytest.raises(DuplicateHandlerError, match="task 'add' already has a handler"):
        _register_add(app)


def test_a_handler_with_star_args_is_refused(app: App) -> None:
    with pytest.raises(HandlerSignatureError) as caught:

        @app.register_task_handler("t")
        def handler(*args: int) -> None:
            pass

    assert caught.value.problems == ("takes *args; tasks take keyword arguments only",)


def test_a_handler_with_positional_only_parameters_is_refused(app: App) -> None:
    with pytest.raises(HandlerSignatureError, match="parameter 'a' is positional-only"):

        @app.register_task_handler("t")
        def handler(a: int, /) -> None:
            pass


@pytest.mark.parametrize("payload", [[1, 2], (1, 2), "a=1", 3])
def test_a_non_mapping_payload_is_a_type_error(app: App, payload: object) -> None:
    _register_add(app)

    with pytest.raises(TypeError, match="positional arguments are not allowed"):
        app.add_task("add", payload)  # type: ignore[arg-type]


def test_an_unknown_task_is_refused_naming_the_known_ones(app: App) -> None:
    _register_add(app)

    with pytest.raises(UnknownTaskError) as caught:
        app.add_task("sub", {"a": 1})

    assert str(caught.value) == (
        "unknown task 'sub' (known tasks: add); register a handler with "
        "@app.register_task_handler('sub') or add it to the contract"
    )
    assert isinstance(caught.value, LookupError)


def test_missing_and_unexpected_keys_are_all_reported(app: App, broker: MemoryBroker) -> None:
    _register_add(app)

    with pytest.raises(PayloadValidationError) as caught:
        app.add_task("add", {"b": 2, "c": 3, "d": 4})

    assert caught.value.errors == (
        "a: missing",
        "c: unexpected argument (handler takes: a, b)",
        "d: unexpected argument (handler takes: a, b)",
    )
    assert broker.messages("test-default") == []


def test_a_handler_with_kwargs_accepts_any_key(app: App) -> None:
    @app.register_task_handler("log")
    def log(**fields: object) -> None:
        pass

    app.add_task("log", {"anything": 1})

    assert app.queue_counts("default").visible == 1


def test_a_value_json_cannot_carry_is_a_validation_error(app: App) -> None:
    _register_add(app)

    with pytest.raises(PayloadValidationError) as caught:
        app.add_task("add", {"a": {1, 2}, "b": float("inf")})

    assert caught.value.errors == (
        "a: set is not a JSON value; pass str, int, float, bool, None, list or dict "
        "(or declare the argument's type in a contract)",
        "b: inf cannot be represented in JSON",
    )


def test_a_message_over_the_limit_is_refused_before_sending(broker: MemoryBroker) -> None:
    app = App(broker=broker, max_message_bytes=200)
    _register_add(app)

    with pytest.raises(PayloadTooLargeError) as caught:
        app.add_task("add", {"a": "x" * 200})

    assert caught.value.limit_bytes == 200
    assert "over the limit of 200 bytes; nothing was sent" in str(caught.value)
    assert broker.messages("default") == []


def test_the_default_limit_is_sqs_one_mebibyte(app: App) -> None:
    _register_add(app)
    app.add_task("add", {"a": "x" * 1_040_000})

    with pytest.raises(PayloadTooLargeError, match="1,048,576 bytes"):
        app.add_task("add", {"a": "x" * 1_048_576})


def test_the_broker_limit_applies_when_smaller() -> None:
    app = App(broker=MemoryBroker(max_message_bytes=100))
    _register_add(app)

    with pytest.raises(PayloadTooLargeError, match="over the limit of 100 bytes"):
        app.add_task("add", {"a": "x" * 100})


@pytest.mark.parametrize("delay", [-1, 901, 1.5, True])
def test_delay_seconds_must_be_within_sqs_limits(app: App, delay: object) -> None:
    _register_add(app)

    with pytest.raises(ValueError, match="delay_seconds must be a whole number from 0 to 900"):
        app.add_task("add", {"a": 1}, delay_seconds=delay)  # type: ignore[arg-type]


def test_a_delayed_task_is_delayed(app: App) -> None:
    _register_add(app)

    app.add_task("add", {"a": 1}, delay_seconds=60)

    assert app.queue_counts("default").delayed == 1


def test_a_batch_sends_when_the_block_exits(app: App) -> None:
    _register_add(app)

    with app.batch():
        ids = [app.add_task("add", {"a": i}) for i in range(25)]
        assert app.queue_counts("default").visible == 0

    assert app.queue_counts("default").visible == 25
    assert len(set(ids)) == 25


def test_a_batch_that_raises_sends_nothing(app: App) -> None:
    _register_add(app)

    def enqueue_then_fail() -> None:
        with app.batch():
            app.add_task("add", {"a": 1})
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        enqueue_then_fail()

    assert app.queue_counts("default").visible == 0


def test_nested_batches_send_once_at_the_outer_exit(app: App) -> None:
    _register_add(app)

    with app.batch():
        with app.batch():
            app.add_task("add", {"a": 1})
        assert app.queue_counts("default").visible == 0

    assert app.queue_counts("default").visible == 1


def test_a_batch_validates_each_task_when_it_is_added(app: App) -> None:
    _register_add(app)

    with app.batch():
        app.add_task("add", {"a": 1})
        with pytest.raises(PayloadValidationError):
            app.add_task("add", {})

    assert app.queue_counts("default").visible == 1


def test_the_repr_hides_credentials() -> None:
    app = App(broker_url="memory://user:s3cret@localhost?visibility_timeout=5")

    assert "s3cret" not in repr(app)
    assert repr(app) == "App(broker_url='memory://localhost?...', queue_prefix='')"


def test_an_unknown_broker_scheme_is_a_clear_error() -> None:
    with pytest.raises(
        simple_worker.errors.BrokerURLError, match="unsupported broker URL scheme 'redis'"
    ):
        App(broker_url="redis://localhost")


def test_an_unknown_memory_option_is_a_clear_error() -> None:
    with pytest.raises(simple_worker.errors.BrokerURLError, match="unknown option 'visibility'"):
        App(broker_url="memory://localhost?visibility=3")


def test_payload_json_round_trips_unchanged(app: App, broker: MemoryBroker) -> None:
    @app.register_task_handler("t")
    def handler(data: object) -> None:
        pass

    data = {"list": [1, 2.5, None, True, "ü"], "nested": {"x": []}}
    app.add_task("t", {"data": data})

    (message,) = broker.messages("test-default")
    assert json.loads(message.body)["task_payload"]["data"] == data


class _RefusingBroker(MemoryBroker):
    """A memory broker whose sends fail, as when SQS cannot be reached."""

    def send(self, queue_name: str, messages: object) -> list[str]:  # type: ignore[override]
        raise simple_worker.errors.BrokerError("SendMessage failed: connection refused")


def test_a_failed_send_names_the_task_that_was_not_sent() -> None:
    app = App(broker=_RefusingBroker())
    _register_add(app)

    with pytest.raises(simple_worker.errors.BrokerError) as caught:
        app.add_task("add", {"a": 1})

    (note,) = caught.value.__notes__
    assert note.startswith("not sent to default: 1 tasks (task ids ")


def test_a_failed_batch_names_every_task_that_was_not_sent() -> None:
    app = App(broker=_RefusingBroker())
    _register_add(app)
    ids = []

    with pytest.raises(simple_worker.errors.BrokerError) as caught, app.batch():
        ids = [app.add_task("add", {"a": i}) for i in range(3)]

    assert caught.value.__notes__ == [f"not sent to default: 3 tasks (task ids {', '.join(ids)})"]
