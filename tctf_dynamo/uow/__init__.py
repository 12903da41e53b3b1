"""Units of work: many writes of many entities, committed once, all or nothing.

:class:`UnitOfWork` collects intents in call order, checks DynamoDB's transaction limits
as each is added, and commits them as one TransactWriteItems whose cancellation reasons
map back to the intents. :func:`read_together` is its reading counterpart: several
entities read as of one moment. See ``docs/unit-of-work.md``.
"""

from tctf_dynamo.uow._intents import Intent, IntentResult
from tctf_dynamo.uow._reads import read_together
from tctf_dynamo.uow._state import UnitState
from tctf_dynamo.uow._unit import UnitOfWork

__all__ = ["Intent", "IntentResult", "UnitOfWork", "UnitState", "read_together"]
