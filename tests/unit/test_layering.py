"""The package folders are the architecture: which layer may import which, checked.

Every module of ``tctf_dynamo`` is parsed (never imported) and its imports are sorted by
when they run: at import time, inside a function (still at run time), or under
``if TYPE_CHECKING:`` (never at run time, so allowed across layers: annotations may name
a shell's class). The rules below hold on the run-time imports; docs/architecture.md
explains them. Moving a module or adding a package is one edit of the tables below.

Each rule is also fed a synthetic module that breaks it, so no rule passes vacuously.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "tctf_dynamo"
SOURCE = Path(__file__).resolve().parents[2] / PACKAGE

# ---------------------------------------------------------------------------- the rules
# A layer is a top-level package or root module of tctf_dynamo, named relative to it;
# "__init__" is the package's own facade. Entries of a rule match a module and its
# submodules ("providers" matches "providers.boto3"); "*" matches every module.
PURE = (
    "errors", "limits", "wire", "validation", "effects", "expressions", "model", "streams",
    "pagination", "resilience", "core",
)  # fmt: skip
"""Decide, never perform I/O: usable by both shells."""
SHARED = ("batch", "uow")
"""Programs both shells run, beside the blocking runner of the sync API's batch and unit
of work functions (which take a DynamoDBService only in annotations)."""
SHELLS = ("sync", "aio")
"""Perform the programs' effects: blocking, or awaited."""
EDGE = ("providers", "observability", "testing", "cli", "__main__", "__init__", "_lazy")
"""Backends, adapters, the test kit, the command line, the facade."""
PROVIDER_CONTRACT = ("providers.base", "providers.attempts")
"""What a layer above the providers may know of them: the protocol and the attempt context."""


@dataclass(frozen=True)
class Rule:
    name: str
    sources: tuple[str, ...]
    forbidden: tuple[str, ...]
    allowed: tuple[str, ...] = ()


RULES = (
    Rule("pure layers never import a shell", PURE, SHELLS),
    Rule("pure layers reach a backend only through its contract", PURE, ("providers",),
         PROVIDER_CONTRACT),
    Rule("shared parts import neither shell nor a concrete provider", SHARED,
         (*SHELLS, "providers"), PROVIDER_CONTRACT),
    Rule("the sync shell never imports the async shell", ("sync",), ("aio",)),
    Rule("the async shell never imports the sync shell", ("aio",), ("sync",)),
    Rule("providers stand on errors and limits only", ("providers",), ("*",),
         ("providers", "errors", "limits", "_lazy")),
    Rule("resilience never sees a model, an expression or a decision", ("resilience",), ("*",),
         ("resilience", "effects", "errors", "limits", "_lazy", *PROVIDER_CONTRACT)),
    Rule("effects import nothing of the library", ("effects",), ("*",), ("effects",)),
    Rule("wire stands on errors and limits only", ("wire",), ("*",),
         ("wire", "errors", "limits")),
    Rule("the library never imports its facade, test kit or command line",
         (*PURE, *SHARED, *SHELLS, "providers", "observability"),
         ("__init__", "testing", "cli", "__main__")),
)  # fmt: skip
ALLOWED_PACKAGE_CYCLES: frozenset[frozenset[str]] = frozenset()
"""Strongly connected groups of layers tolerated in the run-time import graph: none."""
LAYERS = (*PURE, *SHARED, *SHELLS, *EDGE)
ROOT_MODULES = frozenset({"__init__", "__main__", "_lazy", "cli", "errors", "limits"})
"""The only modules at the package root: the facade, entry points and the foundations."""


# -------------------------------------------------------------------------- the checker
@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int
    when: str  # "load" (module scope), "call" (inside a function) or "typing"


def _relative(module: str) -> str:
    return "__init__" if module == PACKAGE else module.removeprefix(PACKAGE + ".")


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports_of(module: str, is_package: bool, text: str, known: set[str]) -> Iterator[Import]:
    """Every import of ``module`` (a dotted name under ``tctf_dynamo``) into the package."""
    package = module if is_package else module.rpartition(".")[0]

    def targets(node: ast.Import | ast.ImportFrom) -> Iterator[str]:
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
            return
        base = node.module or ""
        if node.level:
            parts = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*parts, *([base] if base else [])])
        for alias in node.names:
            yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base

    def visit(nodes: Iterable[ast.AST], when: str) -> Iterator[Import]:
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in targets(node):
                    if target == PACKAGE or target.startswith(PACKAGE + "."):
                        yield Import(_relative(module), _relative(target), node.lineno, when)
            elif isinstance(node, ast.If) and _is_type_checking(node.test):
                yield from visit(node.body, "typing")
                yield from visit(node.orelse, when)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                yield from visit(
                    ast.iter_child_nodes(node), "typing" if when == "typing" else "call"
                )
            else:
                yield from visit(ast.iter_child_nodes(node), when)

    yield from visit(ast.parse(text).body, "load")


