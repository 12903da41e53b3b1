"""Units of work: many writes of many entities, committed once, all or nothing.

:class:`UnitOfWork` collects intents in call order, checks DynamoDB's transaction limits
as each is added, and commits them as one TransactWriteItems whose cancellation reasons
map back to the intents. :func:`read_together` is its reading counterpart: several
entities read as of one moment. See ``docs/unit-of-work.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from tctf_dynamo import _lazy

if TYPE_CHECKING:
    from tctf_dynamo.uow._intents import Intent, IntentResult
    from tctf_dynamo.uow._reads import read_together
    from tctf_dynamo.uow._state import UnitState
    from tctf_dynamo.uow._unit import UnitOfWork

__all__ = ["Intent", "IntentResult", "UnitOfWork", "UnitState", "read_together"]

_HOMES: Final = {
    "Intent": "tctf_dynamo.uow._intents",
    "IntentResult": "tctf_dynamo.uow._intents",
    "UnitOfWork": "tctf_dynamo.uow._unit",
    "UnitState": "tctf_dynamo.uow._state",
    "read_together": "tctf_dynamo.uow._reads",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    return _lazy.load(__name__, _HOMES, name)


def __dir__() -> list[str]:
    return _lazy.names(__name__, __all__)
