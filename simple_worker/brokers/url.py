"""Turn a broker URL (``memory://...``, ``sqs://...``) into a broker instance.

The SQS forms (building the broker never touches the network; errors come on first use)::

    sqs://                      boto3's standard credential, region and endpoint chains
    sqs://KEY:SECRET@           explicit credentials, percent-encoded (%2F for /, %40 for @)
    sqs://HOST:PORT             endpoint http://HOST:PORT (a local SQS such as moto)
    ?region=us-east-1           the region (else AWS_DEFAULT_REGION, profile, ...)
    ?endpoint_url=https://...   the endpoint (else AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL)
    ?profile=NAME               a profile from the AWS config files
    ?max_attempts=N  ?connect_timeout=S  ?read_timeout=S  ?max_connections=N   client tuning
"""

from __future__ import annotations

from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

from simple_worker.brokers.base import Broker
from simple_worker.brokers.memory import MemoryBroker
from simple_worker.errors import BrokerURLError

_MEMORY_OPTIONS = ("visibility_timeout", "max_receive_count", "max_message_bytes")
_SQS_OPTIONS = (
    "region",
    "endpoint_url",
    "profile",
    "max_attempts",
    "connect_timeout",
    "read_timeout",
    "max_connections",
    "wait_time",
)


def broker_from_url(url: str) -> Broker:
    """Build the broker a URL names; raise ``BrokerURLError`` saying what is wrong."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return _memory_broker(url)
    if scheme == "sqs":
        return _sqs_broker(url)
    raise BrokerURLError(
        f"unsupported broker URL scheme {scheme!r} in {redacted_url(url)}; "
        "use sqs://[KEY:SECRET@][HOST:PORT][?region=...] (Amazon SQS) "
        "or memory://localhost (in-process, for tests)"
    )


def _sqs_broker(url: str) -> Broker:
    # Imported here so that boto3 loads only when an SQS broker is asked for.
    from simple_worker.brokers import sqs  # noqa: PLC0415

    parts = urlsplit(url)
    options = _text_options(url, allowed=_SQS_OPTIONS)
    if parts.path not in ("", "/"):
        raise BrokerURLError(
            f"broker URL {redacted_url(url)} has a path {parts.path!r}; an sqs:// URL names no "
            "queue (queue names come from the app's prefix and routes)"
        )
    endpoint_url = _sqs_endpoint(url, parts, options.get("endpoint_url"))
    access_key_id, secret_access_key = _credentials(parts)
    try:
        return sqs.SqsBroker(
            region=options.get("region") or None,
            endpoint_url=endpoint_url,
            profile=options.get("profile") or None,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            max_attempts=_whole(url, options, "max_attempts", sqs.DEFAULT_MAX_ATTEMPTS),
            connect_timeout_s=_seconds(
                url, options, "connect_timeout", sqs.DEFAULT_CONNECT_TIMEOUT_S
            ),
            read_timeout_s=_seconds(url, options, "read_timeout", sqs.DEFAULT_READ_TIMEOUT_S),
            max_pool_connections=_whole(
                url, options, "max_connections", sqs.DEFAULT_MAX_POOL_CONNECTIONS
            ),
            long_poll_s=_whole(url, options, "wait_time", sqs.LONG_POLL_S),
        )
    except ValueError as exc:
        raise BrokerURLError(f"broker URL {redacted_url(url)}: {exc}") from None


def _sqs_endpoint(url: str, parts: SplitResult, endpoint_option: str | None) -> str | None:
    host_and_port = parts.netloc.rpartition("@")[2].removesuffix(":")
    try:
        parts.port  # noqa: B018 (validates the port)
    except ValueError:
        raise BrokerURLError(
            f"broker URL {redacted_url(url)} has an invalid port; use sqs://HOST:PORT"
        ) from None
    if host_and_port and endpoint_option:
        raise BrokerURLError(
            f"broker URL {redacted_url(url)} gives both a host and ?endpoint_url=; give one"
        )
    if host_and_port:
        return f"http://{host_and_port}"
    return endpoint_option or None  # None: boto3 reads AWS_ENDPOINT_URL_SQS itself


def _credentials(parts: SplitResult) -> tuple[str | None, str | None]:
    """Key id and secret from the user info, percent-decoded; checked on first use, not here."""
    userinfo, has_userinfo, _ = parts.netloc.rpartition("@")
    if not has_userinfo:
        return None, None
    key, _, secret = userinfo.partition(":")
    return unquote(key), unquote(secret)


def _whole(url: str, options: dict[str, str], name: str, default: int) -> int:
    if name not in options:
        return default
    try:
        return int(options[name])
    except ValueError:
        raise BrokerURLError(
            f"option {name!r} in broker URL {redacted_url(url)} must be a whole number, "
            f"got {options[name]!r}"
        ) from None


def _seconds(url: str, options: dict[str, str], name: str, default: float) -> float:
    if name not in options:
        return default
    try:
        return float(options[name])
    except ValueError:
        raise BrokerURLError(
            f"option {name!r} in broker URL {redacted_url(url)} must be a number of seconds, "
            f"got {options[name]!r}"
        ) from None


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
                f"unknown option {key!r} in broker URL {redacted_url(url)}; "
                f"allowed: {', '.join(allowed)}"
            )
        try:
            options[key] = int(values[-1])
        except ValueError:
            raise BrokerURLError(
                f"option {key!r} in broker URL {redacted_url(url)} must be a whole number, "
                f"got {values[-1]!r}"
            ) from None
        if options[key] < 0:
            raise BrokerURLError(f"option {key!r} in broker URL must be >= 0")
    return options


def _text_options(url: str, *, allowed: tuple[str, ...]) -> dict[str, str]:
    query = parse_qs(urlsplit(url).query, keep_blank_values=True)
    unknown = sorted(set(query) - set(allowed))
    if unknown:
        raise BrokerURLError(
            f"unknown option {unknown[0]!r} in broker URL {redacted_url(url)}; "
            f"allowed: {', '.join(allowed)}"
        )
    return {key: values[-1] for key, values in query.items()}


def redacted_url(url: str) -> str:
    """The URL without user info or query, so credentials never reach a message or repr."""
    parts = urlsplit(url)
    host_and_port = parts.netloc.rpartition("@")[2]
    query = "?..." if parts.query else ""
    return f"{parts.scheme}://{host_and_port}{parts.path}{query}"
