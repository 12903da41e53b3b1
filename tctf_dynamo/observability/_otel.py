"""Importing OpenTelemetry on demand, with one clear error when it is not installed."""

from __future__ import annotations

import importlib
from typing import Any

from tctf_dynamo.errors import ErrorCode, error_for

__all__ = ["require_opentelemetry"]

INSTALL_HINT = "pip install 'tctf-dynamo[otel]'"


def require_opentelemetry(module: str) -> Any:
    """``opentelemetry.<module>``, or INVALID_CONFIGURATION saying how to install it."""
    try:
        return importlib.import_module(f"opentelemetry.{module}")
    except ModuleNotFoundError as error:
        raise error_for(
            ErrorCode.INVALID_CONFIGURATION,
            f"OpenTelemetry is not installed: {INSTALL_HINT}",
            {"module": f"opentelemetry.{module}"},
        ) from error
