"""The private attributes of botocore and moto the library relies on, checked at start-up.

botocore has no public handle on a client's signer, endpoint or event handlers, and moto
none on its DynamoDB request dispatcher. A release that renamed one would otherwise fail
in the middle of a call. So:

* every :class:`~tctf_dynamo.providers.Boto3Provider` checks, once when it is built, that
  what the fast path reads is there (:func:`fast_path_missing`); if anything is missing
  it logs a warning and sends every call through botocore's public path;
* the embedded provider checks moto's dispatcher (:func:`moto_missing`) and fails with a
  clear ``INVALID_CONFIGURATION`` error naming the versions it was tested with.

:data:`TESTED_BOTOCORE` and :data:`TESTED_MOTO` bound the versions the test suite runs
with (``constraints.txt`` pins them); outside them the checks above still decide.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["TESTED_BOTOCORE", "TESTED_MOTO", "fast_path_missing", "moto_missing"]

TESTED_BOTOCORE: Final = (">=1.43.68", "<1.45")
TESTED_MOTO: Final = (">=5.0", "<6")

_FAST_PATH_NEEDS: Final = (
    ("_request_signer", "sign"),
    ("_endpoint", "http_session", "send"),
    ("_endpoint", "prepare_request"),
    ("meta", "service_model", "operation_model"),
)
"""Attribute paths on a client; ``_resolve_endpoint_ruleset`` and the serializer are
optional (the fast path has a fallback for each)."""

_MOTO_NEEDS: Final = (
    ("moto.dynamodb.responses", "DynamoHandler", "_dispatch"),
    ("moto.dynamodb.responses", "DynamoHandler", "dynamodb_backend"),
    ("moto.dynamodb.models", "DynamoDBBackend", "__init__"),
    ("moto.core.request", "normalize_request"),
)


def fast_path_missing(client: Any) -> list[str]:
    """The dotted attribute paths the fast path needs that ``client`` lacks."""
    from tctf_dynamo.providers.hooks import hierarchical_emitter

    missing = [".".join(path) for path in _FAST_PATH_NEEDS if not _has_path(client, path)]
    if hierarchical_emitter(client.meta.events) is None:
        missing.append("meta.events (the handler registry)")
    return missing


def moto_missing() -> list[str]:
    """The moto modules or attributes the embedded provider needs that are missing."""
    import importlib

    missing = []
    for module_name, *path in _MOTO_NEEDS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            missing.append(module_name)
            continue
        if not _has_path(module, tuple(path)):
            missing.append(".".join((module_name, *path)))
    return missing


def _has_path(value: Any, path: tuple[str, ...]) -> bool:
    for name in path:
        try:
            value = getattr(value, name)
        except AttributeError:
            return False
    return True
