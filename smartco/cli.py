"""The root `smartco` command: each sub-command group lives in the package that owns it, loaded on first use."""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from smartco import __version__

# name -> ("module:attribute", one-line help). Loading lazily keeps `smartco lsp` free of FastAPI/SQLAlchemy.
COMMANDS: dict[str, tuple[str, str]] = {
    "collector": ("collector_api.cli:collector", "Run and administer the team's collector service."),
    "lsp": ("lsp_agent.cli:lsp", "The capture sidecar: run it as an extra language server in your editor."),
    "import": ("trajectory.sources.cli:import_group", "Mine git history and GitHub issues, PRs and reviews."),
    "dataset": ("trajectory.align.cli:dataset", "Build aligned dataset records with leakage-free splits."),
    "ianvs": ("ianvs_export.cli:ianvs", "Export and run KubeEdge-Ianvs benchmarks of candidate code models."),
    "judge": ("ianvs_export.judge_cli:judge", "Blind judging sheets for engineers and their agreement."),
    "quickstart": ("smartco.quickstart:quickstart", "Run the whole pipeline on an embedded default."),
}


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported only when they are invoked or listed in detail."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target[0].split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name and module_name.startswith(err.name):
                return _unavailable(cmd_name, target[1])
            raise
        command: click.Command = getattr(module, attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Listing must not import every package: the help text comes from COMMANDS.
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in self.list_commands(ctx)])


def _unavailable(name: str, help_text: str) -> click.Command:
    def run() -> None:
        raise click.ClickException(f"'smartco {name}' is not available in this installation")

    return click.Command(name, callback=run, help=help_text)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="smartco")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-v info, -vv debug).")
def root(verbose: int) -> None:
    """smartco: record how engineers really code, align it into datasets, benchmark code models on Ianvs."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the `smartco` script."""
    return root.main(args=argv, prog_name="smartco")


if __name__ == "__main__":
    main()
