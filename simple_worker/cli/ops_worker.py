"""``simple-worker worker MODULE:APP``: import an app and run its worker until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any

from simple_worker.app import App
from simple_worker.cli.common import EXIT_OK, UsageError, positive_int

DEFAULT_APP_ATTRIBUTE = "app"

_DESCRIPTION = """\
Import MODULE (the current directory is on the import path) and run the worker of the App named
APP in it (default: `app`), e.g. `simple-worker worker myproject.tasks:app`. The broker, prefix
and handlers are the app's. Runs until SIGTERM or SIGINT, then stops gracefully (running tasks
finish; a second signal stops at once) and exits 0.
"""


def add_parser(commands: argparse._SubParsersAction[Any], parent: argparse.ArgumentParser) -> None:
    worker = commands.add_parser(
        "worker", parents=[parent], help="run a worker for an app", description=_DESCRIPTION
    )
    worker.add_argument("app", metavar="MODULE:APP", help="where the App is, e.g. tasks:app")
    worker.add_argument(
        "--queue",
        action="append",
        dest="queues",
        metavar="Q",
        help="a short queue name to consume (repeat; default: every queue with a handler)",
    )
    worker.add_argument(
        "--concurrency",
        type=positive_int,
        default=1,
        metavar="N",
        help="handler threads (default 1)",
    )
    worker.add_argument(
        "--receivers-per-queue",
        type=positive_int,
        default=None,
        metavar="R",
        help="receive threads per queue (default: 1 at concurrency 1, 2 up to 11, 3 up to 23, "
        "then 4; the extra ones poll only while the queue is busy)",
    )
    worker.add_argument(
        "--shutdown-grace",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds running tasks get to finish on a stop (default 30)",
    )
    worker.set_defaults(run=run_worker, default_log_level="INFO")


def run_worker(args: argparse.Namespace) -> int:
    app = load_app(args.app)
    worker = app.worker(
        args.queues,
        concurrency=args.concurrency,
        shutdown_grace_s=args.shutdown_grace,
        receivers_per_queue=args.receivers_per_queue,
    )
    if not worker.queues:
        raise UsageError(
            f"{args.app} has no handlers registered, so the worker has no queues; register "
            "handlers with @app.register_task_handler, or pass --queue"
        )
    worker.start()  # fails fast on a missing queue, bad credentials or endpoint
    return EXIT_OK


def load_app(path: str) -> App:
    """The App at ``MODULE:ATTRIBUTE`` (``MODULE`` alone means attribute ``app``)."""
    module_name, _, attribute = path.partition(":")
    attribute = attribute or DEFAULT_APP_ATTRIBUTE
    if not module_name or not all(part.isidentifier() for part in module_name.split(".")):
        raise UsageError(f"{path!r} is not MODULE:APP, e.g. myproject.tasks:app")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name + ".").startswith(exc.name + "."):
            raise UsageError(
                f"cannot import {module_name!r}: no module {exc.name!r} in {os.getcwd()} or on "
                "the Python path; run from the project's directory or set PYTHONPATH"
            ) from exc
        raise UsageError(f"importing {module_name!r} failed: {exc}") from exc
    except Exception as exc:
        raise UsageError(
            f"importing {module_name!r} failed: {type(exc).__name__}: {exc} "
            "(rerun with --debug for the traceback)"
        ) from exc
    app = getattr(module, attribute, None)
    if app is None:
        raise UsageError(f"module {module_name!r} has no attribute {attribute!r}")
    if not isinstance(app, App):
        raise UsageError(
            f"{module_name}:{attribute} is a {type(app).__name__}, not a simple_worker App"
        )
    return app
