"""Intents in call order, with DynamoDB's transaction limits checked as each is added.

DynamoDB refuses a transaction of more than 100 actions, of more than 4 MB, or with two
actions on one item, but only after a round trip, and only for the request as a whole.
Checking as each intent is added points at the line of code that broke the limit, and
nothing is sent. The sizes and item identities come from :mod:`tctf_dynamo.core.transactions`,
the same functions the service checks a transaction with, so the two never disagree.
"""

from __future__ import annotations

from typing import Any, NoReturn

import attrs

from tctf_dynamo.core.transactions import ItemIdentity, action_identity, action_size, fold_condition
from tctf_dynamo.core.writes import WriteKind, WritePlan
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, error_for
from tctf_dynamo.limits import MAX_TRANSACTION_ACTIONS, MAX_TRANSACTION_BYTES
from tctf_dynamo.model import Entity

__all__ = ["Intent", "IntentLog", "IntentResult"]

RETURN_ON_FAILURE = "ReturnValuesOnConditionCheckFailure"


@attrs.frozen(slots=True)
class Intent:
    """One write (or condition check) the unit of work will send, at position ``index``."""

    index: int
    plan: WritePlan
    identity: ItemIdentity
    size: int

    @property
    def operation(self) -> WriteKind:
        return self.plan.kind

    @property
    def entity_name(self) -> str:
        return self.plan.entity.__name__

    @property
    def is_conditional(self) -> bool:
        return "ConditionExpression" in self.plan.body

    def transact_item(self, *, return_failed_items: bool) -> dict[str, Any]:
        """This intent as a TransactWriteItems action.

        With ``return_failed_items`` a conditional action asks for the item as it was, so
        a failed condition can be explained with the data that failed it.
        """
        body = dict(self.plan.body)
        if return_failed_items and self.is_conditional:
            body[RETURN_ON_FAILURE] = "ALL_OLD"
        return {self.plan.kind: body}


@attrs.frozen(slots=True)
class IntentResult:
    """The outcome of one intent after a commit.

    ``entity`` is the entity's class name and ``key`` its key fields, as in
    :class:`~tctf_dynamo.errors.CancellationReason`. ``written`` is the entity as stored
    (new version and timestamps) for puts. ``applied`` is False only for a unit of work
    with ``atomic=False`` whose intent was not confirmed applied; ``error`` then says why,
    and :attr:`outcome` whether it is known not to be applied or unknown.
    """

    index: int
    operation: WriteKind
    entity: str
    key: dict[str, Any]
    written: Entity | None = None
    applied: bool = True
    error: DynamoDBServiceError | None = None

    @property
    def outcome(self) -> str:
        """``"applied"``, ``"not_applied"``, or ``"unknown"`` (the error is then
        OUTCOME_UNKNOWN: the intent may have been applied; see docs/outcomes.md)."""
        if self.applied:
            return "applied"
        if self.error is not None and self.error.code is ErrorCode.OUTCOME_UNKNOWN:
            return "unknown"
        return "not_applied"

    @classmethod
    def of(
        cls, intent: Intent, *, applied: bool = True, error: DynamoDBServiceError | None = None
    ) -> IntentResult:
        plan = intent.plan
        return cls(
            intent.index,
            plan.kind,
            intent.entity_name,
            plan.key_fields,
            plan.written if applied else None,
            applied,
            error,
        )


@attrs.define(slots=True)
class _Action:
    """One TransactWriteItems action and the intents it carries (two when folded)."""

    intents: list[int]
    kind: WriteKind
    body: dict[str, Any]
    size: int


