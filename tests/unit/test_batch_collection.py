"""Bulk jobs raise the young-collection threshold while they run, and put it back."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from tctf_dynamo import Entity, Repository, Table
from tctf_dynamo.batch._collection import YOUNG_FACTOR, fewer_collections
from tests.unit.batch_fakes import FakeDynamo, make_service


class Mark(Entity, table=Table("marks"), pk="{name}", sk="A"):
    name: str


@pytest.fixture(autouse=True)
def _thresholds() -> Iterator[tuple[int, ...]]:
    found = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield found
    gc.set_threshold(*found)


def test_the_threshold_is_raised_while_a_job_runs_and_restored_after() -> None:
    seen: list[tuple[int, ...]] = []

    def marks() -> Iterator[Mark]:
        for number in range(60):
            seen.append(gc.get_threshold())
            yield Mark(name=f"m{number}")

    service, _ = make_service(FakeDynamo(), max_workers=2)
    Repository(Mark, service).batch_put(marks())
    assert set(seen) == {(700 * YOUNG_FACTOR, 10, 10)}
    assert gc.get_threshold() == (700, 10, 10)


def test_nested_scopes_restore_once_the_last_ends() -> None:
    with fewer_collections():
        with fewer_collections():
            assert gc.get_threshold() == (7000, 10, 10)
        assert gc.get_threshold() == (7000, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_threshold_changed_during_a_job_is_left_as_it_was_set() -> None:
    with fewer_collections():
        gc.set_threshold(500, 5, 5)
    assert gc.get_threshold() == (500, 5, 5)


def test_a_disabled_collector_and_a_zero_threshold_are_left_alone() -> None:
    gc.set_threshold(0, 10, 10)
    with fewer_collections():
        assert gc.get_threshold() == (0, 10, 10)
    gc.set_threshold(700, 10, 10)
    gc.disable()
    try:
        with fewer_collections():
            assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.enable()


def test_the_threshold_is_restored_when_a_job_fails() -> None:
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("boom")
    assert gc.get_threshold() == (700, 10, 10)
