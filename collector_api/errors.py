"""Errors of the collector; translated to HTTP answers or CLI lines only at the edge."""

from __future__ import annotations


class CollectorError(Exception):
    """Root of every error the collector raises on purpose."""


class ConfigError(CollectorError):
    """Settings that cannot work (bad database URL, bad limits)."""


class NotMigrated(CollectorError):
    """The database is not at the migration head."""


class AuthError(CollectorError):
    """Missing, unknown or revoked token (HTTP 401)."""


class Forbidden(CollectorError):
    """The token lacks the scope or belongs to another project (HTTP 403)."""


class BadRequest(CollectorError):
    """The request is malformed (HTTP 400/422)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


class TooLarge(CollectorError):
    """The body or the batch is over a limit (HTTP 413)."""


class NotFound(CollectorError):
    """No such project, token or session (HTTP 404, or a CLI error)."""
