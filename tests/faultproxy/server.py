"""The proxy itself: a threaded HTTP/1.1 server on 127.0.0.1 that forwards to upstream."""

from __future__ import annotations

import collections
import contextlib
import http.client
import select
import socket
import socketserver
import threading
import time
import urllib.parse
from collections.abc import Callable, Collection
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from tests.faultproxy.exchange import (
    NOT_FORWARDED_HEADERS,
    TARGET_PREFIX,
    Exchange,
    Stopped,
    operation_of,
    parse,
)
from tests.faultproxy.faults import (
    DEFAULT_RANDOM_FAULTS,
    Fault,
    ProxyMode,
    RandomPlan,
    RequestInfo,
    Rule,
)
from tests.faultproxy.stats import OperationStats, RequestRecord, Stats
from tests.faultproxy.tokens import DEFAULT_WINDOW_SECONDS, StoredAnswer, TokenLedger

UPSTREAM_TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 0.02
JOIN_SECONDS = 2.0


class _Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    block_on_close = False
    proxy: FaultProxy

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (slow without DNS); not needed.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client that went away mid-answer is an expected event here."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.proxy._track(self)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.proxy._untrack(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests assert on statistics, not on an access log."""

    def do_POST(self) -> None:
        self.server.proxy._handle(self)

    do_GET = do_PUT = do_DELETE = do_POST


