"""Database engines (SQLite in WAL mode, PostgreSQL) and the migration state that `serve` checks."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import migrations
from collector_api.errors import ConfigError, NotMigrated

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent


def make_engine(url: str, *, sqlite_synchronous: str = "NORMAL", sqlite_cache_kib: int | None = None) -> sa.Engine:
    """An engine for `url`; SQLite files get WAL, a busy timeout and foreign keys on every connection (and a page
    cache of `sqlite_cache_kib` instead of SQLite's 2 MiB, if given)."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as err:
        raise ConfigError(f"not a database URL: {url!r}") from err
    if parsed.get_backend_name() == "sqlite":
        if (file := sqlite_file(parsed)) is not None:
            Path(file).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas(sqlite_synchronous, sqlite_cache_kib))
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return sa.create_engine(parsed, pool_size=10, max_overflow=10, pool_pre_ping=True)
    raise ConfigError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql://")


def _sqlite_pragmas(synchronous: str, cache_kib: int | None) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        if cache_kib:
            cursor.execute(f"PRAGMA cache_size=-{int(cache_kib)}")
        cursor.close()

    return on_connect


def sqlite_file(url: str | sa.URL) -> str | None:
    """The file of an SQLite database URL; None for another database or an in-memory one."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database


def is_sqlite(engine: sa.Engine) -> bool:
    return engine.dialect.name == "sqlite"


def alembic_config(engine: sa.Engine) -> Config:
    """An Alembic config bound to `engine` (passed as an attribute: URLs may hold '%' that ini files mangle)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config(sa.create_engine("sqlite://"))).get_heads()
    return heads[0]


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: sa.Engine, revision: str = "base") -> None:
    command.downgrade(alembic_config(engine), revision)


def check_migrated(engine: sa.Engine) -> None:
    """Raise NotMigrated, saying which command to run, unless the database is at the migration head."""
    try:
        current = current_revision(engine)
    except sa.exc.OperationalError as err:
        raise NotMigrated(f"cannot reach the database: {err.orig}") from err
    head = head_revision()
    if current != head:
        url = engine.url.render_as_string(hide_password=True)
        raise NotMigrated(
            f"database {url} is at revision {current or 'none'}, the collector needs {head}: "
            f"run `smartco collector migrate --database-url {url}` or start with --migrate"
        )
