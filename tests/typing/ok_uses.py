"""Correct uses of the generated package: mypy --strict must accept every line."""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Literal

from generated import (
    CONTRACT,
    AddHandler,
    Address,
    Producers,
    Route,
    SendWelcomeEmailHandler,
    Stop,
    tasks,
)
from simple_worker import App, TaskRef
from simple_worker.contract import Contract


def register(app: App) -> None:
    @app.register_task_handler(tasks.add)
    def add(a: int, b: int) -> int:
        return a + b

    @app.register_task_handler(tasks.always_fails, queue="default")
    def always_fails(*, reason: str) -> None:
        raise RuntimeError(reason)

    @app.register_task_handler(tasks.send_welcome_email)
    def send_welcome_email(
        *,
        user_id: int,
        email: str,
        locale: str,
        tags: list[str],
        referrer: str | None,
        shipping: Address | None,
    ) -> None:
        del user_id, email, locale, tags, referrer, shipping

    @app.register_task_handler(tasks.plan_route)
    def plan_route(route: Route, **options: object) -> None:
        del route, options

    @app.register_task_handler("a_task_outside_the_contract")
    def untyped(x: int) -> int:
        return x

    the_add: AddHandler = add
    welcome: SendWelcomeEmailHandler = send_welcome_email
    del the_add, welcome, always_fails, plan_route, untyped


def produce(app: App) -> list[str]:
    producers = Producers(app)
    later = producers.with_options(delay_seconds=60)
    route = Route(name="north", stops=[Stop(x=1.0, y=2.0), Stop(x=3.0, y=4.0, label=None)])
    address = Address(street="Main St 1", city="Utrecht", postcode="3511 AA")
    vehicle: Literal["bike", "van", "truck"] = "bike"
    return [
        producers.add(a=1, b=2),
        later.always_fails(reason="demo"),
        producers.plan_route(route=route),
        producers.plan_route(route=route, vehicle=vehicle, depart_at=None, avoid_tolls=True),
        producers.send_welcome_email(
            user_id=1, email="a@example.com", referrer=None, shipping=address
        ),
        producers.build_invoice_report(
            customer_id=uuid.uuid4(),
            period_start=datetime.date(2024, 1, 1),
            min_amount=decimal.Decimal("10.00"),
            totals_by_region={"north": decimal.Decimal("1.5")},
            billing_address=address,
            include_regions=None,
        ),
    ]


def typed_names() -> tuple[Contract, TaskRef[AddHandler], str]:
    return CONTRACT, tasks.add, tasks.send_welcome_email.name
