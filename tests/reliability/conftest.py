"""Quiet moto's request log (one line per HTTP request) in the reliability tests' output."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _quiet_moto_request_log() -> Iterator[None]:
    werkzeug = logging.getLogger("werkzeug")
    previous = werkzeug.level
    werkzeug.setLevel(logging.WARNING)
    yield
    werkzeug.setLevel(previous)
