"""A producer called without a required argument."""

from generated import Producers
from simple_worker import App


def produce(app: App) -> str:
    return Producers(app).add(a=1)  # type: ignore[call-arg]
