"""Sources of history: git repositories and GitHub (REST files, the live API, webhooks) turned into events."""

from __future__ import annotations


class SourceError(Exception):
    """Root of the errors raised while mining a source."""


class GitError(SourceError):
    """git failed or the path is not a repository."""


class GitHubError(SourceError):
    """The GitHub API or an exported GitHub file could not be read."""
