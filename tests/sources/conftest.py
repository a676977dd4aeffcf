"""Fixtures for the sources tests: real git repositories built in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from sources.gitrepo import GitRepo


@pytest.fixture
def git_repo(tmp_path: Path) -> GitRepo:
    """An empty repository on branch main."""
    return GitRepo(tmp_path / "repo")


@pytest.fixture
def rich_repo(git_repo: GitRepo) -> GitRepo:
    """A repository with adds, modifies, a rename, a delete, a binary file, odd paths, a bot and a merge."""
    repo = git_repo
    repo.write("src/app.py", "def main():\n    return 1\n")
    repo.write("README.md", "hello\n")
    repo.write("logo.png", b"\x89PNG\x00\x01\x02")
    repo.commit("Initial commit\n\nWith a body.")
    repo.write("src/app.py", "def main():\n    return 2\n\n\ndef other():\n    pass\n")
    repo.git("mv", "README.md", "README.rst")
    repo.commit("Change main, rename readme")
    repo.write('odd dir/tab\tand "quote" é.txt', "x\n")
    repo.git("rm", "-q", "logo.png")
    repo.commit("Odd path, drop logo", author="dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("src/feature.py", "FLAG = True\n")
    repo.commit("Add feature", author="Old Name <old@example.org>")
    repo.git("checkout", "-q", "main")
    repo.write("src/app.py", "def main():\n    return 3\n\n\ndef other():\n    pass\n")
    repo.commit("Main moves on")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge feature", "feature")
    repo.write(".mailmap", "Grace Hopper <grace@example.com> Old Name <old@example.org>\n")
    repo.commit("Add mailmap")
    return repo