class FaultProxy:
    """A fault-injecting HTTP proxy in front of a DynamoDB-compatible ``upstream`` URL.

    ``token_window_seconds`` and ``clock`` (monotonic seconds) set the ClientRequestToken
    idempotency window, so a test can prove expiry without waiting ten minutes.
    """

    def __init__(
        self,
        upstream: str,
        *,
        token_window_seconds: float = DEFAULT_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        if parsed.hostname is None or parsed.port is None:
            raise ValueError("upstream must be http://host:port")
        self.upstream = upstream
        self._upstream_address = (parsed.hostname, parsed.port)
        self._tokens = TokenLedger(window_seconds=token_window_seconds, clock=clock)
        self._stats = Stats()
        self._lock = threading.Condition()
        self._mode = ProxyMode.PASS
        self._mode_seconds = 0.0
        self._rule: Rule | None = None
        self._queued: dict[str, collections.deque[Fault]] = {}
        self._handlers: set[_Handler] = set()
        self._threads: set[threading.Thread] = set()
        self._active = 0
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._serve_thread: threading.Thread | None = None

    # -- life cycle -------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("the proxy is not started")
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> FaultProxy:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.proxy = self
        self._server = server
        self._serve_thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fault-proxy",
            daemon=True,
        )
        self._serve_thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, release every held request and close every connection."""
        if self._server is None or self._stopping.is_set():
            return
        self._stopping.set()
        with self._lock:
            self._lock.notify_all()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            handlers, threads = list(self._handlers), list(self._threads)
        for handler in handlers:
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + JOIN_SECONDS
        for thread in [*threads, self._serve_thread]:
            if thread is not None:
                thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- planning ---------------------------------------------------------------------

    @property
    def mode(self) -> ProxyMode:
        return self._mode

    def set_mode(self, mode: ProxyMode, *, seconds: float = 0.0) -> None:
        """Switch the whole proxy; ``seconds`` is the delay of :attr:`ProxyMode.SLOW`.

        Leaving ``HANG`` drops the requests it held (closed without an answer).
        """
        with self._lock:
            self._mode, self._mode_seconds = mode, seconds
            self._lock.notify_all()

    def set_rule(self, rule: Rule | None) -> None:
        """Consult ``rule`` for every request without a queued fault (``None``: none)."""
        with self._lock:
            self._rule = rule

    def fail_next(self, operation: str, fault: Fault, *, times: int = 1) -> None:
        """The next ``times`` requests of ``operation`` (``"PutItem"``) meet ``fault``."""
        with self._lock:
            self._queued.setdefault(operation, collections.deque()).extend([fault] * times)

    def plan_random(
        self,
        *,
        rate: float,
        seed: int,
        faults: Collection[Fault] = DEFAULT_RANDOM_FAULTS,
        operations: Collection[str] | None = None,
    ) -> RandomPlan:
        """Install (and return) a seeded :class:`RandomPlan` as the rule."""
        plan = RandomPlan(rate=rate, seed=seed, faults=faults, operations=operations)
        self.set_rule(plan)
        return plan

    def clear(self) -> None:
        """Back to plain forwarding: no queued faults, no rule, mode ``PASS``."""
        with self._lock:
            self._queued.clear()
            self._rule = None
        self.set_mode(ProxyMode.PASS)

    # -- observing --------------------------------------------------------------------

    def stats(self, operation: str) -> OperationStats:
        return self._stats.of(operation)

    def all_stats(self) -> dict[str, OperationStats]:
        return {operation: self._stats.of(operation) for operation in self._stats.operations()}

    def records(self, operation: str | None = None) -> list[RequestRecord]:
        """Finished requests in completion order (a held request appears when it ends)."""
        return self._stats.records(operation)

    def reset_stats(self) -> None:
        self._stats.reset()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request is being handled (held ones included); False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: self._active == 0, timeout)

    # -- handling (called on the connection's thread) -----------------------------------

    def _track(self, handler: _Handler) -> None:
        with self._lock:
            self._handlers.add(handler)
            self._threads.add(threading.current_thread())

    def _untrack(self, handler: _Handler) -> None:
        with self._lock:
            self._handlers.discard(handler)
            self._threads.discard(threading.current_thread())

    def _handle(self, handler: _Handler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        target = handler.headers.get("X-Amz-Target") or ""
        operation = target.removeprefix(TARGET_PREFIX)
        parsed = parse(body)
        token = parsed.get("ClientRequestToken") if parsed is not None else None
        sequence = self._stats.count(operation, "arrived")
        info = RequestInfo(operation, parsed, token if isinstance(token, str) else None, sequence)
        with self._lock:
            self._active += 1
            mode, mode_seconds = self._mode, self._mode_seconds
        exchange = Exchange(self, handler, info, body, mode)
        try:
            exchange.run(mode_seconds)
        except Stopped:
            exchange.drop()
        finally:
            self._stats.record(exchange.result())
            with self._lock:
                self._active -= 1
                self._lock.notify_all()

    def _choose(self, info: RequestInfo) -> Fault | None:
        with self._lock:
            queued = self._queued.get(info.operation)
            if queued:
                return queued.popleft()
            rule = self._rule
        return rule(info) if rule is not None else None

    def _sleep(self, seconds: float) -> None:
        if self._stopping.wait(seconds):
            raise Stopped

    def _hang(self, handler: _Handler, *, while_mode_hangs: bool) -> None:
        """Hold until the client goes away, the proxy stops, or (if asked) the mode changes."""
        sock = handler.connection
        while not self._stopping.is_set():
            if while_mode_hangs and self._mode is not ProxyMode.HANG:
                return
            try:
                readable, _, _ = select.select([sock], [], [], POLL_SECONDS)
                if readable and not sock.recv(1, socket.MSG_PEEK):
                    return
            except OSError:
                return

    def _forward(self, handler: _Handler, body: bytes) -> StoredAnswer | None:
        self._stats.count(operation_of(handler), "forwarded")
        host, port = self._upstream_address
        connection = http.client.HTTPConnection(host, port, timeout=UPSTREAM_TIMEOUT_SECONDS)
        try:
            connection.putrequest(
                handler.command, handler.path, skip_host=True, skip_accept_encoding=True
            )
            for name, value in handler.headers.items():
                if name.lower() not in NOT_FORWARDED_HEADERS | {"content-length"}:
                    connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))  # the body may be cut
            connection.endheaders(body)
            response = connection.getresponse()
            data = response.read()
            return StoredAnswer(response.status, tuple(response.getheaders()), data)
        except (OSError, http.client.HTTPException):
            return None
        finally:
            connection.close()
