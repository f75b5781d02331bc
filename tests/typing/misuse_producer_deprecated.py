"""Calling the producer of a deprecated task (PEP 702; mypy needs --enable-error-code deprecated).

A single deprecated argument cannot be flagged by a type checker: it warns at run time only.
"""

from golden_deprecated import Producers

from simple_worker import App


def produce(app: App) -> str:
    return Producers(app).send_mail_old(to="a@example.com")  # type: ignore[deprecated]
