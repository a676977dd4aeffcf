"""A background thread that polls what happens outside the editor (`.git`, test reports) at set intervals."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass
class Check:
    """One periodic check: `run` every `every` seconds."""

    name: str
    every: float
    run: Callable[[], object]
    due: float = 0.0


class Watcher:
    """Runs its checks off the LSP thread, so a slow `git log` never delays a keystroke; a failing check is logged."""

    def __init__(self) -> None:
        self.checks: list[Check] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, name: str, every: float, run: Callable[[], object]) -> None:
        with self._lock:
            self.checks.append(Check(name, max(0.05, every), run, time.monotonic() + every))
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="smartco-watcher", daemon=True)
            self._thread.start()

    def run_due(self) -> float:
        """Run every check that is due; returns the seconds until the next one."""
        now = time.monotonic()
        with self._lock:
            due = [check for check in self.checks if check.due <= now]
        for check in due:
            try:
                check.run()
            except Exception:  # one broken check must not stop the others
                logger.exception("watch %s failed", check.name)
            check.due = time.monotonic() + check.every
        with self._lock:
            upcoming = min((check.due for check in self.checks), default=now + 1.0)
        return max(0.01, upcoming - time.monotonic())

    def run_all(self) -> None:
        """Run every check now."""
        with self._lock:
            checks = list(self.checks)
        for check in checks:
            check.due = 0.0
        self.run_due()

    def _loop(self) -> None:
        while not self._stop.wait(self.run_due()):
            pass

    def stop(self, final_poll: bool = True) -> None:
        """Stop the thread; then, once, run every check (what happened since the last poll is still recorded)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        if final_poll:
            self.run_all()
