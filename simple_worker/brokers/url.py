"""Turn a broker URL (``memory://...``, ``sqs://...``) into a broker instance."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from simple_worker.brokers.base import Broker
from simple_worker.brokers.memory import MemoryBroker
from simple_worker.errors import BrokerURLError

_MEMORY_OPTIONS = ("visibility_timeout", "max_receive_count", "max_message_bytes")


def broker_from_url(url: str) -> Broker:
    """Build the broker a URL names; raise ``BrokerURLError`` saying what is wrong."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return _memory_broker(url)
    raise BrokerURLError(
        f"unsupported broker URL scheme {scheme!r} in {_redacted(url)}; "
        "use memory://localhost (in-process, for tests)"
    )


def _memory_broker(url: str) -> MemoryBroker:
    options = _query_options(url, allowed=_MEMORY_OPTIONS)
    visibility = options.get("visibility_timeout")
    max_receives = options.get("max_receive_count")
    max_bytes = options.get("max_message_bytes")
    return MemoryBroker(
        visibility_timeout_s=30 if visibility is None else visibility,
        max_receive_count=max_receives,
        max_message_bytes=1_048_576 if max_bytes is None else max_bytes,
    )


def _query_options(url: str, *, allowed: tuple[str, ...]) -> dict[str, int]:
    query = parse_qs(urlsplit(url).query, keep_blank_values=True)
    options: dict[str, int] = {}
    for key, values in query.items():
        if key not in allowed:
            raise BrokerURLError(
                f"unknown option {key!r} in broker URL {_redacted(url)}; "
                f"allowed: {', '.join(allowed)}"
            )
        try:
            options[key] = int(values[-1])
        except ValueError:
            raise BrokerURLError(
                f"option {key!r} in broker URL {_redacted(url)} must be a whole number, "
                f"got {values[-1]!r}"
            ) from None
        if options[key] < 0:
            raise BrokerURLError(f"option {key!r} in broker URL must be >= 0")
    return options


def _redacted(url: str) -> str:
    """The URL without user info, so credentials never reach an error message."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
