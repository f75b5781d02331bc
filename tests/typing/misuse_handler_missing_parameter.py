"""A handler that lacks one of the task's arguments."""

from generated import tasks
from simple_worker import App


def register(app: App) -> None:
    @app.register_task_handler(tasks.add)  # type: ignore[arg-type]
    def add(a: int) -> int:
        return a