def import_graph(sources: Mapping[str, tuple[bool, str]]) -> list[Import]:
    """The imports of modules given as ``{dotted name: (is a package, source text)}``."""
    known = set(sources)
    return [
        found
        for module, (is_package, text) in sorted(sources.items())
        for found in _imports_of(module, is_package, text, known)
    ]


def package_sources(root: Path = SOURCE) -> dict[str, tuple[bool, str]]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        found[name] = (is_package, path.read_text(encoding="utf-8"))
    return found


def _matches(module: str, entries: Iterable[str]) -> bool:
    return any(e == "*" or module == e or module.startswith(e + ".") for e in entries)


def layer_of(module: str) -> str:
    return module.split(".", maxsplit=1)[0]


def violations(imports: Iterable[Import], rules: Iterable[Rule] = RULES) -> list[str]:
    """Run-time imports a rule forbids, one message each."""
    found = []
    for rule in rules:
        for item in imports:
            if item.when == "typing" or layer_of(item.target) == layer_of(item.source):
                continue
            if not _matches(item.source, rule.sources):
                continue
            if _matches(item.target, rule.forbidden) and not _matches(item.target, rule.allowed):
                found.append(
                    f"{rule.name}: {PACKAGE}.{item.source} imports {PACKAGE}.{item.target} "
                    f"(line {item.line})"
                )
    return found


def unplaced(modules: Iterable[str], layers: Iterable[str] = LAYERS) -> list[str]:
    """Modules whose top-level package or root module is in no layer of the table."""
    known = set(layers)
    return sorted(
        f"{PACKAGE}.{layer_of(module)} belongs to no layer"
        for module in {_relative(m) for m in modules}
        if layer_of(module) not in known
    )


def _strongly_connected(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; groups of more than one node, sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph.get(succ, ())))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return sorted(groups)


def package_cycles(
    imports: Iterable[Import], allowed: frozenset[frozenset[str]] = ALLOWED_PACKAGE_CYCLES
) -> list[str]:
    """Groups of layers that import each other at run time, with one import per edge."""
    graph: dict[str, set[str]] = {}
    example: dict[tuple[str, str], Import] = {}
    for item in imports:
        source, target = layer_of(item.source), layer_of(item.target)
        if item.when == "typing" or source == target:
            continue
        graph.setdefault(source, set()).add(target)
        example.setdefault((source, target), item)
    found = []
    for group in _strongly_connected(graph):
        if frozenset(group) in allowed:
            continue
        edges = "; ".join(
            f"{e.source} -> {e.target} (line {e.line})"
            for (s, t), e in sorted(example.items())
            if s in group and t in group
        )
        found.append(f"import cycle between packages {', '.join(group)}: {edges}")
    return found


def module_cycles(imports: Iterable[Import]) -> list[str]:
    """Modules that import each other while being imported (module-scope imports)."""
    graph: dict[str, set[str]] = {}
    for item in imports:
        if item.when == "load" and item.source != item.target:
            graph.setdefault(item.source, set()).add(item.target)
    return [f"import-time cycle between modules {', '.join(g)}" for g in _strongly_connected(graph)]


# ------------------------------------------------------------------- the real package
@pytest.fixture(scope="module")
def sources() -> dict[str, tuple[bool, str]]:
    return package_sources()


@pytest.fixture(scope="module")
def graph(sources: dict[str, tuple[bool, str]]) -> list[Import]:
    return import_graph(sources)


def test_the_checker_sees_the_real_imports(graph: list[Import]) -> None:
    edges = {(i.source, i.target, i.when) for i in graph}
    assert ("sync.service", "core.service_core", "load") in edges
    assert {"load", "call", "typing"} == {when for _, _, when in edges}
    assert len({i.source for i in graph}) > 100


def test_every_module_sits_in_a_layer(sources: dict[str, tuple[bool, str]]) -> None:
    assert unplaced(sources) == []


