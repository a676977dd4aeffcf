"""`smartco lsp`: run the sidecar (stdio or TCP), show its status, pause/resume, opt repositories in."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from lsp_agent.errors import LspAgentError
from lsp_agent.settings import Settings, from_environment

logger = logging.getLogger(__name__)


def _settings(flags: dict[str, Any]) -> tuple[Settings, list[str]]:
    values = {k: v for k, v in flags.items() if k != "assignments"}
    for assignment in flags.get("assignments") or ():
        name, sep, value = assignment.partition("=")
        if not sep:
            raise click.BadParameter(f"{assignment!r} is not NAME=VALUE", param_hint="--set")
        values[name.strip()] = value
    return from_environment(os.environ, values)


def common_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--data-dir", type=click.Path(path_type=Path), help="Spool directory.")(fn)
    return fn


@click.group(invoke_without_command=True)
@click.option("--tcp", "tcp", metavar="HOST:PORT", help="Listen on TCP instead of stdio.")
@click.option("--stdio", is_flag=True, help="Talk LSP over stdin/stdout (the default).")
@click.option("--collector-url", help="The collector (else SMARTCO_COLLECTOR_URL or the user file).")
@click.option("--token-file", type=click.Path(path_type=Path), help="A file holding the collector token.")
@click.option("--capture-all", is_flag=True, default=None, help="Record in every repository (no opt-in needed).")
@click.option("--idle-seconds", type=float, help="Idle gap that closes an edit episode (default 1.5).")
@click.option("--log-file", type=click.Path(path_type=Path), help="Write logs here (stdout is the protocol).")
@click.option(
    "--set", "assignments", multiple=True, metavar="NAME=VALUE", help="Any setting, e.g. --set idle_seconds=0.5."
)
@common_options
@click.pass_context
def lsp(ctx: click.Context, tcp: str | None, stdio: bool, log_file: Path | None, **flags: Any) -> None:
    """The capture sidecar: run it as an extra language server beside your normal one."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = flags
        return
    if log_file is not None:
        handler = logging.FileHandler(log_file)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.getLogger().addHandler(handler)
    settings, problems = _settings(flags)
    serve(settings, problems, tcp)


def serve(settings: Settings, problems: list[str], tcp: str | None) -> None:
    """Run the server until the editor disconnects; the spool keeps whatever was not uploaded yet."""
    from lsp_agent.server import build_server

    server = build_server(settings, problems)
    try:
        if tcp:
            host, _, port = tcp.rpartition(":")
            if not port.isdigit():
                raise click.ClickException(f"--tcp wants HOST:PORT, not {tcp!r}")
            server.start_tcp(host or "127.0.0.1", int(port))
        else:
            server.start_io()
    finally:
        capture = server.capture
        if capture is not None:
            if capture.recordings:
                capture.shutdown("exit")  # `exit` without `shutdown`, or the editor went away
            capture.close(drain_seconds=settings.exit_drain_seconds)


def _spool(flags: dict[str, Any]) -> Any:
    from lsp_agent.capture import SPOOL_FILE
    from lsp_agent.spool import Spool

    settings, _ = _settings(flags)
    try:
        return Spool(settings.data_dir / SPOOL_FILE, settings.spool_max_bytes), settings
    except LspAgentError as err:
        raise click.ClickException(str(err)) from None


@lsp.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@common_options
@click.pass_obj
def status(obj: dict[str, Any] | None, as_json: bool, data_dir: Path | None) -> None:
    """What is queued, uploaded, dropped and redacted (counts only)."""
    from lsp_agent.status import status_dict, status_lines

    spool, _ = _spool({**(obj or {}), "data_dir": data_dir or (obj or {}).get("data_dir")})
    summary = status_dict(spool.status())
    spool.close()
    if as_json:
        click.echo(json.dumps(summary, sort_keys=True))
    else:
        click.echo("\n".join(status_lines(summary)))


def _set_paused(obj: dict[str, Any] | None, data_dir: Path | None, paused: bool) -> None:
    spool, _ = _spool({**(obj or {}), "data_dir": data_dir or (obj or {}).get("data_dir")})
    spool.set_state("paused", "1" if paused else "0")
    spool.close()
    click.echo("capture paused" if paused else "capture resumed")


@lsp.command()
@common_options
@click.pass_obj
def pause(obj: dict[str, Any] | None, data_dir: Path | None) -> None:
    """Stop recording (in every running sidecar) until `resume`."""
    _set_paused(obj, data_dir, True)


@lsp.command()
@common_options
@click.pass_obj
def resume(obj: dict[str, Any] | None, data_dir: Path | None) -> None:
    """Record again after `pause`."""
    _set_paused(obj, data_dir, False)


@lsp.command()
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".")
def enable(path: Path) -> None:
    """Opt the repository at PATH in, for you only (a marker inside .git, never committed)."""
    from lsp_agent.repository import find_root, opt_in

    root = find_root(path.resolve())
    if root is None:
        raise click.ClickException(f"{path} is not inside a git repository")
    click.echo(f"capture enabled in {root} ({opt_in(root)})")


@lsp.command()
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".")
def disable(path: Path) -> None:
    """Remove your opt-in marker from the repository at PATH."""
    from lsp_agent.repository import find_root, opt_out

    root = find_root(path.resolve())
    if root is None:
        raise click.ClickException(f"{path} is not inside a git repository")
    click.echo("capture disabled" if opt_out(root) else "capture was not enabled locally")


@lsp.command()
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Give up after this many seconds.")
@common_options
@click.pass_obj
def upload(obj: dict[str, Any] | None, timeout: float, data_dir: Path | None) -> None:
    """Ship everything queued now (the sidecar also does this in the background)."""
    from lsp_agent.uploader import Uploader

    spool, settings = _spool({**(obj or {}), "data_dir": data_dir or (obj or {}).get("data_dir")})
    if not settings.collector_url or not settings.resolved_token():
        raise click.ClickException("no collector: set SMARTCO_COLLECTOR_URL and SMARTCO_TOKEN (or a token file)")
    uploader = Uploader(spool, settings.collector_url, settings.resolved_token(), settings.batch_max_events)
    empty = uploader.drain(timeout)
    uploader.stop()
    left = spool.count
    spool.close()
    if not empty:
        raise click.ClickException(f"{left} events still queued ({uploader.last_error or 'timeout'})")
    click.echo("spool empty")
    sys.stdout.flush()
