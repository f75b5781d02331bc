"""A producer called with a value of the wrong type."""

from generated import Producers
from simple_worker import App


def produce(app: App) -> str:
    return Producers(app).add(a="1", b=2)  # type: ignore[arg-type]
