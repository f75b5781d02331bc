"""A handler that takes a different record than the task sends."""

from generated import Address, tasks
from simple_worker import App


def register(app: App) -> None:
    @app.register_task_handler(tasks.plan_route)  # type: ignore[arg-type]
    def plan_route(route: Address, **options: object) -> None:
        del route, options
