"""A handler with a required parameter the task does not have."""

from generated import tasks
from simple_worker import App


def register(app: App) -> None:
    @app.register_task_handler(tasks.add)  # type: ignore[arg-type]
    def add(a: int, b: int, c: int) -> int:
        return a + b + c
