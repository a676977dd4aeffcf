"""`smartco collector …`: serve, migrate, tokens and webhook secrets (errors: one line and a non-zero exit)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson
import sqlalchemy as sa
from pydantic import ValidationError

from collector_api import auth, database
from collector_api.errors import CollectorError
from collector_api.settings import CollectorSettings

F = TypeVar("F", bound=Callable[..., Any])


def _one_line_errors(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CollectorError as err:
            raise click.ClickException(str(err)) from err
        except ValidationError as err:
            first = err.errors()[0]
            raise click.ClickException(f"invalid setting {'.'.join(map(str, first['loc']))}: {first['msg']}") from err
        except sa.exc.OperationalError as err:
            raise click.ClickException(f"database error: {str(err.orig).strip().splitlines()[0]}") from err

    return wrapper  # type: ignore[return-value]


def _db_options(func: F) -> F:
    func = click.option(
        "--data-dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Where the default SQLite database lives [env SMARTCO_DATA_DIR; ./smartco-data].",
    )(func)
    return click.option(
        "--database-url",
        default=None,
        metavar="URL",
        help="sqlite:///file.db or postgresql://… [env SMARTCO_DATABASE_URL; SQLite in the data dir].",
    )(func)


def _engine(database_url: str | None, data_dir: Path | None) -> sa.Engine:
    settings = CollectorSettings.from_sources(database_url=database_url, data_dir=data_dir)
    return database.make_engine(settings.resolved_database_url)


@click.group()
def collector() -> None:
    """Run and administer the team's collector service."""


@collector.command()
@_db_options
@click.option("--host", default=None, help="Interface to listen on [env SMARTCO_HOST; 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [env SMARTCO_PORT; 8765].")
@click.option("--workers", type=int, default=None, help="Worker processes [env SMARTCO_WORKERS; 1].")
@click.option("--max-body-bytes", type=int, default=None, help="Largest request body, after gzip [16 MiB].")
@click.option("--max-batch", type=int, default=None, help="Most events in one POST [5000].")
@click.option("--log-format", type=click.Choice(["json", "text"]), default=None, help="Log lines [json].")
@click.option(
    "--ingest-writer/--no-ingest-writer",
    default=None,
    help="SQLite file: store every batch in one writer process, committing batches that arrive together as one "
    "transaction [env SMARTCO_INGEST_WRITER; on].",
)
@click.option("--migrate", "migrate_first", is_flag=True, help="Migrate the database to the head before serving.")
@_one_line_errors
def serve(migrate_first: bool, **flags: Any) -> None:
    """Serve the collector HTTP API (uvicorn)."""
    import uvicorn

    from collector_api.logs import configure_logging
    from collector_api.writer import running_writer

    settings = CollectorSettings.from_sources(**flags)
    engine = database.make_engine(settings.resolved_database_url)
    try:
        if migrate_first:
            database.upgrade(engine)
        database.check_migrated(engine)
    finally:
        engine.dispose()
    os.environ["SMARTCO_COLLECTOR_SETTINGS_JSON"] = settings.model_dump_json()
    click.echo(
        f"smartco collector on http://{settings.host}:{settings.port} "
        f"({sa.make_url(settings.resolved_database_url).get_backend_name()})",
        err=True,
    )
    configure_logging(settings.log_format, settings.log_level)  # the serve process's own lines (its writer's)
    with running_writer(settings):
        uvicorn.run(
            "collector_api.app:app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level="warning",
            access_log=False,
        )


@collector.command()
@_db_options
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.option("--downgrade", is_flag=True, help="Go down to --revision (e.g. base) instead of up.")
@_one_line_errors
def migrate(database_url: str | None, data_dir: Path | None, revision: str, downgrade: bool) -> None:
    """Create or upgrade the collector's database schema (Alembic)."""
    engine = _engine(database_url, data_dir)
    before = database.current_revision(engine)
    (database.downgrade if downgrade else database.upgrade)(engine, revision)
    after = database.current_revision(engine)
    click.echo(f"database {engine.url.render_as_string(hide_password=True)}: {before or 'empty'} -> {after or 'empty'}")


@collector.group()
def token() -> None:
    """Create, list and revoke project tokens."""


@token.command("create")
@_db_options
@click.option("--project", required=True, help="The project the token is bound to (created if new).")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(auth.SCOPES),
    required=True,
    help="ingest, read or admin; repeat for several.",
)
@click.option("--name", default="", help="A label to recognise the token by.")
@_one_line_errors
def token_create(
    database_url: str | None, data_dir: Path | None, project: str, scopes: tuple[str, ...], name: str
) -> None:
    """Create a token; it is printed once (last line of stdout) and stored only as a hash."""
    engine = _engine(database_url, data_dir)
    database.check_migrated(engine)
    with engine.begin() as conn:
        token_id, value = auth.create_token(conn, project, list(scopes), name)
    click.echo(f"token {token_id} for project {project!r} with scopes {','.join(sorted(scopes))}:", err=True)
    click.echo(value)


@token.command("list")
@_db_options
@click.option("--project", default=None, help="Only this project's tokens.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
@_one_line_errors
def token_list(database_url: str | None, data_dir: Path | None, project: str | None, as_json: bool) -> None:
    """List tokens (their prefixes, never the tokens)."""
    engine = _engine(database_url, data_dir)
    database.check_migrated(engine)
    with engine.connect() as conn:
        rows = auth.list_tokens(conn, project)
    for row in rows:
        if as_json:
            click.echo(orjson.dumps(row, default=str).decode())
        else:
            state = "revoked" if row["revoked_at"] else "active"
            click.echo(
                f"{row['id']:>5}  {row['project']:<20} {row['prefix']}…  {row['scopes']:<20} {state}  {row['name']}"
            )


@token.command("revoke")
@_db_options
@click.argument("token_id", type=int)
@_one_line_errors
def token_revoke(database_url: str | None, data_dir: Path | None, token_id: int) -> None:
    """Revoke a token by its id (see `token list`)."""
    engine = _engine(database_url, data_dir)
    database.check_migrated(engine)
    with engine.begin() as conn:
        auth.revoke_token(conn, token_id)
    click.echo(f"token {token_id} revoked")


@collector.command("webhook-secret")
@_db_options
@click.option("--project", required=True, help="The project whose GitHub webhooks use this secret.")
@click.option("--secret", default=None, help="The secret to set; a random one is generated if omitted.")
@_one_line_errors
def webhook_secret(database_url: str | None, data_dir: Path | None, project: str, secret: str | None) -> None:
    """Set the GitHub webhook secret of a project (printed on stdout)."""
    engine = _engine(database_url, data_dir)
    database.check_migrated(engine)
    with engine.begin() as conn:
        click.echo(auth.set_webhook_secret(conn, project, secret))
