"""What an import already did, per source and destination, so the next run picks up only what is new."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from trajectory.sources import SourceError

log = logging.getLogger(__name__)


def default_state_path() -> Path:
    """`$XDG_STATE_HOME/smartco/import-state.json` (or `~/.local/state/...`)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "smartco" / "import-state.json"


@dataclass
class Checkpoint:
    """A run in progress: the range it mines and how many of its events the destination already has."""

    plan: str
    base_seq: int
    sent: int = 0


@dataclass
class StreamState:
    """One source stream (a repository, a GitHub repository) into one destination."""

    refs: dict[str, str] = field(default_factory=dict)  # ref -> last imported tip (git); resource -> cursor
    next_seq: int = 0
    checkpoint: Checkpoint | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ImportState:
    """A JSON file of stream states, written atomically after every acknowledged batch."""

    def __init__(self, path: Path, streams: dict[str, StreamState] | None = None) -> None:
        self.path = path
        self.streams = streams or {}

    @classmethod
    def load(cls, path: Path) -> ImportState:
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text())
            streams = {key: _stream(value) for key, value in data.get("streams", {}).items()}
        except (ValueError, TypeError, KeyError, AttributeError) as err:
            raise SourceError(f"import state {path} is unreadable ({err}); move it away to start afresh") from err
        return cls(path, streams)

    def stream(self, key: str) -> StreamState:
        return self.streams.setdefault(key, StreamState())

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"version": 1, "streams": {key: asdict(value) for key, value in self.streams.items()}}
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(temporary, self.path)


def _stream(value: dict[str, Any]) -> StreamState:
    checkpoint = value.get("checkpoint")
    return StreamState(
        refs=dict(value.get("refs", {})),
        next_seq=int(value.get("next_seq", 0)),
        checkpoint=Checkpoint(**checkpoint) if checkpoint else None,
        extra=dict(value.get("extra", {})),
    )
