"""One rule for the client's retry settings, whichever path sends: only the library retries.

The library's :class:`~tctf_dynamo.resilience.RetryPolicy` decides every retry: it knows
which writes are safe to repeat, keeps one deadline and feeds the circuit breaker. If
botocore retried as well, each library attempt would become up to N sends (3 x 4 = 12
with botocore's defaults), and a write botocore repeated after a lost answer would be
reported as applied once. So:

* clients the library builds (``from_endpoint``) always have botocore's retries off; a
  ``Config(retries=...)`` passed in becomes the library's attempt budget instead
  (:func:`library_config`), and a retry ``mode`` it cannot honour (``adaptive``
  client-side rate limiting) is warned about;
* a client passed in keeps its settings (they cannot be changed after creation). The
  fast path never lets botocore retry; an operation that goes through botocore's path on
  a client whose retries are on would be multiplied, so the provider warns once, naming
  the client's attempt count and the fix (:func:`client_attempts`).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Final

from botocore.config import Config

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.providers.errors import translate_exception

if TYPE_CHECKING:
    from botocore.client import BaseClient

__all__ = [
    "LEGACY_DEFAULT_ATTEMPTS",
    "SERVICE_NAME",
    "client_config",
    "endpoint_client",
    "endpoint_config",
    "session_of",
    "client_attempts",
    "library_config",
    "requested_attempts",
    "warn_client_retries",
]

SERVICE_NAME: Final = "dynamodb"
LEGACY_DEFAULT_ATTEMPTS: Final = 10
"""botocore's legacy retry mode sends DynamoDB requests up to ten times."""
STANDARD_DEFAULT_ATTEMPTS: Final = 3


def requested_attempts(retries: dict[str, Any] | None) -> int | None:
    """Total attempts a ``Config(retries=...)`` dict asks for, or ``None`` if it names none."""
    if not retries:
        return None
    if "total_max_attempts" in retries:
        return int(retries["total_max_attempts"])
    if "max_attempts" in retries:
        return int(retries["max_attempts"]) + 1
    return None


def client_attempts(client: Any) -> int:
    """How many times the client's botocore would send one call (1 means no retries)."""
    retries = getattr(client.meta.config, "retries", None) or {}
    attempts = requested_attempts(retries)
    if attempts is not None:
        return attempts
    if retries.get("mode", "legacy") == "legacy":
        return LEGACY_DEFAULT_ATTEMPTS
    return STANDARD_DEFAULT_ATTEMPTS


def library_config(base: Config, user: Config | None) -> tuple[Config, int | None, str | None]:
    """``base`` overridden by the user's settings, botocore's retries still off.

    Returns the merged configuration, the attempts the user's ``retries`` asked for (to
    become the library's budget) and the retry mode they named, if any.
    """
    if user is None:
        return base, None, None
    retries = getattr(user, "retries", None)
    merged = base.merge(user).merge(Config(retries={"total_max_attempts": 1, "mode": "standard"}))
    mode = retries.get("mode") if retries else None
    return merged, requested_attempts(retries), mode


def warn_client_retries(operation: str, client: Any, stacklevel: int) -> None:
    """Warn that ``client`` (whose retries are on) may send each library attempt of
    ``operation`` several times, naming the count and the fix."""
    attempts = client_attempts(client)
    warnings.warn(
        f"{operation} goes through botocore's path on a client that retries up to "
        f"{attempts} times by itself, so each of the library's attempts may be sent "
        f"{attempts} times; build the client with config=client_config() or "
        "Config(retries={'total_max_attempts': 1})",
        UserWarning,
        stacklevel=stacklevel + 1,
    )


def client_config(
    *,
    connect_timeout: float = 5.0,
    read_timeout: float = 30.0,
    max_pool_connections: int = 10,
    parameter_validation: bool = False,
    **extra: Any,
) -> Config:
    """The botocore configuration every client the library builds uses.

    Parameter validation is off by default because the library validated the request
    already; doing it twice costs CPU on every call.
    """
    return Config(
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_pool_connections=max_pool_connections,
        parameter_validation=parameter_validation,
        tcp_keepalive=True,
        **extra,
    )


def endpoint_config(
    *,
    connect_timeout: float,
    read_timeout: float,
    max_pool_connections: int,
    parameter_validation: bool,
    config: Config | None,
    profile_name: str | None,
    botocore_session: Any,
    stacklevel: int = 3,
) -> tuple[Config, int | None]:
    """The configuration of a client the library builds, and the attempts the user's
    ``config`` asked for: one rule for every provider with a ``from_endpoint``.
    ``stacklevel`` points a warning at the caller of that ``from_endpoint``."""
    if profile_name is not None and botocore_session is not None:
        raise error_for(
            ErrorCode.INVALID_CONFIGURATION,
            "give profile_name or botocore_session, not both: a session has its profile",
            {"profile_name": profile_name},
        )
    base = client_config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_pool_connections=max_pool_connections,
        parameter_validation=parameter_validation,
    )
    merged, attempts, mode = library_config(base, config)
    if mode == "adaptive":
        warnings.warn(
            "retry mode 'adaptive' is not honoured: the library's retry policy retries "
            "with backoff and its circuit breaker sheds load; botocore's retries are off",
            UserWarning,
            stacklevel=stacklevel,
        )
    return merged, attempts


def endpoint_client(
    botocore_session: Any, profile_name: str | None, **arguments: Any
) -> BaseClient:
    """A DynamoDB client from ``botocore_session`` (or a session of ``profile_name``),
    failures translated."""
    try:
        session = botocore_session or session_of(profile_name)
        client: BaseClient = session.create_client(SERVICE_NAME, **arguments)
    except Exception as exc:
        raise translate_exception(exc, "CreateClient") from exc
    return client


def session_of(profile_name: str | None) -> Any:
    """botocore's default session, or a new one of ``profile_name``."""
    import botocore.session

    if profile_name is None:
        return botocore.session.get_session()
    return botocore.session.Session(profile=profile_name)
