"""Immutable expression values and their compiler.

Build conditions with ``attr("status") == "FUNDED"`` and ``& | ~``, updates with
``Update().set(...).add(...)``, key conditions with ``key("PK") == v``, projections with
``Projection(...)``; compile them against one ``Placeholders`` accumulator (or call
``build_request_parts``). ``check_*`` bind an expression to a pydantic model before
anything is sent; ``evaluate`` and ``apply_update`` give DynamoDB's answer on plain
Python items, for in-memory fakes and tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from tctf_dynamo import _lazy

# eager: ``evaluate`` is also a submodule's name, which an import would bind here instead
from tctf_dynamo.expressions.evaluate import apply_update, evaluate

if TYPE_CHECKING:
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

_HOMES: Final = {
    "Attr": "tctf_dynamo.expressions.attributes",
    "Condition": "tctf_dynamo.expressions.conditions",
    "KeyAttr": "tctf_dynamo.expressions.key_conditions",
    "KeyCondition": "tctf_dynamo.expressions.key_conditions",
    "KeyPredicate": "tctf_dynamo.expressions.key_conditions",
    "Path": "tctf_dynamo.expressions.paths",
    "Placeholders": "tctf_dynamo.expressions.compiler",
    "Projection": "tctf_dynamo.expressions.projections",
    "Size": "tctf_dynamo.expressions.attributes",
    "Update": "tctf_dynamo.expressions.updates",
    "attr": "tctf_dynamo.expressions.attributes",
    "bind": "tctf_dynamo.expressions.binding",
    "build_request_parts": "tctf_dynamo.expressions.compiler",
    "check_condition": "tctf_dynamo.expressions.binding",
    "check_key_condition": "tctf_dynamo.expressions.binding",
    "check_projection": "tctf_dynamo.expressions.binding",
    "check_update": "tctf_dynamo.expressions.binding",
    "compile_condition": "tctf_dynamo.expressions.compiler",
    "compile_key_condition": "tctf_dynamo.expressions.compiler",
    "compile_projection": "tctf_dynamo.expressions.compiler",
    "compile_update": "tctf_dynamo.expressions.compiler",
    "if_not_exists": "tctf_dynamo.expressions.operands",
    "key": "tctf_dynamo.expressions.key_conditions",
    "list_append": "tctf_dynamo.expressions.operands",
    "size": "tctf_dynamo.expressions.attributes",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    return _lazy.load(__name__, _HOMES, name)


def __dir__() -> list[str]:
    return _lazy.names(__name__, __all__)
