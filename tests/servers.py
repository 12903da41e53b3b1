"""Start and stop the real local DynamoDB implementations the server tier runs against.

Each server is started on a free loopback port, waited for until it answers HTTP, and
stopped (with its process group) when the test session ends, also on failure.
Set ``TCTF_MOTO_ENDPOINT`` / ``TCTF_DYNALITE_ENDPOINT`` to use servers you run yourself.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DYNALITE_CLI = ROOT / "node_modules" / "dynalite" / "cli.js"
STARTUP_TIMEOUT_SECONDS = 60.0


@dataclass
class RunningServer:
    name: str
    endpoint: str
    process: subprocess.Popen[bytes] | None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_answering(endpoint: str, process: subprocess.Popen[bytes], name: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} before answering")
        try:
            urllib.request.urlopen(endpoint, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer means the server is up
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer on {endpoint} within {STARTUP_TIMEOUT_SECONDS}s")


def _start(name: str, argv: list[str], port: int) -> RunningServer:
    endpoint = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        argv,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_until_answering(endpoint, process, name)
    except BaseException:
        RunningServer(name, endpoint, process).stop()
        raise
    return RunningServer(name, endpoint, process)


def start_moto() -> RunningServer:
    override = os.environ.get("TCTF_MOTO_ENDPOINT")
    if override:
        return RunningServer("moto", override, None)
    port = free_port()
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    return _start("moto", argv, port)


def start_dynalite() -> RunningServer:
    override = os.environ.get("TCTF_DYNALITE_ENDPOINT")
    if override:
        return RunningServer("dynalite", override, None)
    if not DYNALITE_CLI.exists():
        raise RuntimeError("dynalite is not installed: run `npm ci` at the repository root")
    port = free_port()
    argv = [
        "node",
        str(DYNALITE_CLI),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--createTableMs",
        "0",
        "--deleteTableMs",
        "0",
        "--updateTableMs",
        "0",
    ]
    return _start("dynalite", argv, port)


def reset_moto(endpoint: str) -> None:
    """Drop every table on a moto server (its documented reset endpoint)."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
