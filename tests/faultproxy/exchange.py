"""One request's way through the proxy: mode, fault, token ledger, upstream, answer."""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tests.faultproxy.faults import Fault, FaultKind, ProxyMode, RequestInfo
from tests.faultproxy.stats import Outcome, RequestRecord
from tests.faultproxy.tokens import StoredAnswer, Verdict

if TYPE_CHECKING:
    from tests.faultproxy.server import FaultProxy, _Handler

TARGET_PREFIX = "DynamoDB_20120810."
HTTP_OK = 200
TRANSACT_WRITE = "TransactWriteItems"
NOT_FORWARDED_HEADERS = frozenset({"connection", "keep-alive", "transfer-encoding"})
_NOT_RETURNED_HEADERS = NOT_FORWARDED_HEADERS | {"content-length"}
_ERRORS: dict[str, tuple[int, str]] = {
    "ProvisionedThroughputExceededException": (400, "com.amazonaws.dynamodb.v20120810#"),
    "ThrottlingException": (400, "com.amazon.coral.availability#"),
    "InternalServerError": (500, "com.amazonaws.dynamodb.v20120810#"),
    "ServiceUnavailable": (503, "com.amazon.coral.availability#"),
    "IdempotentParameterMismatchException": (400, "com.amazonaws.dynamodb.v20120810#"),
    "TransactionInProgressException": (400, "com.amazonaws.dynamodb.v20120810#"),
    "BadGateway": (502, "proxy#"),
}
_FAULT_ERRORS = {
    FaultKind.THROTTLE: "ProvisionedThroughputExceededException",
    FaultKind.THROTTLING: "ThrottlingException",
    FaultKind.ERROR_500: "InternalServerError",
    FaultKind.ERROR_503: "ServiceUnavailable",
    FaultKind.ERROR_500_AFTER: "InternalServerError",
    FaultKind.ERROR_503_AFTER: "ServiceUnavailable",
}
_TOKEN_ANSWERS = {
    Verdict.REPLAY: ("replayed", Outcome.REPLAYED),
    Verdict.MISMATCH: ("mismatched", Outcome.MISMATCH),
    Verdict.IN_PROGRESS: ("in_progress", Outcome.IN_PROGRESS),
}
_TOKEN_ERRORS = {
    Verdict.MISMATCH: "IdempotentParameterMismatchException",
    Verdict.IN_PROGRESS: "TransactionInProgressException",
}


class Stopped(Exception):
    """The proxy stopped while a request was held; its connection is dropped."""


def parse(body: bytes) -> Mapping[str, Any] | None:
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _error(name: str, message: str) -> StoredAnswer:
    status, prefix = _ERRORS[name]
    body = json.dumps({"__type": prefix + name, "message": message}).encode()
    headers = (
        ("Content-Type", "application/x-amz-json-1.0"),
        ("x-amzn-RequestId", uuid.uuid4().hex),
    )
    return StoredAnswer(status, headers, body)


_UNPROCESSED_MEMBERS = {"BatchWriteItem": "UnprocessedItems", "BatchGetItem": "UnprocessedKeys"}


def split_batch(
    operation: str, parsed: Mapping[str, Any] | None, body: bytes
) -> tuple[bytes, dict[str, Any]]:
    """The body to forward (the batch's first entry) and the member holding the rest.

    Returns ``body`` and nothing held back for anything but a batch of two entries or more.
    """
    member = _UNPROCESSED_MEMBERS.get(operation)
    requested = (parsed or {}).get("RequestItems")
    if member is None or not isinstance(requested, dict):
        return body, {}
    kept: dict[str, Any] = {}
    left: dict[str, Any] = {}
    for table, entries in requested.items():
        keys = entries["Keys"] if operation == "BatchGetItem" else entries
        take = 0 if kept else 1
        if take:
            kept[table] = _with_entries(operation, entries, keys[:take])
        if keys[take:]:
            left[table] = _with_entries(operation, entries, keys[take:])
    if not left:
        return body, {}
    forwarded = dict(parsed or {}, RequestItems=kept)
    return json.dumps(forwarded).encode(), {member: left}


def _with_entries(operation: str, entries: Any, keys: list[Any]) -> Any:
    return dict(entries, Keys=keys) if operation == "BatchGetItem" else keys


def with_unprocessed(answer: StoredAnswer, unprocessed: Mapping[str, Any]) -> StoredAnswer:
    """Upstream's successful batch answer with the held-back entries as unprocessed."""
    parsed = parse(answer.body)
    if answer.status != HTTP_OK or parsed is None:
        return answer
    merged = json.dumps({**parsed, **unprocessed}).encode()
    headers = tuple(pair for pair in answer.headers if pair[0].lower() != "x-amz-crc32")
    return StoredAnswer(answer.status, headers, merged)


def operation_of(handler: _Handler) -> str:
    return (handler.headers.get("X-Amz-Target") or "").removeprefix(TARGET_PREFIX)


