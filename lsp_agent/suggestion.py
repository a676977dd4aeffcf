"""Suggestion signals and survival: how much of an accepted suggestion is still in the code later on."""

from __future__ import annotations

import difflib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lsp_agent.errors import SettingsError
from trajectory.privacy import add_counts, redact

SUGGESTION_EVENTS = ("shown", "accepted", "rejected")
CHECKPOINT_LABELS = ("30s", "2m", "10m")


def suggestion_payload(params: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, int]]:
    """(event kind, redacted payload, redaction counts) from a suggestion signal; raises SettingsError if invalid."""
    kind, payload = _payload_of(params)
    counts: dict[str, int] = {}
    for key in ("text", "context_before", "context_after"):
        if key in payload:
            red = redact(payload[key])
            payload[key] = red.text
            add_counts(counts, red.counts)
    return kind, payload, counts


def _payload_of(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    event = params.get("event")
    if event not in SUGGESTION_EVENTS:
        raise SettingsError(f"suggestion event must be one of {SUGGESTION_EVENTS}, not {event!r}")
    if not params.get("id") or not isinstance(params.get("text", ""), str):
        raise SettingsError("a suggestion needs an id and a text")
    payload: dict[str, Any] = {"suggestion_id": str(params["id"]), "text": params.get("text", "")}
    for key in ("model", "provider"):
        if params.get(key):
            payload[key] = str(params[key])
    position = params.get("position")
    if isinstance(position, dict) and {"line", "character"} <= position.keys():
        payload["position"] = {"line": int(position["line"]), "character": int(position["character"])}
    if event == "rejected" and params.get("reason"):
        payload["reason"] = str(params["reason"])
    if event == "shown":
        for key in ("context_before", "context_after"):
            if isinstance(params.get(key), str):
                payload[key] = params[key]
    if params.get("heuristic"):
        payload["heuristic"] = True
    return f"suggestion.{event}", payload


def survival(suggestion: str, text: str, line: int | None) -> tuple[float, int]:
    """(ratio, characters) of `suggestion` still found in `text` near `line`."""
    if not suggestion:
        return 1.0, 0
    if suggestion in text:
        return 1.0, len(suggestion)
    lines = text.split("\n")
    span = suggestion.count("\n") + 1
    start = max(0, (line or 0) - 5) if line is not None else 0
    end = start + span + 40 if line is not None else len(lines)
    window = "\n".join(lines[start:end])
    matcher = difflib.SequenceMatcher(None, suggestion, window, autojunk=False)
    chars = sum(block.size for block in matcher.get_matching_blocks())
    return round(min(1.0, chars / len(suggestion)), 4), chars


@dataclass
class Tracked:
    """An accepted suggestion whose survival is still to be measured."""

    suggestion_id: str
    uri: str
    text: str
    line: int | None
    accepted_at: float
    owner: Any  # the recording it belongs to
    path: str | None
    checkpoints: list[tuple[str, float]] = field(default_factory=list)
    committed: bool = False


class SurvivalTracker:
    """Accepted suggestions and their pending checkpoints; safe to use from the LSP and git watcher threads."""

    def __init__(self, checkpoints: tuple[float, ...], clock: Callable[[], float] = time.monotonic) -> None:
        self.checkpoints = tuple(zip(CHECKPOINT_LABELS, checkpoints, strict=False))
        self.clock = clock
        self.tracked: list[Tracked] = []
        self._lock = threading.Lock()

    def accepted(self, suggestion_id: str, uri: str, text: str, line: int | None, owner: Any, path: str | None) -> None:
        now = self.clock()
        due = [(label, now + delay) for label, delay in self.checkpoints]
        with self._lock:
            self.tracked.append(Tracked(suggestion_id, uri, text, line, now, owner, path, due))

    def due(self, text_of: Callable[[str], str | None]) -> list[tuple[Tracked, dict[str, Any]]]:
        """Payloads of checkpoints that are due now, measured on the current text of each document."""
        now, out = self.clock(), []
        with self._lock:
            for tracked in self.tracked:
                while tracked.checkpoints and tracked.checkpoints[0][1] <= now:
                    label, _ = tracked.checkpoints.pop(0)
                    text = text_of(tracked.uri)
                    if text is not None:
                        out.append((tracked, _payload(tracked, label, text)))
            self.tracked = [t for t in self.tracked if t.checkpoints or not t.committed]
        return out

    def at_commit(
        self, owner: Any, sha: str, read: Callable[[str], str | None]
    ) -> list[tuple[Tracked, dict[str, Any]]]:
        """Payloads for the `commit` checkpoint of every suggestion of `owner`, which then stops being tracked."""
        out = []
        with self._lock:
            mine = [t for t in self.tracked if t.owner is owner and not t.committed]
            for tracked in mine:
                tracked.committed = True
                text = read(tracked.path) if tracked.path else None
                if text is not None:
                    out.append((tracked, _payload(tracked, "commit", text, sha)))
        return out


def _payload(tracked: Tracked, label: str, text: str, sha: str | None = None) -> dict[str, Any]:
    ratio, chars = survival(tracked.text, text, tracked.line)
    payload: dict[str, Any] = {
        "suggestion_id": tracked.suggestion_id,
        "checkpoint": label,
        "survived_ratio": ratio,
        "survived_chars": chars,
    }
    if sha:
        payload["commit_sha"] = sha
    return payload
