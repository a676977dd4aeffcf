"""A working copy as the sidecar sees it: its root, its id, opt-in state and which paths are excluded."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lsp_agent.settings import Settings

# A committed file at the root opts the repository in for everyone who runs the sidecar; the local marker
# (inside .git, so never committed) opts it in for this engineer only.
COMMITTED_MARKER = ".smartco-capture"
LOCAL_MARKER = "smartco-capture"


def find_root(path: Path) -> Path | None:
    """The working-copy root containing `path` (the nearest directory with a `.git`), or None."""
    for candidate in (path, *path.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def git_dir(root: Path) -> Path:
    """The repository's git directory (follows a worktree's `.git` file)."""
    dot_git = root / ".git"
    if dot_git.is_file():
        text = dot_git.read_text().strip()
        if text.startswith("gitdir:"):
            target = Path(text.removeprefix("gitdir:").strip())
            return target if target.is_absolute() else (root / target).resolve()
    return dot_git


def repo_id(root: Path) -> str:
    """The repository's id, computed exactly as the offline git miner does, so both sources line up."""
    from trajectory.sources.git import repository_id

    return repository_id(root)


def is_opted_in(root: Path, settings: Settings) -> bool:
    """Capture happens only in repositories that opted in (marker file or an explicit setting)."""
    if settings.capture_all:
        return True
    if (root / COMMITTED_MARKER).is_file() or (git_dir(root) / LOCAL_MARKER).is_file():
        return True
    resolved = str(root.resolve())
    return any(resolved == str(Path(entry).expanduser().resolve()) for entry in settings.enabled_repos)


def opt_in(root: Path) -> Path:
    """Opt this repository in for the local engineer only; returns the marker written."""
    marker = git_dir(root) / LOCAL_MARKER
    marker.write_text("capture enabled by `smartco lsp enable`\n")
    return marker


def opt_out(root: Path) -> bool:
    """Remove the local opt-in marker; True if there was one."""
    marker = git_dir(root) / LOCAL_MARKER
    if marker.is_file():
        marker.unlink()
        return True
    return False


def is_excluded(relative: str, settings: Settings) -> bool:
    """Whether a repository-relative path matches an exclusion glob (matched on the name and on the path)."""
    path = PurePosixPath(relative)
    if ".git" in path.parts:
        return True
    for pattern in (*settings.exclude, *settings.extra_exclude):
        if fnmatch.fnmatch(path.name, pattern) or fnmatch.fnmatch(relative, pattern):
            return True
    return False


@dataclass(frozen=True)
class Repository:
    """An opted-in working copy."""

    root: Path
    id: str

    def relative(self, path: Path) -> str | None:
        """`path` relative to the root in POSIX form, or None if it lies outside."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return None
