"""``daulat scenario validate FILE`` and ``daulat schema``."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import typer

from daulat.console import console, emit
from daulat.errors import ScenarioError
from daulat.scenario.load import load_scenario
from daulat.scenario.schema import Scenario

__all__ = ["register"]

#: ``file:line:col: field.path: bad value — what is valid`` (one ScenarioError problem).
_PROBLEM = re.compile(
    r"^(?P<file>.*?):(?P<line>\d+):(?P<col>\d+): (?P<field>[^:]+): (?P<message>.*)$", re.DOTALL)


def problem_record(line: str) -> dict[str, Any]:
    """One problem line as a JSON record (``line``/``column``/``field`` where the line has them)."""
    m = _PROBLEM.match(line)
    if m is None:
        return {"line": None, "column": None, "field": None, "message": line}
    return {"line": int(m["line"]), "column": int(m["col"]), "field": m["field"],
            "message": m["message"]}


scenario_app = typer.Typer(help="Scenario files: validate them.", no_args_is_help=True)


@scenario_app.command("validate")
def validate(
    file: Path = typer.Argument(..., help="Scenario YAML to check."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Check FILE and report every problem at once (file:line:col, field, bad value, valid)."""
    try:
        scenario = load_scenario(file)
    except ScenarioError as exc:
        if not as_json:
            raise
        # --json: the problems as records on stdout, exit 2 as without --json
        sys.stdout.write(json.dumps({"file": str(file), "valid": False,
                                     "problems": [problem_record(p) for p in exc.problems]},
                                    indent=2, ensure_ascii=False) + "\n")
        raise typer.Exit(2) from None
    countries = "all" if scenario.countries == "all" else len(scenario.countries)
    result: dict[str, Any] = {
        "file": str(file),
        "valid": True,
        "name": scenario.name,
        "horizon": [scenario.horizon.start, scenario.horizon.end],
        "countries": countries,
        "workloads": [w.id for w in scenario.workloads],
        "funders": [f.id for f in scenario.funders],
        "objective": scenario.objective.kind,
    }

    def render(r: dict[str, Any]) -> None:
        console.print(
            f"[green]ok[/] {r['file']}: scenario '{r['name']}', {r['horizon'][0]}–"
            f"{r['horizon'][1]}, countries: {r['countries']}, funders: "
            f"{', '.join(r['funders'])}, objective {r['objective']}"
        )

    emit(result, as_json, render)


def schema() -> None:
    """Print the JSON Schema of scenario.yaml (generated from the pydantic models)."""
    sys.stdout.write(json.dumps(Scenario.model_json_schema(), indent=2) + "\n")


def register(app: typer.Typer) -> None:
    """Add ``scenario validate`` and ``schema`` to ``app``."""
    app.add_typer(scenario_app, name="scenario")
    app.command("schema", help="Print the JSON Schema of scenario.yaml.")(schema)