def test_the_root_holds_only_the_foundations_and_the_entry_points() -> None:
    assert {path.stem for path in SOURCE.glob("*.py")} == ROOT_MODULES


def test_no_layer_imports_what_its_rules_forbid(graph: list[Import]) -> None:
    assert violations(graph) == []


def test_no_import_cycle_between_packages(graph: list[Import]) -> None:
    assert package_cycles(graph) == []


def test_no_import_time_cycle_between_modules(graph: list[Import]) -> None:
    assert module_cycles(graph) == []


# --------------------------------------------------------------- each rule can fail
_CANDIDATES = (
    "aio.service", "sync.service", "providers.boto3", "model.entity", "core.writes",
    "testing.faults", "__init__",
)  # fmt: skip


def _breaking_target(rule: Rule) -> str:
    return next(
        c for c in _CANDIDATES if _matches(c, rule.forbidden) and not _matches(c, rule.allowed)
        and layer_of(c) != rule.sources[0]
    )  # fmt: skip


def _synthetic(modules: Mapping[str, str]) -> list[Import]:
    return import_graph(
        {f"{PACKAGE}.{name}": (False, "") for name in _CANDIDATES if name != "__init__"}
        | {PACKAGE: (True, "")}
        | {f"{PACKAGE}.{name}": (False, text) for name, text in modules.items()}
    )


def _import_line(target: str) -> str:
    return f"import {PACKAGE}" if target == "__init__" else f"from {PACKAGE}.{target} import x"


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_each_rule_reports_a_module_that_breaks_it(rule: Rule) -> None:
    target = _breaking_target(rule)
    source = f"{rule.sources[0]}.offender"
    graph = _synthetic({source: _import_line(target)})
    assert violations(graph, [rule]) == [
        f"{rule.name}: {PACKAGE}.{source} imports {PACKAGE}.{target} (line 1)"
    ]


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_a_type_checking_import_breaks_no_rule(rule: Rule) -> None:
    target = _breaking_target(rule)
    text = f"from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    {_import_line(target)}\n"
    assert violations(_synthetic({f"{rule.sources[0]}.offender": text}), [rule]) == []


def test_an_import_inside_a_function_counts_as_a_run_time_import() -> None:
    text = "def later():\n    from tctf_dynamo.sync.service import DynamoDBService\n"
    assert violations(_synthetic({"core.offender": text})) == [
        "pure layers never import a shell: tctf_dynamo.core.offender imports "
        "tctf_dynamo.sync.service (line 2)"
    ]


def test_a_relative_import_is_resolved() -> None:
    graph = import_graph(
        {
            f"{PACKAGE}.wire": (True, ""),
            f"{PACKAGE}.wire.codec": (False, "from ..sync import service\n"),
            f"{PACKAGE}.sync": (True, ""),
            f"{PACKAGE}.sync.service": (False, ""),
        }
    )
    assert [(i.source, i.target) for i in graph] == [("wire.codec", "sync.service")]


def test_a_cycle_between_packages_is_reported_with_its_imports() -> None:
    graph = _synthetic(
        {
            "wire.offender": "def later():\n    import tctf_dynamo.core.writes\n",
            "core.writes": "from tctf_dynamo.wire.offender import x\n",
        }
    )
    assert package_cycles(graph) == [
        "import cycle between packages core, wire: core.writes -> wire.offender (line 1); "
        "wire.offender -> core.writes (line 2)"
    ]
    assert package_cycles(graph, frozenset({frozenset({"core", "wire"})})) == []


def test_a_cycle_through_type_checking_imports_only_is_no_cycle() -> None:
    graph = _synthetic(
        {
            "batch.offender": "if TYPE_CHECKING:\n    from tctf_dynamo.sync.service import S\n",
            "sync.service": "from tctf_dynamo.batch.offender import x\n",
        }
    )
    assert package_cycles(graph) == []


def test_an_import_time_cycle_between_modules_is_reported() -> None:
    graph = _synthetic(
        {
            "sync.service": "import tctf_dynamo.sync.items\n",
            "sync.items": "import tctf_dynamo.sync.service\n",
        }
    )
    assert module_cycles(graph) == ["import-time cycle between modules sync.items, sync.service"]


def test_a_module_outside_every_layer_is_reported() -> None:
    assert unplaced([f"{PACKAGE}.tracing.spans", f"{PACKAGE}.wire.codec"]) == [
        "tctf_dynamo.tracing belongs to no layer"
    ]
