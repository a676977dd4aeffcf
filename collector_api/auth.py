"""Projects and bearer tokens: tokens are random, stored only as SHA-256 hashes, bound to one project with scopes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from collector_api.errors import AuthError, BadRequest, Forbidden, NotFound
from collector_api.schema import projects, tokens

SCOPES = ("ingest", "read", "admin")
TOKEN_PREFIX = "sct_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's project and scopes (admin implies the others)."""

    token_id: int
    project_id: int
    project: str
    scopes: frozenset[str]

    def require(self, scope: str, project: str | None = None) -> None:
        if scope not in self.scopes and "admin" not in self.scopes:
            raise Forbidden(f"this token lacks the {scope!r} scope")
        if project is not None and project != self.project:
            raise Forbidden(f"this token belongs to project {self.project!r}, not {project!r}")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def ensure_project(conn: sa.Connection, name: str) -> int:
    """The id of project `name`, created if it does not exist yet."""
    if not name or len(name) > 128:
        raise BadRequest("a project name is 1 to 128 characters")
    found = conn.execute(sa.select(projects.c.id).where(projects.c.name == name)).scalar()
    if found is not None:
        return int(found)
    result = conn.execute(projects.insert().values(name=name, created_at=datetime.now(UTC)))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def project_id(conn: sa.Connection, name: str) -> int:
    found = conn.execute(sa.select(projects.c.id).where(projects.c.name == name)).scalar()
    if found is None:
        raise NotFound(f"no project named {name!r}")
    return int(found)


def create_token(conn: sa.Connection, project: str, scopes: list[str], name: str = "") -> tuple[int, str]:
    """Create a token; returns (token id, the token itself, shown once and never stored)."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise BadRequest(f"scopes must be among {', '.join(SCOPES)} (got {', '.join(scopes) or 'none'})")
    pid = ensure_project(conn, project)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    result = conn.execute(
        tokens.insert().values(
            project_id=pid,
            name=name or f"{project}-{'-'.join(sorted(set(scopes)))}",
            token_hash=hash_token(token),
            prefix=token[: len(TOKEN_PREFIX) + 6],
            scopes=",".join(sorted(set(scopes))),
            created_at=datetime.now(UTC),
        )
    )
    return int(result.inserted_primary_key[0]), token  # type: ignore[index]


def list_tokens(conn: sa.Connection, project: str | None = None) -> list[dict[str, object]]:
    query = (
        sa.select(
            tokens.c.id,
            projects.c.name.label("project"),
            tokens.c.name,
            tokens.c.prefix,
            tokens.c.scopes,
            tokens.c.created_at,
            tokens.c.revoked_at,
        )
        .join(projects, projects.c.id == tokens.c.project_id)
        .order_by(tokens.c.id)
    )
    if project is not None:
        query = query.where(projects.c.name == project)
    return [{str(k): v for k, v in row._mapping.items()} for row in conn.execute(query)]


def revoke_token(conn: sa.Connection, token_id: int) -> None:
    result = conn.execute(
        tokens.update()
        .where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    if result.rowcount == 0:
        raise NotFound(f"no active token with id {token_id}")


def authenticate(conn: sa.Connection, authorization: str | None) -> Principal:
    """The principal behind an `Authorization: Bearer …` header; AuthError when missing, unknown or revoked."""
    if not authorization:
        raise AuthError("missing Authorization header: send 'Authorization: Bearer <token>'")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("the Authorization header must be 'Bearer <token>'")
    row = conn.execute(
        sa.select(tokens.c.id, tokens.c.project_id, tokens.c.scopes, tokens.c.revoked_at, projects.c.name)
        .join(projects, projects.c.id == tokens.c.project_id)
        .where(tokens.c.token_hash == hash_token(token.strip()))
    ).first()
    if row is None or row.revoked_at is not None:
        raise AuthError("unknown or revoked token")
    return Principal(row.id, row.project_id, row.name, frozenset(row.scopes.split(",")))


def set_webhook_secret(conn: sa.Connection, project: str, secret: str | None = None) -> str:
    """Set (or generate) the GitHub webhook secret of a project; returns it."""
    secret = secret or secrets.token_hex(24)
    pid = ensure_project(conn, project)
    conn.execute(projects.update().where(projects.c.id == pid).values(webhook_secret=secret))
    return secret
