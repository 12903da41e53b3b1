"""The ``tctf-dynamo`` command (also ``python -m tctf_dynamo``).

Subcommands::

    tctf-dynamo [--endpoint URL] [--region R] [--profile P] COMMAND ...
    tctf-dynamo version
    tctf-dynamo check MODULE:TABLE [--max-examples N]
    tctf-dynamo describe MODULE:TABLE
    tctf-dynamo create-table MODULE:TABLE [--endpoint URL | --embedded]
    tctf-dynamo load FILE.jsonl --table NAME [--workers N] [--dynamodb-json] [--[no-]progress]
    tctf-dynamo export --table NAME [--output FILE] [--dynamodb-json]

``check`` imports the module (which runs the class-definition checks of every entity) and
property-tests the table's key schema; it exits 1 on any problem, for CI. ``describe``
prints the table, its entities, key templates and the access patterns they serve as
Markdown. Neither needs a backend.

The connection options ``--endpoint``, ``--region`` and ``--profile`` may come before the
command or after it. Without ``--endpoint`` the command talks to AWS with the usual
credential chain (or the named profile): the embedded backend is only ever used when asked
for, and only ``create-table`` offers it (an embedded table lasts as long as one command,
so loading or exporting one could never work). ``load`` validates every line, then writes
with a bulk job, drawing a progress bar on stderr when stderr is a terminal (``--progress``
forces it, ``--no-progress`` turns it off). Lines are plain JSON objects by default
(numbers become DynamoDB numbers, exactly); with ``--dynamodb-json`` they are typed
DynamoDB JSON (``{"PK": {"S": "x"}}``, optionally wrapped as ``{"Item": {...}}`` like an S3
export, binaries in base64). ``export`` writes one item per line in the same two forms.
Exit status: 0 done, 1 the library refused, DynamoDB failed or a check found a problem
(the error code is printed), 2 bad usage.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TextIO

from tctf_dynamo.batch import bulk_write
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, UnprocessedItemsError, error_for
from tctf_dynamo.model import Table
from tctf_dynamo.sync.service import DynamoDBService
from tctf_dynamo.validation import validate_item
from tctf_dynamo.wire.jsonwire import format_item, parse_line

__all__ = ["ProgressBar", "main"]

PROG = "tctf-dynamo"


# ---------------------------------------------------------------- progress


class ProgressBar:
    """A one-line text bar, redrawn in place with ``\\r`` when the percentage changes."""

    def __init__(self, stream: TextIO, label: str, width: int = 30) -> None:
        self._stream = stream
        self._label = label
        self._width = width
        self._last: int | None = None

    def __call__(self, done: int, total: int) -> None:
        percent = done * 100 // total if total else 100
        if percent == self._last:
            return
        self._last = percent
        filled = self._width * percent // 100
        bar = "#" * filled + "." * (self._width - filled)
        self._stream.write(f"\r{self._label} [{bar}] {done}/{total} {percent:3d}%")
        self._stream.flush()

    def close(self) -> None:
        if self._last is not None:
            self._stream.write("\n")
            self._stream.flush()


# ---------------------------------------------------------------- commands


def _load_table(spec: str) -> Table:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise error_for(ErrorCode.INVALID_CONFIGURATION, "expected MODULE:TABLE")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # like `python -m`, find the user's own modules
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise error_for(
            ErrorCode.INVALID_CONFIGURATION, "cannot import the module", {"module": module_name}
        ) from None
    table = getattr(module, attribute, None)
    if not isinstance(table, Table):
        raise error_for(
            ErrorCode.INVALID_CONFIGURATION,
            "MODULE:TABLE must name a tctf_dynamo Table object",
            {"module": module_name, "attribute": attribute},
        )
    return table


def _create_table(args: argparse.Namespace, service: DynamoDBService, out: TextIO) -> None:
    table = _load_table(args.table_spec)
    service.create_table(table)
    where = " (embedded: it lasts as long as this process)" if args.embedded else ""
    out.write(f"table {table.name} is ACTIVE{where}\n")


def _read_lines(path: str, stdin: TextIO) -> Iterator[tuple[int, str]]:
    if path == "-":
        lines: Iterator[str] = iter(stdin)
        yield from ((number, line) for number, line in enumerate(lines, 1) if line.strip())
        return
    with open(path, encoding="utf-8") as handle:
        yield from ((number, line) for number, line in enumerate(handle, 1) if line.strip())


LOAD_CHUNK = 10_000
"""Items handed to one bulk write while loading a file: bounds the memory a load needs."""


def _load(args: argparse.Namespace, service: DynamoDBService, io: _Streams) -> None:
    """Load JSON lines: every line is parsed and validated before anything is sent.

    A file is read twice (a checking pass, then a writing pass in chunks), so memory
    stays bounded whatever its size; standard input can be read once, so it is held.
    """

    def parsed() -> Iterator[dict[str, Any]]:
        for number, line in _read_lines(args.file, io.stdin):
            yield parse_line(line, number, dynamodb_json=args.dynamodb_json)

    schema = service.key_schema(args.table)
    if args.file == "-":
        held = list(parsed())
        for item in held:
            validate_item(item, schema, service.unsafe_values)
        total, source = len(held), iter(held)
    else:
        total = 0
        for item in parsed():
            validate_item(item, schema, service.unsafe_values)
            total += 1
        source = parsed()
    bar = ProgressBar(io.stderr, "load") if args.progress else None
    done = 0
    try:
        while chunk := list(itertools.islice(source, LOAD_CHUNK)):
            offset = done

            def progress(sent: int, _: int, offset: int = offset) -> None:
                if bar is not None:
                    bar(offset + sent, total)

            puts = [(args.table, item) for item in chunk]
            bulk_write(service, puts=puts, max_workers=args.workers, on_progress=progress)
            done += len(chunk)
    finally:
        if bar is not None:
            bar.close()
    io.stdout.write(f"loaded {total} items into {args.table}\n")


def _export(args: argparse.Namespace, service: DynamoDBService, io: _Streams) -> None:
    out = io.stdout if args.output in (None, "-") else open(args.output, "w", encoding="utf-8")  # noqa: SIM115
    count = 0
    try:
        request: dict[str, Any] = {"TableName": args.table}
        while True:
            page = service.execute("Scan", request)
            for item in page.get("Items", []):
                out.write(format_item(item, dynamodb_json=args.dynamodb_json) + "\n")
                count += 1
            if not page.get("LastEvaluatedKey"):
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    finally:
        if out is not io.stdout:
            out.close()
    io.stderr.write(f"exported {count} items from {args.table}\n")


# ---------------------------------------------------------------- design commands


def _check(args: argparse.Namespace, io: _Streams) -> int:
    """Key-schema checks of a table: class definitions (on import), then properties."""
    table = _load_table(args.table_spec)
    try:
        from tctf_dynamo.testing.schema_checks import check_key_schema
    except ModuleNotFoundError as error:
        raise error_for(
            ErrorCode.INVALID_CONFIGURATION,
            "check needs hypothesis: pip install 'tctf-dynamo[testing]'",
            {"missing": error.name},
        ) from error
    names = ", ".join(table.entities) or "no entities"
    try:
        check_key_schema(table, max_examples=args.max_examples)
    except AssertionError as problem:
        io.stderr.write(f"check failed: table {table.name}: {problem}\n")
        return 1
    io.stdout.write(f"table {table.name}: key schema sound ({names})\n")
    return 0


def _describe(args: argparse.Namespace, io: _Streams) -> int:
    from tctf_dynamo.model.describe import describe_table

    io.stdout.write(describe_table(_load_table(args.table_spec)))
    return 0


# ---------------------------------------------------------------- wiring


class _Streams:
    def __init__(self, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> None:
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


class _NoEmbedded(argparse.Action):
    """``--embedded`` where it cannot work: a usage error that says why."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        parser.error(
            "--embedded is only for create-table: an embedded table lasts as long as one "
            "command; use --endpoint with a local server (moto server, DynamoDB Local)"
        )