class Exchange:
    """One request's path through mode, fault, token ledger and upstream."""

    def __init__(
        self, proxy: FaultProxy, handler: _Handler, info: RequestInfo, body: bytes, mode: ProxyMode
    ) -> None:
        self.proxy, self.handler, self.info, self.body, self.mode = proxy, handler, info, body, mode
        self.fault: Fault | None = None
        self.forwarded = False
        self.outcome = Outcome.NO_ANSWER
        self.delivered_as = Outcome.UPSTREAM
        self.unprocessed: dict[str, Any] = {}
        """What an UNPROCESSED fault held back, added to upstream's answer."""

    def result(self) -> RequestRecord:
        info = self.info
        return RequestRecord(
            info.operation,
            info.sequence,
            info.token,
            self.mode,
            self.fault,
            self.forwarded,
            self.outcome,
        )

    def run(self, mode_seconds: float) -> None:
        proxy, info = self.proxy, self.info
        if self.mode is ProxyMode.HANG:
            proxy._stats.count(info.operation, "hung")
            proxy._hang(self.handler, while_mode_hangs=True)
            self.drop()
            return
        if self.mode is ProxyMode.UNAVAILABLE:
            proxy._stats.count(info.operation, "unavailable")
            self.send(_error("ServiceUnavailable", "unavailable"), Outcome.INJECTED_ERROR)
            return
        if self.mode is ProxyMode.SLOW:
            proxy._sleep(mode_seconds)
        self.fault = fault = proxy._choose(info)
        if fault is not None:
            proxy._stats.count(info.operation, fault.kind)
            if not fault.kind.forwards:
                self.refuse(fault)
                return
            if fault.kind is FaultKind.UNPROCESSED:
                self.body, self.unprocessed = split_batch(info.operation, info.body, self.body)
        answer = self.answer_upstream()
        if answer is not None:
            self.deliver(answer)

    def refuse(self, fault: Fault) -> None:
        if fault.kind is FaultKind.RESET_BEFORE:
            self.drop()
        else:
            self.send(_error(_FAULT_ERRORS[fault.kind], "injected"), Outcome.INJECTED_ERROR)

    def answer_upstream(self) -> StoredAnswer | None:
        """Upstream's answer, through the token ledger; None when already answered."""
        info = self.info
        token = info.token if info.operation == TRANSACT_WRITE else None
        if token is None or info.body is None:
            return self.forward()
        verdict, stored = self.proxy._tokens.begin(token, info.body)
        if verdict is Verdict.PROCEED:
            answer = None
            try:
                answer = self.forward()
            finally:
                self.proxy._tokens.finish(token, answer)
            return answer
        counter, outcome = _TOKEN_ANSWERS[verdict]
        self.proxy._stats.count(info.operation, counter)
        if stored is None:
            self.send(_error(_TOKEN_ERRORS[verdict], "client request token"), outcome)
            return None
        self.delivered_as = outcome
        return stored

    def forward(self) -> StoredAnswer | None:
        if self.fault is not None and self.fault.kind is FaultKind.DELAY_BEFORE:
            self.proxy._sleep(self.fault.seconds)
        self.forwarded = True
        answer = self.proxy._forward(self.handler, self.body)
        if answer is None:
            self.send(_error("BadGateway", "upstream gave no answer"), Outcome.UPSTREAM_FAILED)
        return answer

    def deliver(self, answer: StoredAnswer) -> None:
        kind = self.fault.kind if self.fault is not None else None
        if kind in (FaultKind.ERROR_500_AFTER, FaultKind.ERROR_503_AFTER):
            self.send(_error(_FAULT_ERRORS[kind], "injected after commit"), Outcome.INJECTED_ERROR)
        elif kind is FaultKind.RESET_AFTER:
            self.drop()
        elif kind is FaultKind.HANG_AFTER:
            self.proxy._hang(self.handler, while_mode_hangs=False)
            self.drop()
        else:
            if kind is FaultKind.DELAY_AFTER:
                self.proxy._sleep(self.fault.seconds if self.fault else 0.0)
            if self.unprocessed:
                answer = with_unprocessed(answer, self.unprocessed)
            self.send(answer, self.delivered_as)

    def send(self, answer: StoredAnswer, outcome: Outcome) -> None:
        handler = self.handler
        self.outcome = outcome  # what the proxy answered, even if the client already left
        handler.send_response_only(answer.status)
        for name, value in answer.headers:
            if name.lower() not in _NOT_RETURNED_HEADERS:
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(answer.body)))
        handler.end_headers()
        handler.wfile.write(answer.body)

    def drop(self) -> None:
        """Close the connection with a reset: the client gets no answer."""
        handler = self.handler
        handler.close_connection = True
        self.outcome = Outcome.NO_ANSWER
        with contextlib.suppress(OSError):
            linger = struct.pack("ii", 1, 0)
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            handler.connection.close()
