"""Errors raised deep inside a document, reported with the path to the failing value.

Shared by the codec and the size accounting: containers on the way out add their path
segment, so the success path carries no bookkeeping at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, error_for

__all__ = ["DocumentError", "malformed", "unsupported"]


class DocumentError(Exception):
    """Raised deep inside a document; containers on the way out add their path segment.

    Building the path only when something fails keeps the success path free of bookkeeping.
    """

    def __init__(self, code: ErrorCode, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        self.path: list[str | int] = []  # innermost segment first

    def to_error(self) -> DynamoDBServiceError:
        details = dict(self.details)
        if self.path:
            details["attribute"] = format_path(reversed(self.path))
        return error_for(self.code, self.message, details)


def format_path(segments: Iterable[str | int]) -> str:
    text = ""
    for segment in segments:
        if isinstance(segment, int):
            text += f"[{segment}]"
        else:
            text += f".{segment}" if text else segment
    return text


def unsupported(message: str, **details: Any) -> DocumentError:
    return DocumentError(ErrorCode.UNSUPPORTED_TYPE, message, **details)


def malformed(message: str, **details: Any) -> DocumentError:
    return DocumentError(ErrorCode.INVALID_ITEM, message, **details)
