"""A producer called with positional arguments."""

from generated import Producers
from simple_worker import App


def produce(app: App) -> str:
    return Producers(app).add(1, 2)  # type: ignore[call-arg]
