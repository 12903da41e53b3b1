"""Small fakes for the resilience tests: a clock moved by sleeping, and providers.

The providers here are deliberately tiny (a handler, or a dict standing in for a table)
so the resilience tests do not depend on any real backend.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from tctf_dynamo.errors import ErrorCode, error_for


class FakeClock:
    """A clock that only moves when told to; ``sleep`` moves it and records the delay."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


class _ProviderBase:
    def close(self) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class HandlerProvider(_ProviderBase):
    """Answers every call with ``handler(operation, request)`` and records the calls."""

    def __init__(self, handler: Callable[[str, dict[str, Any]], dict[str, Any]]) -> None:
        self.handler = handler
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((operation, request))
        return self.handler(operation, request)


def _key_of(attributes: dict[str, Any]) -> tuple[str, str]:
    return attributes["PK"]["S"], attributes.get("SK", {}).get("S", "")


class DictTableProvider(_ProviderBase):
    """PutItem/GetItem/DeleteItem/UpdateItem (ADD on one number)/BatchWriteItem/
    BatchGetItem on in-memory tables keyed by PK and optional SK."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
        self.calls: list[str] = []

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(operation)
        return getattr(self, "_" + operation)(request)  # type: ignore[no-any-return]

    def _table(self, name: str) -> dict[tuple[str, str], dict[str, Any]]:
        return self.tables.setdefault(name, {})

    def _PutItem(self, request: dict[str, Any]) -> dict[str, Any]:
        item = request["Item"]
        self._table(request["TableName"])[_key_of(item)] = item
        return {}

    def _DeleteItem(self, request: dict[str, Any]) -> dict[str, Any]:
        self._table(request["TableName"]).pop(_key_of(request["Key"]), None)
        return {}

    def _GetItem(self, request: dict[str, Any]) -> dict[str, Any]:
        item = self._table(request["TableName"]).get(_key_of(request["Key"]))
        return {"Item": item} if item is not None else {}

    def _UpdateItem(self, request: dict[str, Any]) -> dict[str, Any]:
        """Only ``ADD #n :v`` on a number: enough to show a double-applied increment."""
        expression = request["UpdateExpression"].split()
        if expression[0] != "ADD":
            raise error_for(ErrorCode.SERVICE_VALIDATION_FAILED, "fake supports ADD only")
        name = request["ExpressionAttributeNames"][expression[1]]
        amount = int(request["ExpressionAttributeValues"][expression[2]]["N"])
        table = self._table(request["TableName"])
        item = table.setdefault(_key_of(request["Key"]), dict(request["Key"]))
        item[name] = {"N": str(int(item.get(name, {"N": "0"})["N"]) + amount)}
        return {}

    def _BatchWriteItem(self, request: dict[str, Any]) -> dict[str, Any]:
        for table, writes in request["RequestItems"].items():
            for write in writes:
                if "PutRequest" in write:
                    self._PutItem({"TableName": table, "Item": write["PutRequest"]["Item"]})
                else:
                    self._DeleteItem({"TableName": table, "Key": write["DeleteRequest"]["Key"]})
        return {"UnprocessedItems": {}}

    def _BatchGetItem(self, request: dict[str, Any]) -> dict[str, Any]:
        responses: dict[str, list[dict[str, Any]]] = {}
        for table, spec in request["RequestItems"].items():
            found = [self._table(table).get(_key_of(key)) for key in spec["Keys"]]
            responses[table] = [item for item in found if item is not None]
        return {"Responses": responses, "UnprocessedKeys": {}}
