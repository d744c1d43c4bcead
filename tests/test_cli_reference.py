"""The CLI reads well: docs/cli.md is exactly the generated reference, help shows choices
and defaults and no ``<bool>``, every command and option is explained, ``--version`` works."""

from __future__ import annotations

import difflib
import importlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from daulat.cli import STAGES, app, stage_commands
from daulat.cli_reference import commands, render

ROOT = Path(__file__).resolve().parents[1]
REGENERATE = "python -m daulat.cli_reference > docs/cli.md"
runner = CliRunner()


def test_docs_cli_md_is_exactly_the_generated_reference() -> None:
    expected = render()
    actual = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(
            actual.splitlines(keepends=True), expected.splitlines(keepends=True),
            "docs/cli.md", "generated", n=1))
        raise AssertionError(f"docs/cli.md is out of date; run `{REGENERATE}`:\n{diff[:4000]}")


def test_the_reference_lists_every_command_the_app_has() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    paths = [path for path, _ in commands()]
    assert {"daulat", "daulat catalog show", "daulat scenario validate", "daulat plan"} <= set(
        paths)
    missing = [p for p in paths if f"## {p}\n" not in text]
    assert not missing, f"commands missing from docs/cli.md: {missing}; run `{REGENERATE}`"


def test_every_command_argument_and_option_is_explained() -> None:
    unexplained: list[str] = []
    for path, ctx in commands():
        cmd = ctx.command
        if not (cmd.help or cmd.short_help):
            unexplained.append(f"`{path}`")
        for param in cmd.params:
            if not getattr(param, "help", None):
                unexplained.append(f"`{path}` {param.opts or param.name}")
    assert not unexplained, "no help text: " + ", ".join(unexplained)


def test_flags_show_no_value_placeholder_and_help_shows_choices_and_defaults() -> None:
    text = render()
    assert "<bool>" not in text
    listing = runner.invoke(app, ["catalog", "list", "--help"], terminal_width=100)
    assert listing.exit_code == 0
    # KIND's choices and the income groups are listed; a flag reads as just its name
    assert "countries|sites|accelerators|models|constants" in listing.stdout
    assert "LIC|LMC|UMC|HIC" in listing.stdout
    assert "--json " in listing.stdout and "--json <" not in listing.stdout
    assert "[default: 0]" in listing.stdout


def test_version_prints_the_package_version() -> None:
    want = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"]
    proc = subprocess.run(
        [sys.executable, "-c", "from daulat.cli import main; main()", "--version"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"daulat {want}\n"


def test_a_year_prints_as_2027_not_2_027_and_money_as_money() -> None:
    result = runner.invoke(app, ["size", "country", "--country", "IDN", "--year", "2027"],
                           terminal_width=120)
    assert result.exit_code == 0, result.output
    year_row = next(line for line in result.stdout.splitlines() if " year " in line)
    assert "2027" in year_row and "2,027" not in result.stdout
    users_row = next(line for line in result.stdout.splitlines() if "users" in line)
    assert re.search(r"\d{1,3}(,\d{3})+ ", users_row), users_row  # counts stay grouped
    capex_row = next(line for line in result.stdout.splitlines() if "capex" in line)
    assert re.search(r"\$\d+(\.\d)?[MB] ", capex_row), capex_row  # money: $971.3M


def test_each_stage_registers_exactly_the_commands_the_root_lists() -> None:
    """The root loads a stage when one of its commands runs, by the names in STAGES."""
    for module, names in STAGES.items():
        assert set(stage_commands(importlib.import_module(module)).commands) == set(names), module


def test_a_catalog_command_starts_without_loading_the_planner_or_the_gateway() -> None:
    """`daulat catalog …` answers in a fraction of a second: the planner (linopy), the
    gateway's server and the web app are not imported for it."""
    code = ("import sys; from daulat.cli import main; "
            "sys.argv = ['daulat', 'catalog', 'list', 'accelerators', '--json']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('linopy', 'daulat.plan', 'daulat.gateway.app', 'daulat.web.app',"
            " 'daulat.finance') if m in sys.modules]\n"
            "sys.stderr.write('HEAVY=' + ','.join(heavy))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert '"id"' in proc.stdout, proc.stdout[-500:] + proc.stderr[-2000:]
    assert proc.stderr.strip().endswith("HEAVY="), proc.stderr[-500:]


def _daulat(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from daulat.cli import main; main()", *args],
        capture_output=True, text=True, timeout=120,
    )


def test_an_out_of_range_or_malformed_option_names_the_value_given() -> None:
    proc = _daulat("size", "service", "--users", "1e6", "--year", "1900")
    assert proc.returncode == 2
    assert "'--year'" in proc.stderr and "2020" in proc.stderr and "'1900'" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = _daulat("size", "service", "--users", "many")
    assert proc.returncode == 2 and "'many'" in proc.stderr and "Traceback" not in proc.stderr


def test_an_unknown_command_and_help_exit_as_before() -> None:
    proc = _daulat("nosuch")
    assert proc.returncode == 2 and "No such command 'nosuch'" in proc.stderr
    proc = _daulat("size", "--help")
    assert proc.returncode == 0 and "Usage: " in proc.stdout
