"""The pytest plugin (``simple_worker.testing``), run on a small user test file by pytester."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

# In-process runs: simple_worker is imported already, so pytest cannot assertion-rewrite it.
QUIET = ("-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning")

USER_TESTS = '''
import pytest

from simple_worker import App, PayloadValidationError
from simple_worker.testing import drain

CONTRACT = """
version = 1

[tasks.send_welcome_email]
queue = "emails"
[tasks.send_welcome_email.args]
user_id = "int"
locale = { type = "str", default = "en" }
"""


def test_a_handler_in_one_line(simple_worker_app: App) -> None:
    sent = []

    @simple_worker_app.register_task_handler("greet")
    def greet(name: str) -> None:
        sent.append(name)

    simple_worker_app.add_task("greet", {"name": "Ann"})
    assert drain(simple_worker_app) == 1
    assert sent == ["Ann"]
    assert simple_worker_app.queue_prefix == "test-"


def test_handler_errors_propagate(simple_worker_app: App) -> None:
    @simple_worker_app.register_task_handler("fails")
    def fails() -> None:
        raise ValueError("broken handler")

    simple_worker_app.add_task("fails", {})
    with pytest.raises(ValueError, match="broken handler"):
        drain(simple_worker_app)


def test_apps_are_fresh(simple_worker_app: App) -> None:
    assert simple_worker_app.queue_counts("default").visible == 0


def test_a_contract_app(simple_worker_make_app, tmp_path) -> None:
    path = tmp_path / "tasks.toml"
    path.write_text(CONTRACT)
    app = simple_worker_make_app(path)
    seen = []

    @app.register_task_handler("send_welcome_email")
    def send_welcome_email(user_id: int, locale: str) -> None:
        seen.append((user_id, locale))

    with pytest.raises(PayloadValidationError):
        app.add_task("send_welcome_email", {"user_id": "7"})
    app.add_task("send_welcome_email", {"user_id": 7})
    drain(app, ["emails"])
    assert seen == [(7, "en")]


def test_retries_and_dead_letters_with_the_clock(simple_worker_make_app, simple_worker_clock):
    app = simple_worker_make_app(visibility_timeout_s=10, max_receive_count=2)
    calls = []

    @app.register_task_handler("flaky")
    def flaky() -> None:
        calls.append(1)
        raise RuntimeError("down")

    app.add_task("flaky", {})
    worker = app.worker()
    for _ in range(3):
        worker.drain(raise_errors=False)
        simple_worker_clock.advance(11)
    assert len(calls) == 2
    assert app.queue_counts("default-dlq").visible == 1
'''


def test_the_plugin_gives_user_tests_apps_and_drain(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)

    result = pytester.runpytest(*QUIET)

    result.assert_outcomes(passed=5)


def test_the_fixtures_are_listed(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--fixtures", *QUIET)

    result.stdout.fnmatch_lines(
        [
            "*fixtures defined from simple_worker.testing*",
            "simple_worker_clock*",
            "simple_worker_make_app*",
            "simple_worker_app*",
            "*fresh memory broker*",
        ]
    )
