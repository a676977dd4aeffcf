"""Alembic is the only way the schema is made: upgrade/downgrade on both databases, no drift from the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner

from collector_api import database
from collector_api.schema import metadata
from smartco.cli import root

TABLES = {"projects", "tokens", "events", "sessions", "webhook_deliveries"}


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_then_downgrade_then_upgrade(database_url: str) -> None:
    engine = database.make_engine(database_url)
    assert database.current_revision(engine) is None
    database.upgrade(engine)
    assert database.current_revision(engine) == database.head_revision()
    assert _tables(engine) == TABLES
    database.downgrade(engine, "base")
    assert database.current_revision(engine) is None
    assert _tables(engine) == set()
    database.upgrade(engine)
    assert _tables(engine) == TABLES
    engine.dispose()


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = database.make_engine(database_url)
    database.upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
    engine.dispose()


def test_sqlite_is_in_wal_mode(sqlite_url: str) -> None:
    engine = database.make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_serve_refuses_an_unmigrated_database_with_the_command_to_run(sqlite_url: str) -> None:
    result = CliRunner().invoke(root, ["collector", "serve", "--database-url", sqlite_url, "--port", "1"])
    assert result.exit_code != 0
    assert "smartco collector migrate" in result.output and "--migrate" in result.output


def test_migrate_command_and_readiness(sqlite_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(root, ["collector", "migrate", "--database-url", sqlite_url])
    assert result.exit_code == 0, result.output
    assert "empty -> 0001" in result.output
    engine = database.make_engine(sqlite_url)
    database.check_migrated(engine)  # raises if not at head
    engine.dispose()
    down = runner.invoke(
        root, ["collector", "migrate", "--database-url", sqlite_url, "--downgrade", "--revision", "base"]
    )
    assert down.exit_code == 0 and "0001 -> empty" in down.output


def test_bad_database_url_is_one_line_error() -> None:
    result = CliRunner().invoke(root, ["collector", "migrate", "--database-url", "mysql://x/y"])
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: unsupported database")