class IntentLog:
    """The intents of one unit of work; :meth:`add` refuses what DynamoDB would refuse.

    ``atomic=False`` lifts the transaction limits (count and bytes): the intents are then
    sent as separate requests. Two writes of one item are refused either way: as a
    transaction DynamoDB would refuse them, and sent separately their order is not kept.
    A condition check and a write of one item are *folded* into one conditional write
    (atomic units only): the pair means exactly "write only if both conditions hold".
    """

    def __init__(self, *, atomic: bool) -> None:
        self._atomic = atomic
        self._intents: list[Intent] = []
        self._actions: list[_Action] = []
        self._by_item: dict[ItemIdentity, int] = {}
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._intents)

    @property
    def intents(self) -> tuple[Intent, ...]:
        return tuple(self._intents)

    @property
    def total_bytes(self) -> int:
        return self._bytes

    def action_of(self) -> list[int]:
        """For each intent, the index of the action that carries it."""
        owner = [0] * len(self._intents)
        for position, action in enumerate(self._actions):
            for index in action.intents:
                owner[index] = position
        return owner

    def is_folded(self, index: int) -> bool:
        return len(self._actions[self.action_of()[index]].intents) > 1

    def transact_items(self, *, return_failed_items: bool) -> list[dict[str, Any]]:
        """The actions in order; a folded action always asks for the failing item, which
        tells which of its two conditions failed."""
        items: list[dict[str, Any]] = []
        for action in self._actions:
            body = dict(action.body)
            conditional = "ConditionExpression" in body
            if conditional and (return_failed_items or len(action.intents) > 1):
                body[RETURN_ON_FAILURE] = "ALL_OLD"
            items.append({action.kind: body})
        return items

    def add(self, plan: WritePlan) -> Intent:
        """Append ``plan`` as the next intent, or raise and leave the log unchanged."""
        index = len(self._intents)
        action = plan.transact_item()
        identity = action_identity(action, plan.entity.__entity_meta__.table.key_schema)  # type: ignore[union-attr]
        size = action_size(action)
        first = self._by_item.get(identity)
        if first is not None:
            return self._fold(index, identity, plan, size, self._actions[first])
        if self._atomic:
            self._check_count(len(self._actions), index, plan)
            self._check_bytes(index, size, plan)
        intent = Intent(index, plan, identity, size)
        self._intents.append(intent)
        self._by_item[identity] = len(self._actions)
        self._actions.append(_Action([index], plan.kind, dict(plan.body), size))
        self._bytes += size
        return intent

    def _fold(
        self, index: int, identity: ItemIdentity, plan: WritePlan, size: int, action: _Action
    ) -> Intent:
        earlier = self._intents[action.intents[0]].plan
        kinds = {earlier.kind, plan.kind}
        if not self._atomic or len(action.intents) > 1 or "ConditionCheck" not in kinds:
            self._refuse_duplicate(action.intents[0], index, identity, plan)
        if kinds == {"ConditionCheck"}:
            self._refuse_duplicate(action.intents[0], index, identity, plan)
        write, check = (plan, earlier) if earlier.kind == "ConditionCheck" else (earlier, plan)
        body = fold_condition(write.body, check.body)
        folded_size = action_size({write.kind: body})
        self._check_bytes(index, folded_size - action.size, plan)
        intent = Intent(index, plan, identity, size)
        self._intents.append(intent)
        self._bytes += folded_size - action.size
        action.intents.append(index)
        action.kind, action.body, action.size = write.kind, body, folded_size
        return intent

    def _check_count(self, actions: int, index: int, plan: WritePlan) -> None:
        if actions >= MAX_TRANSACTION_ACTIONS:
            raise error_for(
                ErrorCode.TRANSACTION_TOO_LARGE,
                f"a unit of work holds at most {MAX_TRANSACTION_ACTIONS} intents; intent "
                f"{index} ({plan.kind} {plan.entity.__name__}) is one too many "
                "(atomic=False lifts the limit, and atomicity with it)",
                {"index": index, "intents": index + 1, "limit": MAX_TRANSACTION_ACTIONS},
            )

    def _refuse_duplicate(
        self, first: int, index: int, identity: ItemIdentity, plan: WritePlan
    ) -> NoReturn:
        raise error_for(
            ErrorCode.DUPLICATE_ITEM_IN_REQUEST,
            f"intents {first} and {index} both address one {plan.entity.__name__} item; "
            "a unit of work may write each item once (a condition check and one write of "
            "an item are folded together; to guard a write, give it the condition)",
            {
                "first_index": first,
                "second_index": index,
                "entity": plan.entity.__name__,
                "table": identity[0],
            },
        )

    def _check_bytes(self, index: int, size: int, plan: WritePlan) -> None:
        total = self._bytes + size
        if total > MAX_TRANSACTION_BYTES:
            raise error_for(
                ErrorCode.TRANSACTION_TOO_LARGE,
                f"a unit of work carries at most {MAX_TRANSACTION_BYTES} bytes; intent {index} "
                f"({plan.kind} {plan.entity.__name__}, {size} bytes) brings it to {total}",
                {"index": index, "size": total, "limit": MAX_TRANSACTION_BYTES},
            )
