"""One `git log --raw -p` stream parsed into commits with their per-file changes and unified diffs.

A single git process serves the whole range: spawning git once per commit (PyDriller, GitPython) is what makes
mining slow. Merges are diffed against their first parent, renames are detected (-M), mailmap is applied.
"""

from __future__ import annotations

import io
import logging
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import cast

from trajectory.sources import GitError

log = logging.getLogger(__name__)

_START = "\x00C\x00"
_END = "\x00E"
_CHUNK = 1 << 20
# %aN/%aE/%cN/%cE apply the mailmap; %S names the ref each commit was reached from (with --source).
_FORMAT = "%x00C%x00%H%x00%P%x00%S%x00%aN%x00%aE%x00%aI%x00%cN%x00%cE%x00%cI%n%B%x00E"
_CHANGE_TYPES = {"A": "add", "M": "modify", "D": "delete", "R": "rename", "C": "copy", "T": "modify"}
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}
# Settings a user's config could set that would change what the stream looks like.
_CONFIG = (
    "core.quotepath=false",
    "diff.noprefix=false",
    "diff.mnemonicprefix=false",
    "diff.relative=false",
    "log.showsignature=false",
    "color.ui=never",
)


@dataclass
class MinedFile:
    """One file changed by a commit (against its first parent for merges)."""

    path: str
    change_type: str
    old_path: str | None = None
    additions: int = 0
    deletions: int = 0
    binary: bool = False
    diff: str | None = None


@dataclass
class MinedCommit:
    """One commit as read from the stream; identities are the mailmapped ones, not yet pseudonymised."""

    sha: str
    parents: list[str]
    ref: str | None
    author_name: str
    author_email: str
    authored_at: datetime
    committer_name: str
    committer_email: str
    committed_at: datetime
    message: str
    files: list[MinedFile] = field(default_factory=list)

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


def log_command(revs: Sequence[str], options: Sequence[str] = (), *, oldest_first: bool = True) -> list[str]:
    """The git command line whose output `parse_log` reads."""
    command = ["git"]
    for setting in _CONFIG:
        command += ["-c", setting]
    command += [
        "log",
        *(["--reverse"] if oldest_first else []),
        "--raw",
        "-p",
        "-M",
        "--diff-merges=first-parent",
        "--source",
        "--use-mailmap",
    ]
    command += ["--no-color", "--no-ext-diff", "--no-textconv", "--encoding=UTF-8", "--src-prefix=a/"]
    command += ["--dst-prefix=b/", f"--format={_FORMAT}", *options, *revs, "--"]
    return command


