"""Scenario ``memory``: iterating a large query holds one page in memory, not the result.

Two partitions are loaded into dynalite, one ``small`` and one ``large`` (ten times more
items). Each is read to the end by iterating ours (``Repository.query(...)``, entities) and
boto3's query paginator (wire items), keeping nothing; ``tracemalloc``'s peak above the
starting point is recorded. If iteration streams page by page, the peak depends on the page
size (DynamoDB's 1 MB), so large / small stays near 1 while the result grows tenfold.

dynalite rather than the embedded backend: it runs in its own process, so the peak measured
here is the client's alone (an in-process backend's own allocations would be counted).
"""

from __future__ import annotations

import sys
import tracemalloc
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bench import backend, ours, peers, shapes
from bench.harness import ScenarioResult, interleave

NAME = "memory"
TITLE = "peak client memory while iterating a query, small vs 10x larger result"
PRESETS: dict[str, dict[str, Any]] = {
    "full": {"small": 10_000, "large": 100_000, "repeat": 2, "paginator_large": False},
    "quick": {"small": 2_000, "large": 20_000, "repeat": 3, "paginator_large": True},
    "smoke": {"small": 20, "large": 40, "repeat": 1, "paginator_large": True},
}
"""Under tracemalloc a 100,000-item pass costs about a minute, so the full run keeps to two
rounds (peaks repeat within a few percent) and reads the paginator baseline on the small
partition only: it is context, not a target."""
OURS = "ours: Repository.query"
PAGINATOR = "boto3: query paginator"
KIB = 1024


def partition(size: int) -> str:
    """The customer id whose partition holds the ``size`` items of one result."""
    return f"MEM{size:09d}"


def partition_items(size: int) -> list[dict[str, Any]]:
    """Wire items of one partition (the floor converter's form, readable by every client)."""
    items = []
    for index in range(size):
        record = shapes.make_record(index)
        record["customer_id"] = partition(size)
        items.append(shapes.floor_encode(record))
    return items


def peak_while(iterate: Callable[[], Iterable[Any]], expected: int) -> float:
    """KiB allocated at the peak while draining ``iterate()`` (items are dropped at once)."""
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        count = sum(1 for _ in iterate())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if count != expected:
        raise RuntimeError(f"the query returned {count} items, {expected} were stored")
    return (peak - start) / KIB


def _raw_iterations(endpoint: str) -> Callable[[str], Callable[[], Iterable[Any]]]:
    paginator = peers.boto3_client(endpoint).get_paginator("query")

    def items(customer: str) -> Iterable[Any]:
        pages = paginator.paginate(
            TableName=shapes.TABLE_NAME,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"CUSTOMER#{customer}"}},
        )
        for page in pages:
            yield from page["Items"]

    return lambda customer: lambda: items(customer)


def _our_iterations(endpoint: str) -> Callable[[str], Callable[[], Iterable[Any]]]:
    service = ours.require("DynamoDBService").from_endpoint(
        endpoint, region_name=peers.REGION, **peers.DUMMY_CREDENTIALS
    )
    repository = ours.require("Repository")(shapes.our_entity(), service)
    return lambda customer: lambda: repository.query(customer_id=customer)


def _candidates(
    endpoint: str, sizes: Mapping[str, tuple[int, ...]], result: ScenarioResult
) -> dict[str, Callable[[], float]]:
    builders = {OURS: _our_iterations, PAGINATOR: _raw_iterations}
    candidates: dict[str, Callable[[], float]] = {}
    for name, build in builders.items():
        try:
            iterations = build(endpoint)
        except ours.Unavailable as error:
            result.skip(name, str(error))
            continue
        for size in sizes[name]:
            candidates[_label(name, size)] = _peak_of(iterations(partition(size)), size)
    return candidates


def _peak_of(iterate: Callable[[], Iterable[Any]], size: int) -> Callable[[], float]:
    return lambda: peak_while(iterate, size)


def _label(name: str, size: int) -> str:
    return f"{name}, {size:,} items"


def _page_size_note() -> str:
    try:
        from tctf_dynamo.sync import query

        ours_pages = f"{query.DEFAULT_PAGE_SIZE} items"
    except (ImportError, AttributeError):
        ours_pages = "its default size"
    return f"ours reads pages of {ours_pages}; the paginator reads DynamoDB's 1 MB pages"


def run(*, small: int, large: int, repeat: int, paginator_large: bool) -> ScenarioResult:
    params = {"small": small, "large": large, "repeat": repeat, "paginator_large": paginator_large}
    result = ScenarioResult(NAME, TITLE, params=params)
    sizes: dict[str, tuple[int, ...]] = {
        OURS: (small, large),
        PAGINATOR: (small, large) if paginator_large else (small,),
    }
    with backend.running_dynalite() as endpoint:
        loader = peers.boto3_client(endpoint, max_pool_connections=4)
        backend.create_table(loader)
        for size in (small, large):
            backend.load(loader, partition_items(size))
        candidates = _candidates(endpoint, sizes, result)
        for label, runs in interleave(candidates, repeat).items():
            result.add(label, runs, "KiB peak")
    result.ratio(f"{OURS}: large / small", _label(OURS, large), _label(OURS, small))
    if paginator_large:
        result.ratio(
            f"{PAGINATOR}: large / small", _label(PAGINATOR, large), _label(PAGINATOR, small)
        )
    result.ratio("ours / boto3 paginator, small", _label(OURS, small), _label(PAGINATOR, small))
    result.target("ours bounded by page size", f"{OURS}: large / small", "<=", 1.25)
    result.notes.append(_page_size_note())
    return result


if __name__ == "__main__":
    from bench.run import main

    raise SystemExit(main(["--only", NAME, *sys.argv[1:]]))
