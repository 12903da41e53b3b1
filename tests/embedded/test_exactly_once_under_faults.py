"""With 30% injected faults, every write of a mixed workload lands exactly once.

Faults include timeouts *after* the backend applied the write, the ambiguous case: a
blind retry would apply it twice. ADD updates and units of work carry a
ClientRequestToken, batches resend only what is left, and a conditional write whose retry
fails its condition after a lost answer is reported as unknown, never as success.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tctf_dynamo import (
    DynamoDBService,
    EmbeddedProvider,
    ErrorCode,
    OutcomeUnknownError,
    Repository,
    RetryPolicy,
    UnitOfWork,
)
from tctf_dynamo.errors import error_for
from tctf_dynamo.testing.faults import FaultInjectingProvider, FaultRates
from tests.behaviour.models import build_models

FAULTS = FaultRates(
    throttle=0.06,
    server_error=0.06,
    connection_error=0.04,
    timeout_before=0.04,
    timeout_after=0.05,
    unprocessed=0.05,
)
PATIENT = RetryPolicy(max_attempts=12, base_delay=0.0, max_delay=0.0, jitter=0.0)


def test_mixed_workload_applies_every_write_once_and_reports_it_truly() -> None:
    inner = EmbeddedProvider()
    faulty = FaultInjectingProvider(inner, seed=7, rates=FAULTS)
    service = DynamoDBService(faulty, retry=PATIENT, sleep=lambda _: None)
    models = build_models("faults")
    DynamoDBService(inner).create_table(models.table)
    users = Repository(models.User, service)
    orders = Repository(models.Order, service)
    unknown_creates = 0
    for number in range(40):
        try:
            users.create(models.User(user_id=f"u{number}", email=f"u{number}@x.io", name="N"))
        except OutcomeUnknownError:
            unknown_creates += 1  # applied before its answer was lost: no proof it was ours
    for number in range(40):
        users.update({"user_id": f"u{number}"}, add={"credits": 1})
        users.update({"user_id": f"u{number}"}, add={"credits": 2})
    for number in range(0, 40, 2):
        with UnitOfWork(service) as uow:
            uow.update(models.User, {"user_id": f"u{number}"}, add={"credits": -1})
            uow.update(models.User, {"user_id": f"u{number + 1}"}, add={"credits": 1})
    orders.batch_put(
        [models.Order(user_id="u0", order_id=f"o{n}", total=Decimal(n)) for n in range(300)]
    )

    assert sum(faulty.injected.values()) > 50, "the workload must actually meet faults"
    assert faulty.injected["timeout_after"] > 0
    assert unknown_creates > 0, "a create applied before a lost answer is not proven ours"
    reader = Repository(models.User, DynamoDBService(inner))
    credits = [reader.get_or_raise(user_id=f"u{n}").credits for n in range(40)]
    assert credits == [2 if n % 2 == 0 else 4 for n in range(40)]
    assert sum(credits) == 40 * 3
    stored_orders = Repository(models.Order, DynamoDBService(inner)).query(user_id="u0").all()
    assert sorted(order.total for order in stored_orders) == [Decimal(n) for n in range(300)]


class _TimeoutAfterFirstApply:
    """Applies the first ``operation`` call, then says it timed out (the ambiguous case)."""

    def __init__(self, inner: EmbeddedProvider, operation: str) -> None:
        self.inner, self.operation, self.tripped = inner, operation, False

    def call(self, operation: str, request: dict) -> dict:
        response = self.inner.call(operation, request)
        if operation == self.operation and not self.tripped:
            self.tripped = True
            raise error_for(
                ErrorCode.TIMEOUT, "read timed out", {"operation": operation, "exception": "x"}
            )
        return response

    def close(self) -> None:
        self.inner.close()


def _ambiguous_service(operation: str) -> tuple[DynamoDBService, EmbeddedProvider, object]:
    inner = EmbeddedProvider()
    provider = _TimeoutAfterFirstApply(inner, operation)
    service = DynamoDBService(provider, retry=PATIENT, sleep=lambda _: None)  # type: ignore[arg-type]
    return service, inner, provider


def test_a_versioned_update_applied_before_a_lost_answer_is_unknown_not_a_conflict() -> None:
    service, inner, provider = _ambiguous_service("UpdateItem")
    models = build_models("ambiguous")
    service.create_table(models.table)
    users = Repository(models.User, service)
    created = users.create(models.User(user_id="u1", email="a@x.io", name="A"))
    with pytest.raises(OutcomeUnknownError) as caught:
        users.update(created, set={"name": "B"})
    assert provider.tripped
    assert caught.value.last_error.code is ErrorCode.CONDITION_FAILED
    stored = Repository(models.User, DynamoDBService(inner)).get_or_raise(user_id="u1")
    assert (stored.name, stored.version) == ("B", 2)  # applied once, never twice


def test_a_create_applied_before_a_lost_answer_is_unknown_not_success() -> None:
    service, inner, provider = _ambiguous_service("PutItem")
    models = build_models("ambiguous")
    service.create_table(models.table)
    users = Repository(models.User, service)
    with pytest.raises(OutcomeUnknownError):
        users.create(models.User(user_id="u1", email="a@x.io", name="A"))
    assert provider.tripped
    stored = Repository(models.User, DynamoDBService(inner)).get_or_raise(user_id="u1")
    assert stored.version == 1