def iter_commits(
    repo: Path, revs: Sequence[str], options: Sequence[str] = (), *, oldest_first: bool = True
) -> Iterator[MinedCommit]:
    """The commits of `revs` (as `git log` takes them), oldest first, read from one git process."""
    command = log_command(revs, options, oldest_first=oldest_first)
    try:
        process = subprocess.Popen(command, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as err:
        raise GitError(f"cannot run git in {repo}: {err}") from err
    assert process.stdout is not None and process.stderr is not None
    stdout = cast(io.BufferedReader, process.stdout)  # read1: whatever has arrived, up to a chunk
    try:
        yield from parse_log(iter(lambda: stdout.read1(_CHUNK), b""))
    finally:
        stdout.close()
        stderr = process.stderr.read().decode("utf-8", "replace").strip()
        process.stderr.close()
        code = process.wait()
    if code != 0 and has_commits(repo):
        raise GitError(f"git log failed in {repo}: {stderr.splitlines()[-1] if stderr else f'exit {code}'}")


def has_commits(repo: Path) -> bool:
    """False for a repository without a single commit (where `git log HEAD` fails)."""
    done = subprocess.run(["git", "rev-list", "-n", "1", "--all"], cwd=repo, capture_output=True, check=False)
    return done.returncode != 0 or bool(done.stdout.strip())


def parse_log(chunks: Iterable[bytes]) -> Iterator[MinedCommit]:
    """Commits from a `log_command` stream, given as byte chunks of any size (lines, blocks, the whole output).

    Each commit is cut out whole and parsed with string searches and counts rather than line by line: a
    per-line Python loop, not git, was what bounded the speed.
    """
    marker = _START.encode()
    buffer = bytearray()
    for chunk in chunks:
        start = max(0, len(buffer) - len(marker) + 1)
        buffer += chunk
        cut = buffer.rfind(marker, start)
        if cut <= 0:
            continue
        complete = bytes(buffer[:cut])
        del buffer[:cut]
        yield from _commits(complete, marker)
    yield from _commits(bytes(buffer), marker)


def _commits(block: bytes, marker: bytes) -> Iterator[MinedCommit]:
    for record in block.split(marker):
        if record:
            yield _commit(record.decode("utf-8", "replace"))


def _commit(record: str) -> MinedCommit:
    """One commit from its record: header fields, the message up to its end mark, raw entries, then patches."""
    header_end = record.index("\n")
    message_end = record.index(_END, header_end)
    sha, parents, ref, a_name, a_mail, a_date, c_name, c_mail, c_date = record[:header_end].split("\x00")
    commit = MinedCommit(
        sha=sha,
        parents=parents.split(),
        ref=ref.removeprefix("refs/heads/") or None,
        author_name=a_name,
        author_email=a_mail,
        authored_at=datetime.fromisoformat(a_date),
        committer_name=c_name,
        committer_email=c_mail,
        committed_at=datetime.fromisoformat(c_date),
        message=record[header_end + 1 : message_end].rstrip("\n"),
    )
    changes = record[message_end + len(_END) :]
    first_patch = changes.find("\ndiff --git ")
    raw = changes if first_patch < 0 else changes[:first_patch]
    commit.files = [_raw_entry(line) for line in raw.split("\n") if line.startswith(":")]
    patches = [] if first_patch < 0 else changes[first_patch + 1 :].split("\ndiff --git ")
    if len(patches) != len(commit.files):
        log.warning("commit %s: %d raw entries but %d patches", commit.sha, len(commit.files), len(patches))
    for entry, patch in zip(commit.files, patches, strict=False):
        _apply_patch(entry, patch)
    return commit


def _raw_entry(line: str) -> MinedFile:
    # ":100644 100644 abc1234 def5678 R086\told\tnew"
    meta, *paths = line.split("\t")
    status = meta.split()[-1]
    change_type = _CHANGE_TYPES.get(status[0], "modify")
    if change_type in ("rename", "copy") and len(paths) == 2:
        return MinedFile(path=unquote(paths[1]), old_path=unquote(paths[0]), change_type=change_type)
    return MinedFile(path=unquote(paths[-1]), change_type=change_type)


def _apply_patch(entry: MinedFile, patch: str) -> None:
    """The patch of one file (from after `diff --git`): its diff from the ---/+++ lines on, and its counts."""
    hunks = patch.find("\n@@")
    if hunks < 0:
        entry.binary = "\nBinary files " in patch or "\nGIT binary patch" in patch
        return
    body = patch[hunks + 1 :].rstrip("\n") + "\n"  # blank lines at the end separate commits
    head = patch[:hunks].split("\n")
    header = [line + "\n" for line in head if line.startswith(("--- ", "+++ "))]
    entry.diff = "".join(header) + body
    entry.additions = body.count("\n+")
    entry.deletions = body.count("\n-")


def unquote(path: str) -> str:
    """A path as git writes it, C-quoted when it has special characters, back to the real path."""
    if not (len(path) >= 2 and path[0] == '"' and path[-1] == '"'):
        return path
    out = bytearray()
    chars = path[1:-1]
    i = 0
    while i < len(chars):
        char = chars[i]
        if char != "\\":
            out += char.encode()
            i += 1
        elif chars[i + 1 : i + 4].isdigit() and len(chars[i + 1 : i + 4]) == 3:
            out.append(int(chars[i + 1 : i + 4], 8))
            i += 4
        else:
            out.append(_ESCAPES.get(chars[i + 1], ord(chars[i + 1])))
            i += 2
    return out.decode("utf-8", "replace")
