"""Why a conditional write whose resend fails its condition after a lost answer stays
unknown, even when DynamoDB returns the item that failed it (ALL_OLD).

Each test builds two worlds that the library cannot tell apart: every request it sends
and every answer it gets, the old item returned with the condition failure included,
are identical, yet in one world its own first attempt was applied and in the other it
never arrived. Any rule that turned the unknown into "applied" or "not applied" from
what the client sees would be wrong in one of the two worlds, so the library reports
OUTCOME_UNKNOWN in both (docs/outcomes.md, "Why a condition failure after a lost answer
stays unknown").
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tctf_dynamo import DynamoDBService, EmbeddedProvider, ErrorCode, OutcomeUnknownError, Table
from tctf_dynamo.errors import DynamoDBServiceError
from tctf_dynamo.providers.errors import transport_failure

table = Table("unprovable")
KEY = {"PK": {"S": "ORDER#1"}, "SK": {"S": "META"}}


def item(status: str, version: int | None = None) -> dict[str, Any]:
    extra = {} if version is None else {"version": {"N": str(version)}}
    return {**KEY, "status": {"S": status}, **extra}


CREATE = {
    "TableName": table.name,
    "Item": item("PAID"),
    "ConditionExpression": "attribute_not_exists(PK)",
    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
}
VERSIONED_PUT = {  # version 3 -> 4, as a versioned entity's put sends it
    "TableName": table.name,
    "Item": item("PAID", 4),
    "ConditionExpression": "version = :expected",
    "ExpressionAttributeValues": {":expected": {"N": "3"}},
    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
}


class World:
    """The embedded backend as one client sees it. The client's first PutItem times out
    on the read either way; ``first_applied`` says whether it reached the table first.
    ``meanwhile`` is what other writers do before the client's resend arrives."""

    def __init__(
        self,
        inner: EmbeddedProvider,
        *,
        first_applied: bool,
        meanwhile: Callable[[DynamoDBService], None],
    ) -> None:
        self.inner = inner
        self.first_applied = first_applied
        self.meanwhile = meanwhile
        self.puts = 0
        self.arrived = 0
        """How many of the client's requests reached the table."""
        self.seen: list[tuple[str, Any, Any]] = []
        """(operation, request, answer or (error code, details)) as the client saw them."""

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        sent = copy.deepcopy(request)
        if operation == "PutItem":
            self.puts += 1
            if self.puts == 1:
                if self.first_applied:
                    self.inner.call(operation, request)
                    self.arrived += 1
                lost = transport_failure(operation, ErrorCode.TIMEOUT, "ReadTimeoutError")
                self.seen.append((operation, sent, (lost.code, lost.details)))
                raise lost
            self.meanwhile(DynamoDBService(self.inner))
        self.arrived += 1
        try:
            response = self.inner.call(operation, request)
        except DynamoDBServiceError as error:
            self.seen.append((operation, sent, (error.code, copy.deepcopy(error.details))))
            raise
        self.seen.append((operation, sent, response))
        return response

    def close(self) -> None:
        self.inner.close()


def nothing(_: DynamoDBService) -> None:
    pass


def put(wire: dict[str, Any]) -> Callable[[DynamoDBService], None]:
    def write(other: DynamoDBService) -> None:
        other.execute("PutItem", {"TableName": table.name, "Item": wire})

    return write


def delete_and_recreate_up_to_version_4(other: DynamoDBService) -> None:
    """Another writer deletes the order and writes a new one, versions 1 to 4."""
    other.execute("DeleteItem", {"TableName": table.name, "Key": KEY})
    for version in range(1, 5):
        put(item("REFUNDED", version))(other)


@pytest.fixture
def worlds() -> Iterator[Callable[..., World]]:
    made: list[World] = []

    def make(
        first_applied: bool,
        meanwhile: Callable[[DynamoDBService], None],
        before: Callable[[DynamoDBService], None] = nothing,
    ) -> World:
        inner = EmbeddedProvider()
        setup = DynamoDBService(inner)
        setup.create_table(table)
        before(setup)
        world = World(inner, first_applied=first_applied, meanwhile=meanwhile)
        made.append(world)
        return world

    yield make
    for world in made:
        world.close()


def _send(world: World, request: dict[str, Any]) -> OutcomeUnknownError:
    service = DynamoDBService(world, sleep=lambda _s: None)  # type: ignore[arg-type]
    with pytest.raises(OutcomeUnknownError) as caught:
        service.execute("PutItem", copy.deepcopy(request))
    return caught.value


CASES = {
    # equal state does not prove who wrote it: ours, or a competitor's equal create
    "create, old item equal to ours": (
        CREATE,
        dict(first_applied=True, meanwhile=nothing),
        dict(first_applied=False, meanwhile=put(item("PAID"))),
        item("PAID"),
    ),
    # another state does not prove ours never applied: it may have been overwritten
    "create, old item another's": (
        CREATE,
        dict(first_applied=True, meanwhile=put(item("CANCELLED"))),
        dict(first_applied=False, meanwhile=put(item("CANCELLED"))),
        item("CANCELLED"),
    ),
    # nor do versions: only one write takes version 3 to 4, but a delete restarts them
    "versioned put, version 4 with another's content": (
        VERSIONED_PUT,
        dict(
            first_applied=True,
            meanwhile=delete_and_recreate_up_to_version_4,
            before=put(item("OPEN", 3)),
        ),
        dict(
            first_applied=False,
            meanwhile=put(item("REFUNDED", 4)),
            before=put(item("OPEN", 3)),
        ),
        item("REFUNDED", 4),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_same_answers_come_from_a_world_where_it_applied_and_one_where_it_did_not(
    worlds: Callable[..., World], case: str
) -> None:
    request, applied_world, other_world, old_item = CASES[case]
    ours_applied = worlds(**applied_world)
    never_arrived = worlds(**other_world)

    told = [_send(ours_applied, request), _send(never_arrived, request)]

    # what the client saw is the same, to the last byte of the old item
    assert ours_applied.seen == never_arrived.seen
    assert ours_applied.seen[-1][2][1]["item"] == old_item
    # the truth differs: the first attempt reached the table in one world only
    assert (ours_applied.arrived, never_arrived.arrived) == (2, 1)
    # so the library says the one thing true in both
    for error in told:
        assert error.code is ErrorCode.OUTCOME_UNKNOWN
        assert error.last_error.code is ErrorCode.CONDITION_FAILED
        assert error.last_error.details["item"] == old_item  # the old item is kept
        assert error.token is None
