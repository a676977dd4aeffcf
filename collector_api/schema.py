"""The collector's tables (SQLAlchemy Core); Alembic migrations create them, never `create_all`."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only autoincrements INTEGER PRIMARY KEY (the rowid); PostgreSQL gets a BIGINT identity.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(128), nullable=False, unique=True),
    sa.Column("webhook_secret", sa.String(256), nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False, index=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("scopes", sa.String(64), nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("revoked_at", Stamp, nullable=True),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("pos", BigId, primary_key=True, autoincrement=True),
    sa.Column("id", sa.Uuid(as_uuid=False), nullable=False, unique=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("session_id", sa.String(512), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("ts", Stamp, nullable=False),
    sa.Column("actor", sa.String(512), nullable=False),
    sa.Column("repo", sa.String(512), nullable=False),
    sa.Column("path", sa.Text, nullable=True),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("received_at", Stamp, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Index(None, "project_id", "session_id", "seq"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("session_id", sa.String(512), nullable=False),
    sa.Column("actor", sa.String(512), nullable=False),
    sa.Column("repo", sa.String(512), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("first_ts", Stamp, nullable=False),
    sa.Column("last_ts", Stamp, nullable=False),
    sa.Column("event_count", sa.BigInteger, nullable=False),
    sa.Column("max_seq", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("project_id", "session_id"),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("delivery_id", sa.String(128), nullable=False, unique=True),
    sa.Column("event_name", sa.String(64), nullable=False),
    sa.Column("received_at", Stamp, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # stored, processed, ignored, failed
    sa.Column("events_created", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("body", sa.Text, nullable=False),
)
