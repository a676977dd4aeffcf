"""A working copy as the sidecar sees it: its root, its id, opt-in state, its own settings and excluded paths."""

from __future__ import annotations

import fnmatch
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from lsp_agent.errors import SettingsError
from lsp_agent.settings import Settings, coerce

# A committed file at the root opts the repository in for everyone who runs the sidecar; the local marker
# (inside .git, so never committed) opts it in for this engineer only. Both are TOML files, possibly empty.
COMMITTED_MARKER = ".smartco-capture"
LOCAL_MARKER = "smartco-capture"
# What a repository's own file may set: it can only add exclusions, never remove the defaults.
REPOSITORY_SETTINGS = frozenset({"exclude", "extra_exclude", "junit_globs"})
# Never taken from a repository, whose files anyone with commit rights controls: where the code goes, the
# credentials, and how engineers are identified.
NEVER_FROM_REPOSITORY = frozenset(
    {"collector_url", "token", "token_file", "data_dir", "completion_url", "completion_api_key", "salt", "actor"}
)


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


def head_reflog(root: Path) -> Path:
    """HEAD's reflog: every move of HEAD (commit, checkout, merge, reset, rebase) is a line of it."""
    return git_dir(root) / "logs" / "HEAD"


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
    if not marker.exists():
        marker.write_text("# capture enabled by `smartco lsp enable`; settings for this repository go here (TOML)\n")
    return marker


def opt_out(root: Path) -> bool:
    """Remove the local opt-in marker; True if there was one."""
    marker = git_dir(root) / LOCAL_MARKER
    if marker.is_file():
        marker.unlink()
        return True
    return False


def repository_settings(root: Path) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """Exclusions and report globs from the repository's marker files, and a problem line per ignored entry."""
    found: dict[str, tuple[str, ...]] = {"exclude": (), "junit_globs": ()}
    problems: list[str] = []
    for marker in (root / COMMITTED_MARKER, git_dir(root) / LOCAL_MARKER):
        if not marker.is_file():
            continue
        try:
            values: dict[str, Any] = tomllib.loads(marker.read_text())
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
            problems.append(f"{marker}: {err}; ignored")
            continue
        for raw_name, value in values.items():
            name = raw_name.replace("-", "_")
            if name in NEVER_FROM_REPOSITORY:
                problems.append(f"{marker}: {name!r} is never taken from a repository; ignored")
            elif name not in REPOSITORY_SETTINGS:
                problems.append(f"{marker}: {name!r} cannot be set by a repository; ignored")
            else:
                key = "junit_globs" if name == "junit_globs" else "exclude"
                try:
                    found[key] += coerce("junit_globs" if key == "junit_globs" else "extra_exclude", value)
                except SettingsError as err:
                    problems.append(f"{marker}: {err}; ignored")
    return found, problems


def is_excluded(relative: str, settings: Settings, extra: tuple[str, ...] = ()) -> bool:
    """Whether a repository-relative path matches an exclusion glob (matched on the name and on the path)."""
    path = PurePosixPath(relative)
    if ".git" in path.parts:
        return True
    for pattern in (*settings.exclude, *settings.extra_exclude, *extra):
        if fnmatch.fnmatch(path.name, pattern) or fnmatch.fnmatch(relative, pattern):
            return True
    return False


@dataclass(frozen=True)
class Repository:
    """An opted-in working copy, with the exclusions and report globs its own files add."""

    root: Path
    id: str
    exclude: tuple[str, ...] = ()
    junit_globs: tuple[str, ...] = ()

    def relative(self, path: Path) -> str | None:
        """`path` relative to the root in POSIX form, or None if it lies outside."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return None


def read_head(root: Path) -> tuple[str | None, str | None]:
    """(sha, branch) of HEAD, read from the git directory without running git."""
    directory = git_dir(root)
    try:
        head = (directory / "HEAD").read_text().strip()
    except OSError:
        return None, None
    if not head.startswith("ref:"):
        return head or None, None
    ref = head.removeprefix("ref:").strip()
    sha = None
    if (directory / ref).is_file():
        sha = (directory / ref).read_text().strip()
    elif (directory / "packed-refs").is_file():
        for line in (directory / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                sha = line.split()[0]
    return sha, ref.removeprefix("refs/heads/")


def git_identity(root: Path) -> str | None:
    """The engineer's git e-mail (or name) for this repository."""
    for key in ("user.email", "user.name"):
        try:
            done = subprocess.run(["git", "config", key], cwd=root, capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    return None
