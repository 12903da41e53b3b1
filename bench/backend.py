"""A real DynamoDB implementation over HTTP for the scenarios that need one: dynalite.

dynalite is started with the test suite's own launcher (``tests/servers.py``) on a free
loopback port and stopped when the scenario ends, also on failure. Tables and bulk loads go
through a plain boto3 client so that the baselines never depend on the library under test.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from bench import shapes

__all__ = ["create_table", "load", "running_dynalite"]

_WRITE_CHUNK = 25


@contextmanager
def running_dynalite() -> Iterator[str]:
    """The endpoint of a dynalite server that lives as long as the ``with`` block."""
    from tests import servers

    server = servers.start_dynalite()
    try:
        yield server.endpoint
    finally:
        server.stop()


def create_table(client: Any, name: str = shapes.TABLE_NAME) -> None:
    """The benchmark table (string ``PK``/``SK``, on demand), unless it already exists."""
    if name in client.list_tables()["TableNames"]:
        return
    client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})


def load(
    client: Any,
    items: Sequence[dict[str, Any]],
    *,
    workers: int = 4,
    table: str = shapes.TABLE_NAME,
) -> None:
    """Write wire ``items`` in chunks of 25 over a few threads, resending unprocessed ones."""

    def write(chunk: Sequence[dict[str, Any]]) -> None:
        request = {table: [{"PutRequest": {"Item": item}} for item in chunk]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems")

    chunks = [items[start : start + _WRITE_CHUNK] for start in range(0, len(items), _WRITE_CHUNK)]
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(write, chunks))
