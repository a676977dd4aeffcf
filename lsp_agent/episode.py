"""Edit episodes: keystrokes on one document coalesced until an idle gap, a save, a close or a switch."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class Episode:
    """A burst of changes to one document: the text before it and, once closed, the text after it."""

    uri: str
    before: list[str]
    version_from: int | None
    started_at: datetime
    last_change: float
    version_to: int | None = None
    changes: int = 0
    inserts: list[str] = field(default_factory=list)  # large single insertions seen during the burst

    @property
    def before_text(self) -> str:
        return "".join(self.before)


class EpisodeTracker:
    """Open episodes by document; `touch` before applying a change, `close`/`close_idle` to end them."""

    def __init__(self, idle_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_seconds = idle_seconds
        self.clock = clock
        self.open: dict[str, Episode] = {}
        self.current: str | None = None

    def touch(self, uri: str, lines: list[str], version: int | None) -> tuple[Episode, list[Episode]]:
        """The episode a change to `uri` belongs to (started now if none), and episodes closed by the switch."""
        closed: list[Episode] = []
        if self.current is not None and self.current != uri and self.current in self.open:
            closed.append(self.open.pop(self.current))
        self.current = uri
        now = self.clock()
        episode = self.open.get(uri)
        if episode is None:
            episode = Episode(uri, list(lines), version, datetime.now(UTC), now)
            self.open[uri] = episode
        episode.last_change = now
        return episode, closed

    def close(self, uri: str) -> Episode | None:
        """End the open episode of `uri` (save, close, explicit flush)."""
        if self.current == uri:
            self.current = None
        return self.open.pop(uri, None)

    def close_idle(self) -> list[Episode]:
        """End every episode whose last change is older than the idle gap."""
        deadline = self.clock() - self.idle_seconds
        idle = [uri for uri, episode in self.open.items() if episode.last_change <= deadline]
        return [episode for uri in idle if (episode := self.close(uri)) is not None]

    def close_all(self) -> list[Episode]:
        episodes = list(self.open.values())
        self.open.clear()
        self.current = None
        return episodes
