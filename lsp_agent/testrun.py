"""Test runs of one recording in order: which tests went from failing to passing, and the edits in between."""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID

FAILING = frozenset({"failed", "error"})
MAX_LINKED_EDITS = 1000


class TestHistory:
    """The outcomes of the previous run and the `document.changed` events recorded since; thread-safe."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self.previous_id: UUID | None = None
        self.outcomes: dict[str, str] = {}
        self.edits: list[UUID] = []
        self._lock = threading.Lock()

    def edited(self, event_id: UUID) -> None:
        """An edit episode was recorded: the next run is linked to it."""
        with self._lock:
            if len(self.edits) < MAX_LINKED_EDITS:
                self.edits.append(event_id)

    def link(self, payload: dict[str, Any], run_id: UUID) -> dict[str, Any]:
        """`payload` of run `run_id` with its transitions from the previous run and the edits between the two."""
        now = {t["test_id"]: t["outcome"] for t in payload["tests"]}
        with self._lock:
            before = self.outcomes
            fixed = sorted(t for t, o in now.items() if o == "passed" and before.get(t) in FAILING)
            broken = sorted(t for t, o in now.items() if o in FAILING and before.get(t) == "passed")
            linked = {"previous_run_id": self.previous_id, "fixed": fixed, "broken": broken}
            linked["edits_since_previous"] = list(self.edits) if self.previous_id is not None else []
            self.outcomes = {**before, **now}
            self.previous_id, self.edits = run_id, []
        return payload | linked
