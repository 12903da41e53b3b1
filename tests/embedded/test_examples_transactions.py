"""The transaction examples, run on the embedded backend: what they print is what happens."""

from __future__ import annotations

from decimal import Decimal

import pytest

from examples import escrow_release, mfa_setup, session_lru
from tctf_dynamo import DynamoDBService, RetryPolicy
from tctf_dynamo.providers import EmbeddedProvider
from tctf_dynamo.testing.faults import FaultInjectingProvider, FaultRates


def test_session_lru_never_holds_more_than_five(capsys: pytest.CaptureFixture[str]) -> None:
    outcome = session_lru.main(DynamoDBService.embedded())
    evicted = [c.evicted.session_id if c.evicted else None for c in outcome.sequential]
    assert evicted == [None] * 5 + ["s0", "s1"]
    assert len(outcome.concurrent) == 8  # every racer eventually created its session
    assert len(outcome.session_ids) == session_lru.MAX_SESSIONS
    assert outcome.counter == session_lru.MAX_SESSIONS
    assert outcome.max_seen <= session_lru.MAX_SESSIONS
    assert set(outcome.session_ids) <= {c.session.session_id for c in outcome.concurrent}
    assert any(c.attempts > 1 for c in outcome.concurrent)  # the guard was exercised
    assert "evicted s0" in capsys.readouterr().out


def test_escrow_releases_once_and_conserves_money() -> None:
    outcome = escrow_release.main(DynamoDBService.embedded())
    assert outcome.balances_after_first == (Decimal(0), Decimal("250.00"))
    assert outcome.balances_after_second == outcome.balances_after_first
    assert outcome.second_release_reasons == [
        (0, "Account", None),
        (1, "Escrow", "CONDITION_FAILED"),
        (2, "Wallet", None),
        (3, "Milestone", None),
        (4, "AuditEntry", None),
    ]
    assert (outcome.race_winners, outcome.race_losers) == (1, 9)
    assert outcome.race_total_after == outcome.race_total_before == Decimal("99.99")


def test_escrow_under_lost_answers_and_throttling_still_releases_once() -> None:
    """Commits whose answer is lost are retried with their token: never applied twice."""
    faulty = FaultInjectingProvider(
        EmbeddedProvider(),
        seed=11,
        rates={"TransactWriteItems": FaultRates(timeout_after=0.3, throttle=0.2)},
    )
    service = DynamoDBService(
        faulty, retry=RetryPolicy(max_attempts=10, base_delay=0.001, max_delay=0.01)
    )
    outcome = escrow_release.main(service)
    assert faulty.injected["timeout_after"] + faulty.injected["throttle"] > 0
    assert outcome.race_winners == 1
    assert outcome.race_total_after == outcome.race_total_before
    assert outcome.balances_after_second == (Decimal(0), Decimal("250.00"))


def test_mfa_setup_commits_all_three_writes_or_none() -> None:
    outcome = mfa_setup.main(DynamoDBService.embedded())
    assert (outcome.user_version_before, outcome.user_version_after) == (1, 2)
    assert outcome.mfa_enabled is True
    assert outcome.session_setup_id == "setup-1"
    assert outcome.events == 1
    assert outcome.stale_attempt_reasons == [
        (0, "Session", None),
        (1, "User", "CONDITION_FAILED"),
        (2, "SecurityEvent", None),
    ]
    assert outcome.events_after_stale_attempt == 1
