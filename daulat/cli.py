"""The ``daulat`` command line: one sub-command per stage.

Each stage's module owns its commands in a ``register(app)`` function, so the stages stay
independent; this file only assembles them and turns :class:`UserError` into exit 2.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.markup import escape

from daulat.console import err_console
from daulat.errors import UserError

__all__ = ["app", "main"]

app = typer.Typer(
    name="daulat",
    help="Size, plan and serve national AI infrastructure partnerships.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Order is the order of `daulat --help`.
_STAGES = (
    "daulat.demo",
    "daulat.catalog.cli",
    "daulat.scenario.cli",
    "daulat.sizing.cli",
    "daulat.plan.cli",
    "daulat.finance.cli",
    "daulat.report.cli",
    "daulat.policy.cli",
    "daulat.gateway.cli",
)

for _name in _STAGES:
    importlib.import_module(_name).register(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app(standalone_mode=True)
    except UserError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(exc.exit_code)
