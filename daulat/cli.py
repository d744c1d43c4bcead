"""The ``daulat`` command line: one sub-command per stage.

Each stage's module owns its commands in a ``register(app)`` function, so the stages stay
independent; this file only assembles them (one entry in :data:`STAGES` per stage, imported
when one of its commands runs), adds ``--version`` and turns :class:`UserError` into exit 2.

Help is click's plain layout (``rich_markup_mode=None``): options show their choices and
defaults, flags show no value placeholder, and ``docs/cli.md`` is generated from the same
text (``python -m daulat.cli_docs``).
"""

from __future__ import annotations

import functools
import importlib
import sys
from importlib.metadata import version as _dist_version
from types import ModuleType
from typing import Any

import typer
import typer.core
import typer.main
from pydantic import ValidationError
from rich.markup import escape

from daulat.console import err_console
from daulat.errors import UserError

__all__ = ["STAGES", "app", "main", "package_version"]

#: Each stage's command module and the top-level commands its ``register(app)`` adds, in the
#: order of ``daulat --help``. A new stage: one line here (a test checks each module registers
#: exactly the names listed).
STAGES: dict[str, tuple[str, ...]] = {
    "daulat.demo": ("demo",),
    "daulat.catalog.cli": ("catalog",),
    "daulat.scenario.cli": ("scenario", "schema"),
    "daulat.sizing.cli": ("size",),
    "daulat.plan.cli": ("plan",),
    "daulat.finance.cli": ("finance", "risk"),
    "daulat.report.cli": ("report", "compare"),
    "daulat.policy.cli": ("policy", "pii"),
    "daulat.gateway.cli": ("serve", "keys", "audit", "store"),
    "daulat.web.cli": ("web",),
}
_MODULE_OF = {name: module for module, names in STAGES.items() for name in names}


def stage_commands(module: ModuleType) -> typer.core.TyperGroup:
    """The click commands that ``module.register`` adds, as one group."""
    stage = typer.Typer(rich_markup_mode=None, add_completion=False)

    @stage.callback()
    def _group() -> None:  # a callback keeps a one-command stage a group
        """A stage's commands."""

    module.register(stage)
    group = typer.main.get_command(stage)
    assert isinstance(group, typer.core.TyperGroup)
    return group


@functools.cache
def _stage(module: str) -> typer.core.TyperGroup:
    """The stage ``module``'s commands, built once (``daulat --help`` asks for each name)."""
    return stage_commands(importlib.import_module(module))


class _StagesGroup(typer.core.TyperGroup):
    """The root group: a stage's module is imported when one of its commands runs.

    Importing every stage costs ~2.5 s (linopy, pandas, the gateway's server) before any
    command starts; ``daulat catalog list`` or ``daulat size`` need none of that
    (``benchmarks/cli_startup.py`` measures both). This is click's documented pattern for
    lazily loaded subcommands; ``daulat --help`` still loads them all to show their help.
    """

    def list_commands(self, ctx: Any) -> list[str]:
        return list(_MODULE_OF)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        module = _MODULE_OF.get(cmd_name)
        if module is None:
            return None
        return _stage(module).commands.get(cmd_name)


app = typer.Typer(
    name="daulat",
    cls=_StagesGroup,
    help="Size, plan and serve national AI infrastructure partnerships.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


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


def _name_the_value(exc: typer.TyperException) -> None:
    """Add the value given to an option's range or type error: Typer's validation names the
    option and the bound ("Input should be greater than or equal to 2020") but not what the
    user typed."""
    cause = exc.__cause__
    if isinstance(exc, typer.BadParameter) and isinstance(cause, ValidationError):
        errors = cause.errors()
        if errors and "input" in errors[0]:
            exc.message = f"{exc.message}; given: {errors[0]['input']!r}"


def main() -> None:
    """Console-script entry point: bad input exits 2 with its message, never a traceback."""
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        err_console.print("Aborted!")
        sys.exit(1)
    except typer.TyperException as exc:  # usage errors: bad option, value or command
        _name_the_value(exc)
        exc.show()  # type: ignore[attr-defined]
        sys.exit(exc.exit_code)  # type: ignore[attr-defined]
    except UserError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(exc.exit_code)
    if isinstance(code, int) and code:
        sys.exit(code)
