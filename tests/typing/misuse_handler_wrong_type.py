"""A handler whose parameter has the wrong type for the task."""

from generated import tasks
from simple_worker import App


def register(app: App) -> None:
    @app.register_task_handler(tasks.add)  # type: ignore[arg-type]
    def add(a: str, b: int) -> str:
        return a * b