def _connection_options(*, top: bool) -> argparse.ArgumentParser:
    """The connection options; after the command they leave unset ones alone, so
    ``tctf-dynamo --region R load ...`` and ``tctf-dynamo load ... --region R`` agree."""
    parent = argparse.ArgumentParser(add_help=False)
    default: Any = None if top else argparse.SUPPRESS
    parent.add_argument(
        "--endpoint", metavar="URL", default=default, help="a DynamoDB-compatible endpoint"
    )
    parent.add_argument("--region", default=default, help="AWS region (default: botocore's)")
    parent.add_argument("--profile", default=default, help="a profile of the AWS config files")
    return parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Single-table DynamoDB tools.",
        parents=[_connection_options(top=True)],
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    connection = _connection_options(top=False)
    commands.add_parser("version", help="print the library version")
    check = commands.add_parser("check", help="check a table's key schema (exit 1 on a problem)")
    check.add_argument("table_spec", metavar="MODULE:TABLE")
    check.add_argument("--max-examples", type=_positive, default=100, help="per property")
    describe = commands.add_parser("describe", help="a table's design as Markdown")
    describe.add_argument("table_spec", metavar="MODULE:TABLE")
    create = commands.add_parser(
        "create-table", parents=[connection], help="create the Table a module defines"
    )
    create.add_argument("table_spec", metavar="MODULE:TABLE")
    create.add_argument("--embedded", action="store_true", help="the in-process backend")
    load = commands.add_parser("load", parents=[connection], help="bulk-write a JSONL file")
    load.add_argument("file", metavar="FILE.jsonl", help="'-' reads standard input")
    load.add_argument("--table", required=True)
    load.add_argument("--workers", type=_positive, default=8, help="parallel requests")
    load.add_argument("--dynamodb-json", action="store_true", help="lines are typed")
    load.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    export = commands.add_parser("export", parents=[connection], help="scan a table to JSONL")
    export.add_argument("--table", required=True)
    export.add_argument("--output", metavar="FILE", help="default: standard output")
    export.add_argument("--dynamodb-json", action="store_true", help="write typed values")
    for command in (load, export):
        command.add_argument("--embedded", nargs=0, action=_NoEmbedded, help=argparse.SUPPRESS)
    return parser


