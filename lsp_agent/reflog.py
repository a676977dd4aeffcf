"""HEAD's reflog as a stream of git actions (commit, merge, checkout, amend, rebase, reset), read incrementally."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

_LINE = re.compile(
    r"^(?P<old>[0-9a-f]{40,64}) (?P<new>[0-9a-f]{40,64}) (?P<who>.*?) (?P<ts>\d+) [+-]\d{4}\t(?P<msg>.*)$"
)
_ACTION = re.compile(r"^(?P<verb>[\w-]+)(?: -i)?(?: \((?P<step>[\w -]+)\))?(?: [^:]*)?: ?(?P<rest>.*)$", re.S)
_CHECKOUT = re.compile(r"^moving from (?P<src>.+) to (?P<dst>.+)$")
ZERO = re.compile(r"^0+$")


@dataclass(frozen=True)
class ReflogEntry:
    """One line of `logs/HEAD`: HEAD moved from `old` to `new` because of `message`."""

    old: str
    new: str
    message: str

    @property
    def verb(self) -> str:
        match = _ACTION.match(self.message)
        return match.group("verb") if match else ""

    @property
    def step(self) -> str | None:
        match = _ACTION.match(self.message)
        return match.group("step") if match else None

    @property
    def rest(self) -> str:
        match = _ACTION.match(self.message)
        return match.group("rest") if match else self.message


def parse_line(line: str) -> ReflogEntry | None:
    """A reflog line as an entry, or None when it is not one."""
    match = _LINE.match(line.rstrip("\n"))
    if match is None:
        return None
    return ReflogEntry(match.group("old"), match.group("new"), match.group("msg"))


def last_entry(path: Path, tail: int = 8192) -> ReflogEntry | None:
    """The newest entry of a reflog (read from its end), or None."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(size - tail, 0))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    return parse_line(lines[-1]) if lines else None


@dataclass(frozen=True)
class GitAction:
    """What a run of reflog entries means: `kind` is commit, checkout, rewrite (rebase/amend/reset)."""

    kind: str
    old: str | None
    new: str
    operation: str | None = None  # for rewrites: rebase, amend, reset
    from_ref: str | None = None
    to_ref: str | None = None
    detail: str | None = None


class ReflogReader:
    """Reads the lines appended to a reflog since the last read, and folds them into actions."""

    def __init__(self, path: Path, since: float | None = None) -> None:
        """Start at the end of the reflog, or after its last entry older than `since` (a Unix time)."""
        self.path = path
        self.offset = self._size() if since is None else self._offset_after(since)
        self._rebase_from: str | None = None  # HEAD before a rebase that is still in progress

    def _offset_after(self, since: float) -> int:
        try:
            written = self.path.stat()
            data = self.path.read_bytes()
        except OSError:
            return 0
        if written.st_mtime < since:
            return len(data)  # the file's own clock says every entry is older than the session
        # Entries carry whole seconds: one written in the second the session started counts as new.
        offset = 0
        for raw in data.splitlines(keepends=True):
            match = _LINE.match(raw.decode("utf-8", "replace").rstrip("\n"))
            if not raw.endswith(b"\n") or (match is not None and int(match.group("ts")) >= int(since)):
                break
            offset += len(raw)
        return offset

    def _size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def poll(self) -> list[GitAction]:
        """Actions for the entries written since the last call (none when nothing changed)."""
        size = self._size()
        if size == self.offset:
            return []
        if size < self.offset:  # the reflog was expired or rewritten: start over from its end
            self.offset = size
            return []
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            data = handle.read(size - self.offset)
        complete = data.rfind(b"\n") + 1  # a line still being written is read next time
        self.offset += complete
        entries = [e for raw in data[:complete].decode("utf-8", "replace").splitlines() if (e := parse_line(raw))]
        return [action for entry in entries if (action := self.fold(entry)) is not None]

    def fold(self, entry: ReflogEntry) -> GitAction | None:
        """The action an entry completes, if any (a rebase becomes one action at its finish)."""
        old = None if ZERO.match(entry.old) else entry.old
        verb, step = entry.verb, entry.step
        if verb == "rebase":
            if step is not None and step.startswith("start"):
                self._rebase_from = old
            elif step is not None and step.startswith("finish"):
                start, self._rebase_from = self._rebase_from, None
                return GitAction("rewrite", start, entry.new, "rebase", detail=entry.rest[:200])
            elif step is not None and step.startswith("abort"):
                self._rebase_from = None
            return None  # the picks of a rebase are summed up by its finish
        if self._rebase_from is not None:
            return None
        return _simple(entry, old, verb, step)


def _simple(entry: ReflogEntry, old: str | None, verb: str, step: str | None) -> GitAction | None:
    if verb == "commit" and step == "amend":
        return GitAction("commit", old, entry.new, "amend", detail=entry.rest[:200])
    if verb in ("commit", "cherry-pick", "revert"):
        return GitAction("commit", old, entry.new)
    if verb in ("merge", "pull"):
        return GitAction("merge", old, entry.new, detail=entry.rest[:200])
    if verb == "checkout":
        match = _CHECKOUT.match(entry.rest)
        src, dst = (match.group("src"), match.group("dst")) if match else (None, entry.new)
        return GitAction("checkout", old, entry.new, from_ref=src, to_ref=dst)
    if verb == "reset" and old != entry.new:
        return GitAction("rewrite", old, entry.new, "reset", detail=entry.rest[:200])
    return None
