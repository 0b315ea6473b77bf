"""A real ``redis-server`` for the tests: a free loopback port, a temporary directory.

In CI (``CI=true``) a missing server or a missing redis-py fails the tests that
need them; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class RedisServer:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"


def missing(reason: str, *, module_level: bool = False) -> None:
    """Fail in CI, skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the Redis tests must run)", pytrace=False)
    pytest.skip(reason, allow_module_level=module_level)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ping(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def run_redis_server(directory: Path) -> Iterator[RedisServer]:
    """Start ``redis-server`` on 127.0.0.1 (no persistence) and stop it afterwards."""
    binary = shutil.which("redis-server")
    if binary is None:
        missing("redis-server is not installed (Debian: apt-get install redis-server)")
        raise AssertionError("unreachable")
    try:
        import redis  # noqa: F401
    except ImportError:
        missing("redis-py is not installed (pip install 'okru-sdk[redis]')")
    for _ in range(3):  # another process may take the free port first
        port = free_port()
        proc = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--dir",
                str(directory),
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(directory / f"redis-{port}.log"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < deadline and not _ping("127.0.0.1", port):
            time.sleep(0.02)
        if proc.poll() is None and _ping("127.0.0.1", port):
            break
        proc.kill()
        proc.wait()
    else:
        pytest.fail(f"redis-server did not start; see {directory}", pytrace=False)
    try:
        yield RedisServer("127.0.0.1", port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
