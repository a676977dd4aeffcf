"""How far a GitHub import got in one listing: the newest update time imported and the ids updated at exactly then.

GitHub's `since` is inclusive and its times have whole seconds, so the items on the edge come back on the next run;
they are skipped unless they changed, while an item updated in that same second after the run is still imported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def parse_time(value: str) -> datetime:
    """An ISO 8601 time as GitHub writes it (or a bare date); naive values are taken as UTC."""
    parsed = datetime.fromisoformat(value.strip())
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class Watermark:
    """The newest `updated_at` (or `submitted_at`) seen in a listing, and the ids of the items updated then."""

    newest: str | None = None
    edge: set[int] = field(default_factory=set)

    @classmethod
    def from_json(cls, value: Any) -> Watermark:
        if not isinstance(value, dict):
            return cls()
        return cls(newest=value.get("newest"), edge={int(item) for item in value.get("edge") or []})

    def to_json(self) -> dict[str, Any]:
        return {"newest": self.newest, "edge": sorted(self.edge)}

    def copy(self) -> Watermark:
        return Watermark(self.newest, set(self.edge))

    def is_new(self, item: dict[str, Any], key: str = "updated_at") -> bool:
        """True for an item updated after the mark, or at the mark but not among the items already imported."""
        if self.newest is None:
            return True
        stamp = item.get(key)
        if not stamp:
            return False
        when, cut = parse_time(str(stamp)), parse_time(self.newest)
        return when > cut or (when == cut and int(item.get("id", -1)) not in self.edge)

    def fresh(self, items: Iterable[dict[str, Any]], key: str = "updated_at") -> list[dict[str, Any]]:
        return [item for item in items if self.is_new(item, key)]

    def advance(self, items: Iterable[dict[str, Any]], key: str = "updated_at") -> None:
        """Move the mark forward over imported items (in any order); it never moves back."""
        for item in items:
            stamp = item.get(key)
            if not stamp:
                continue
            when = parse_time(str(stamp))
            if self.newest is None or when > parse_time(self.newest):
                self.newest, self.edge = str(stamp), {int(item["id"])}
            elif when == parse_time(self.newest):
                self.edge.add(int(item["id"]))


# The listings an import keeps a mark for, and the time field each is ordered by.
LISTINGS = {
    "issues": "updated_at",
    "issue-comments": "updated_at",
    "pulls": "updated_at",
    "reviews": "submitted_at",
    "review-comments": "updated_at",
}


class Marks:
    """Per listing, the gate (what was imported when this run began) and the mark this run moves forward.

    With an explicit `since`, the gate is that time instead, and everything updated at or after it comes again.
    """

    def __init__(self, stored: dict[str, Any], since: str | None = None, moving: dict[str, Any] | None = None):
        self.gates = {name: Watermark(since) if since else Watermark.from_json(stored.get(name)) for name in LISTINGS}
        base = {**stored, **(moving or {})}  # resuming: the marks an interrupted listing had reached
        self.moving = {name: Watermark.from_json(base.get(name)) for name in LISTINGS}

    def fresh(self, listing: str, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The items new since the gate; the moving mark passes over them."""
        key = LISTINGS[listing]
        new = self.gates[listing].fresh(items, key)
        self.moving[listing].advance(new, key)
        return new

    def ended_since(self, pr: dict[str, Any]) -> bool:
        """True when a pull request was merged or closed after the gate (so its end is not yet imported)."""
        ended = pr.get("merged_at") or pr.get("closed_at")
        return bool(ended) and self.gates["pulls"].is_new({"id": pr.get("id", -1), "updated_at": ended})

    def to_json(self, *listings: str) -> dict[str, Any]:
        return {name: self.moving[name].to_json() for name in listings or LISTINGS}
