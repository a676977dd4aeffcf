"""A real collector process for tests, benchmarks and the quickstart: migrated database, token, uvicorn."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from collector_api import auth, database


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll `condition` until it returns something truthy; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningCollector:
    """A collector subprocess that can be stopped, killed (SIGKILL) and started again on the same port."""

    database_url: str
    token: str
    port: int
    log_path: Path
    workers: int = 1
    extra_args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        args = [
            sys.executable,
            "-m",
            "smartco.cli",
            "collector",
            "serve",
            "--database-url",
            self.database_url,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            *self.extra_args,
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=log, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"collector exited with {self.process.returncode}: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"collector not ready after {timeout}s: {self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown, no flush."""
        self._end(signal.SIGKILL)

    def _end(self, sig: int) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def prepare_database(database_url: str, project: str, scopes: tuple[str, ...] = auth.SCOPES) -> str:
    """Migrate `database_url` and create a token for `project`; returns the token."""
    engine = database.make_engine(database_url)
    try:
        database.upgrade(engine)
        with engine.begin() as conn:
            return auth.create_token(conn, project, list(scopes))[1]
    finally:
        engine.dispose()


@contextmanager
def running_collector(
    tmp_path: Path,
    database_url: str | None = None,
    project: str = "test",
    workers: int = 1,
    extra_args: list[str] | None = None,
) -> Iterator[RunningCollector]:
    """A migrated database (SQLite in tmp_path unless given), a token with every scope, a started server."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    url = database_url or f"sqlite:///{tmp_path / 'collector.db'}"
    token = prepare_database(url, project)
    running = RunningCollector(url, token, free_port(), tmp_path / "collector.log", workers, extra_args or [])
    running.start()
    try:
        yield running
    finally:
        running.stop()
