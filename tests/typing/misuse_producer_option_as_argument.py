"""Options are not task arguments: they go through with_options()."""

from generated import Producers
from simple_worker import App


def produce(app: App) -> str:
    return Producers(app).add(a=1, b=2, delay_seconds=5)  # type: ignore[call-arg]
