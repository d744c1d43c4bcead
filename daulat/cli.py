"""The ``daulat`` command line: one sub-command per stage.

Each stage's module owns its commands in a ``register(app)`` function, so the stages stay
independent; this file only assembles them (one import and one entry in ``_STAGES`` per
stage), adds ``--version`` and turns :class:`UserError` into exit 2.

Help is click's plain layout (``rich_markup_mode=None``): options show their choices and
defaults, flags show no value placeholder, and ``docs/cli.md`` is generated from the same
text (``python -m daulat.cli_docs``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib.metadata import version as _dist_version

import typer
from rich.markup import escape

from daulat import demo
from daulat.catalog import cli as catalog_cli
from daulat.console import err_console
from daulat.errors import UserError
from daulat.finance import cli as finance_cli
from daulat.gateway import cli as gateway_cli
from daulat.plan import cli as plan_cli
from daulat.policy import cli as policy_cli
from daulat.report import cli as report_cli
from daulat.scenario import cli as scenario_cli
from daulat.sizing import cli as sizing_cli
from daulat.web import cli as web_cli

__all__ = ["app", "main", "package_version"]

app = typer.Typer(
    name="daulat",
    help="Size, plan and serve national AI infrastructure partnerships.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# Order is the order of `daulat --help`. A new stage: import its cli module above and add
# its register function here, one line.
_STAGES: tuple[Callable[[typer.Typer], None], ...] = (
    demo.register,
    catalog_cli.register,
    scenario_cli.register,
    sizing_cli.register,
    plan_cli.register,
    finance_cli.register,
    report_cli.register,
    policy_cli.register,
    gateway_cli.register,
    web_cli.register,
)

for _register in _STAGES:
    _register(app)


def package_version() -> str:
    """The installed ``daulat`` distribution's version (pyproject.toml ``version``)."""
    return _dist_version("daulat")


def _print_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"daulat {package_version()}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Size, plan and serve national AI infrastructure partnerships."""


def main() -> None:
    """Console-script entry point: bad input exits 2 with its message, never a traceback."""
    try:
        app(standalone_mode=True)
    except UserError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(exc.exit_code)