def _service_for(args: argparse.Namespace) -> DynamoDBService:
    workers = getattr(args, "workers", 8)
    if getattr(args, "embedded", False):
        if args.endpoint is not None or args.profile is not None:
            raise error_for(
                ErrorCode.INVALID_CONFIGURATION, "--embedded excludes --endpoint and --profile"
            )
        return DynamoDBService.embedded()
    return DynamoDBService.from_endpoint(
        args.endpoint, region_name=args.region, max_workers=workers, profile_name=args.profile
    )


def _with_progress(args: argparse.Namespace, io: _Streams) -> None:
    """A progress bar only where someone watches: on a terminal, unless asked."""
    if getattr(args, "progress", False) is None:
        isatty = getattr(io.stderr, "isatty", None)
        args.progress = bool(isatty and isatty())


_Command = Callable[[argparse.Namespace, DynamoDBService, _Streams], None]
_COMMANDS: dict[str, _Command] = {
    "create-table": lambda args, service, io: _create_table(args, service, io.stdout),
    "load": _load,
    "export": _export,
}
_OFFLINE: dict[str, Callable[[argparse.Namespace, _Streams], int]] = {
    "check": _check,
    "describe": _describe,
}


def main(
    argv: Sequence[str] | None = None,
    *,
    service: DynamoDBService | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the command; ``service`` replaces the one the options would build (tests)."""
    io = _Streams(stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr)
    args = build_parser().parse_args(argv)
    if args.command == "version":
        from tctf_dynamo import __version__

        io.stdout.write(f"{PROG} {__version__}\n")
        return 0
    _with_progress(args, io)
    own = service is None
    try:
        if args.command in _OFFLINE:
            return _OFFLINE[args.command](args, io)
        if service is None:
            service = _service_for(args)
        _COMMANDS[args.command](args, service, io)
    except UnprocessedItemsError as error:
        io.stderr.write(f"error: [{error.code}] {error.message}; every other item was written\n")
        return 1
    except DynamoDBServiceError as error:
        io.stderr.write(f"error: [{error.code}] {error.message}\n")
        return 1
    finally:
        if own and service is not None:
            service.close()
    return 0
