"""A condition check and a write of one item fold into one conditional write.

This is the DESIGN's own example: check that the escrow is FUNDED, then release it. The
reasons of a failure still belong to the intent whose condition failed, decided from the
item DynamoDB returns with the cancellation.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import pytest

from tctf_dynamo import (
    DynamoDBService,
    EmbeddedProvider,
    Entity,
    ErrorCode,
    RecordingProvider,
    Repository,
    Table,
    TransactionCancelledError,
    attr,
)
from tests.uow_apis import AsyncUnits, SyncUnits, units

Units = SyncUnits | AsyncUnits  # the fixture `units`: these units run on both APIs
__all__ = ["units"]

table = Table("folding")


class Escrow(Entity, table=table, pk="ESCROW#{escrow_id}", sk="META"):
    escrow_id: str
    amount: Decimal
    status: Literal["FUNDED", "RELEASED"]


class Wallet(Entity, table=table, pk="USER#{user_id}", sk="WALLET"):
    user_id: str
    balance: Decimal = Decimal(0)


@pytest.fixture
def recorder() -> RecordingProvider:
    return RecordingProvider(EmbeddedProvider())


@pytest.fixture
def service(recorder: RecordingProvider) -> DynamoDBService:
    service = DynamoDBService(recorder)
    service.create_table(table)
    Repository(Escrow, service).create(Escrow(escrow_id="e1", amount=Decimal(250), status="FUNDED"))
    Repository(Wallet, service).create(Wallet(user_id="u2"))
    return service


def _release(service: DynamoDBService, units: Units, *, only_if_amount: int = 250) -> None:
    with units.unit(service) as uow:
        uow.condition_check(Escrow, {"escrow_id": "e1"}, attr("status") == "FUNDED")
        uow.update(
            Escrow,
            {"escrow_id": "e1"},
            set={"status": "RELEASED"},
            condition=attr("amount") == only_if_amount,
        )
        uow.update(Wallet, {"user_id": "u2"}, add={"balance": Decimal(250)})


def test_the_design_example_commits_as_two_actions(service, recorder, units: Units) -> None:
    recorder.clear()
    _release(service, units)
    (request,) = recorder.requests("TransactWriteItems")
    kinds = [next(iter(action)) for action in request["TransactItems"]]
    assert kinds == ["Update", "Update"]
    escrow_update = request["TransactItems"][0]["Update"]
    assert " AND " in escrow_update["ConditionExpression"]
    assert escrow_update["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    assert Repository(Escrow, service).get_or_raise(escrow_id="e1").status == "RELEASED"
    assert Repository(Wallet, service).get_or_raise(user_id="u2").balance == 250


def test_a_failed_check_is_reported_on_the_check_intent_only(service, units: Units) -> None:
    _release(service, units)
    with pytest.raises(TransactionCancelledError) as caught:
        _release(service, units)
    codes = [reason.code for reason in caught.value.reasons]
    assert codes == [ErrorCode.CONDITION_FAILED, None, None]
    assert caught.value.reasons[0].operation == "ConditionCheck"
    assert Repository(Wallet, service).get_or_raise(user_id="u2").balance == 250


def test_a_failed_write_condition_is_reported_on_the_write_intent_only(
    service, units: Units
) -> None:
    with pytest.raises(TransactionCancelledError) as caught:
        _release(service, units, only_if_amount=999)
    codes = [reason.code for reason in caught.value.reasons]
    assert codes == [None, ErrorCode.CONDITION_FAILED, None]
    assert Repository(Escrow, service).get_or_raise(escrow_id="e1").status == "FUNDED"


def test_two_checks_or_two_writes_of_one_item_are_still_refused(service, units: Units) -> None:
    uow = units.unit(service)
    uow.condition_check(Escrow, {"escrow_id": "e1"}, attr("status") == "FUNDED")
    with pytest.raises(Exception) as caught:
        uow.condition_check(Escrow, {"escrow_id": "e1"}, attr("amount") > 0)
    assert caught.value.code is ErrorCode.DUPLICATE_ITEM_IN_REQUEST
    uow.update(Escrow, {"escrow_id": "e1"}, set={"status": "RELEASED"})
    with pytest.raises(Exception) as caught:
        uow.delete(Escrow, {"escrow_id": "e1"})
    assert caught.value.code is ErrorCode.DUPLICATE_ITEM_IN_REQUEST
