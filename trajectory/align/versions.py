"""Rebuild document versions of a recorded session: open/save give the text, each edit episode's diff replays."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from trajectory.diffs import DiffError, apply_diff_lines, split_lines
from trajectory.events import EventBase

log = logging.getLogger(__name__)


@dataclass
class Document:
    """One path's current text while replaying; `broken` after a diff that did not apply, until a resync."""

    path: str
    text: str
    broken: bool = False
    episodes: int = 0
    lines: list[str] | None = None  # `text` split into lines, once an edit needed them (the next edit reuses them)


@dataclass
class Replay:
    """The documents of one session, advanced event by event."""

    documents: dict[str, Document] = field(default_factory=dict)
    mismatches: int = 0

    def text(self, path: str) -> str | None:
        doc = self.documents.get(path)
        return None if doc is None or doc.broken else doc.text

    def apply(self, event: EventBase) -> tuple[str, str] | None:
        """Advance by one event; for an edit episode that replayed, return (text before, text after)."""
        path = event.path
        if path is None:
            return None
        payload = event.payload
        if event.kind == "document.opened":
            self.documents[path] = Document(path, payload.text)  # type: ignore[attr-defined]
        elif event.kind == "document.saved" and getattr(payload, "text", None) is not None:
            text = payload.text  # type: ignore[attr-defined]
            doc = self.documents.get(path)
            if doc is not None and not doc.broken and doc.text != text:
                self.mismatches += 1
                log.info("saved text differs from the replayed one (event %s)", event.id)
            self.documents[path] = Document(path, text)
        elif event.kind == "document.changed":
            return self._change(path, event)
        return None

    def _change(self, path: str, event: EventBase) -> tuple[str, str] | None:
        doc = self.documents.get(path)
        if doc is None or doc.broken:
            return None
        before = doc.text
        diff: str = event.payload.diff  # type: ignore[attr-defined]
        try:
            if diff:
                doc.lines = apply_diff_lines(doc.lines if doc.lines is not None else split_lines(before), diff)
                doc.text = "".join(doc.lines)
        except DiffError:
            doc.broken = True
            self.mismatches += 1
            log.info("edit episode %s does not replay; %s waits for the next open or save", event.id, path)
            return None
        doc.episodes += 1
        return before, doc.text
