"""The ``tctf-dynamo`` command (also ``python -m tctf_dynamo``).

Subcommands::

    tctf-dynamo version
    tctf-dynamo create-table MODULE:TABLE [--endpoint URL | --embedded] [--region R]
    tctf-dynamo load FILE.jsonl --table NAME [--endpoint URL] [--workers N] [--dynamodb-json]
    tctf-dynamo export --table NAME [--endpoint URL] [--output FILE] [--dynamodb-json]

Without ``--endpoint`` or ``--embedded`` the command talks to AWS with the usual
credential chain: the embedded backend is only ever used when asked for. ``load`` reads
the whole file, validates every line, then writes with a bulk job and draws a progress
bar on stderr. Lines are plain JSON objects by default (numbers become DynamoDB numbers,
exactly); with ``--dynamodb-json`` they are typed DynamoDB JSON (``{"PK": {"S": "x"}}``,
optionally wrapped as ``{"Item": {...}}`` like an S3 export, binaries in base64).
``export`` writes one item per line in the same two forms. Exit status: 0 done, 1 the
library refused or DynamoDB failed (the error code is printed), 2 bad usage.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import itertools
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, TextIO

from tctf_dynamo.batch import bulk_write
from tctf_dynamo.codec import decode_item, encode_item
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, UnprocessedItemsError, error_for
from tctf_dynamo.jsonwire import item_from_json, item_to_json
from tctf_dynamo.model import Table
from tctf_dynamo.service import DynamoDBService
from tctf_dynamo.validation import validate_item

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


# ---------------------------------------------------------------- JSON lines


def _bad_line(number: int, message: str) -> DynamoDBServiceError:
    return error_for(ErrorCode.INVALID_ITEM, f"line {number}: {message}", {"line": number})


def parse_line(text: str, number: int, *, dynamodb_json: bool) -> dict[str, Any]:
    """One JSONL line as a wire item."""
    try:
        value = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError:
        raise _bad_line(number, "not valid JSON") from None
    if dynamodb_json and isinstance(value, dict) and set(value) == {"Item"}:
        value = value["Item"]
    if not isinstance(value, dict):
        raise _bad_line(number, "not a JSON object")
    if not dynamodb_json:
        return encode_item(value)
    try:
        return item_from_json(value)
    except DynamoDBServiceError:
        raise _bad_line(number, "not DynamoDB JSON (see --dynamodb-json)") from None


def _plain_json(value: Any) -> Any:
    """``json.dumps`` default for decoded values; lossy forms are documented above."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def format_item(wire: Mapping[str, Any], *, dynamodb_json: bool) -> str:
    """One wire item as a JSONL line (without the newline)."""
    if dynamodb_json:
        return json.dumps(item_to_json(wire), sort_keys=True)
    return json.dumps(decode_item(wire), default=_plain_json, sort_keys=True)


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


# ---------------------------------------------------------------- wiring


class _Streams:
    def __init__(self, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> None:
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _connection_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    where = parent.add_mutually_exclusive_group()
    where.add_argument("--endpoint", metavar="URL", help="a DynamoDB-compatible endpoint")
    where.add_argument("--embedded", action="store_true", help="the in-process backend")
    parent.add_argument("--region", default=None, help="AWS region (default: botocore's)")
    return parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Single-table DynamoDB tools.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    connection = _connection_options()
    commands.add_parser("version", help="print the library version")
    create = commands.add_parser(
        "create-table", parents=[connection], help="create the Table a module defines"
    )
    create.add_argument("table_spec", metavar="MODULE:TABLE")
    load = commands.add_parser("load", parents=[connection], help="bulk-write a JSONL file")
    load.add_argument("file", metavar="FILE.jsonl", help="'-' reads standard input")
    load.add_argument("--table", required=True)
    load.add_argument("--workers", type=_positive, default=8, help="parallel requests")
    load.add_argument("--dynamodb-json", action="store_true", help="lines are typed")
    load.add_argument("--no-progress", dest="progress", action="store_false")
    export = commands.add_parser("export", parents=[connection], help="scan a table to JSONL")
    export.add_argument("--table", required=True)
    export.add_argument("--output", metavar="FILE", help="default: standard output")
    export.add_argument("--dynamodb-json", action="store_true", help="write typed values")
    return parser


def _service_for(args: argparse.Namespace) -> DynamoDBService:
    if args.embedded:
        return DynamoDBService.embedded()
    return DynamoDBService.from_endpoint(
        args.endpoint, region_name=args.region, max_workers=getattr(args, "workers", 8)
    )


_Command = Callable[[argparse.Namespace, DynamoDBService, _Streams], None]
_COMMANDS: dict[str, _Command] = {
    "create-table": lambda args, service, io: _create_table(args, service, io.stdout),
    "load": _load,
    "export": _export,
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
    own = service is None
    try:
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
