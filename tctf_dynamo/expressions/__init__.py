"""Immutable expression values and their compiler.

Build conditions with ``attr("status") == "FUNDED"`` and ``& | ~``, updates with
``Update().set(...).add(...)``, key conditions with ``key("PK") == v``, projections with
``Projection(...)``; compile them against one ``Placeholders`` accumulator (or call
``build_request_parts``). ``check_*`` bind an expression to a pydantic model before
anything is sent; ``evaluate`` and ``apply_update`` give DynamoDB's answer on plain
Python items, for in-memory fakes and tests.
"""

from __future__ import annotations

from tctf_dynamo.expressions.attributes import Attr, Size, attr, size
from tctf_dynamo.expressions.binding import (
    bind,
    check_condition,
    check_key_condition,
    check_projection,
    check_update,
)
from tctf_dynamo.expressions.compiler import (
    Placeholders,
    build_request_parts,
    compile_condition,
    compile_key_condition,
    compile_projection,
    compile_update,
)
from tctf_dynamo.expressions.conditions import Condition
from tctf_dynamo.expressions.evaluate import apply_update, evaluate
from tctf_dynamo.expressions.key_conditions import KeyAttr, KeyCondition, KeyPredicate, key
from tctf_dynamo.expressions.operands import if_not_exists, list_append
from tctf_dynamo.expressions.paths import Path
from tctf_dynamo.expressions.projections import Projection
from tctf_dynamo.expressions.updates import Update

__all__ = [
    "Attr",
    "Condition",
    "KeyAttr",
    "KeyCondition",
    "KeyPredicate",
    "Path",
    "Placeholders",
    "Projection",
    "Size",
    "Update",
    "apply_update",
    "attr",
    "bind",
    "build_request_parts",
    "check_condition",
    "check_key_condition",
    "check_projection",
    "check_update",
    "compile_condition",
    "compile_key_condition",
    "compile_projection",
    "compile_update",
    "evaluate",
    "if_not_exists",
    "key",
    "list_append",
    "size",
]
