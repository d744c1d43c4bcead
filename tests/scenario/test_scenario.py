"""The scenario format: examples validate, bad files report every error with line numbers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from daulat.errors import UserError
from daulat.plan.inputs import programme_training_flop
from daulat.scenario import ScenarioError, dump_scenario, load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [ROOT / "examples" / f for f in ("indonesia.yaml", "program-10.yaml", "global.yaml")]
DAULAT = [str(Path(sys.executable).parent / "daulat")]

BAD = """\
name: bad
horizon: {start: 2026, end: 2020}
countries:
  - iso3: IDN
    demnd: {}
  - iso3: XXQ
workloads:
  - id: assistant
    latency_ms: -5
funders:
  - id: provider
    kind: privider
    budget_usd: lots
  - id: gov
    kind: government
    budget_usd: {2026: 1.0e9}
objective: {kind: max_acess}
"""


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_validates_and_round_trips(path: Path) -> None:
    scenario = load_scenario(path)
    again = parse_scenario(dump_scenario(scenario), "dumped.yaml")
    assert again == scenario


def test_every_schema_error_is_reported_at_once_with_line_and_column() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(BAD, "bad.yaml")
    problems = info.value.problems
    expected = {
        "bad.yaml:2:10: horizon": "end (2020) should be >= start (2026)",
        "bad.yaml:5:5: countries[0].demnd": "did you mean 'demand'?",
        # one ISO3 check (daulat.iso3) in the schema itself, one problem for the field
        "bad.yaml:6:11: countries[1].iso3": "'XXQ' is not an ISO 3166-1 alpha-3 country code",
        "bad.yaml:9:17: workloads[0].latency_ms": "greater than 0",
        "bad.yaml:12:11: funders[0].kind": "'provider', 'government' or 'other'",
        "bad.yaml:13:17: funders[0].budget_usd": "'lots'",
        "bad.yaml:14:5: funders[1]": "needs `country`",
        "bad.yaml:17:19: objective.kind": "'min_cost' or 'max_access'",
    }
    for where, what in expected.items():
        assert any(p.startswith(where) and what in p for p in problems), (where, problems)
    assert len(problems) == len(expected)


def test_unknown_catalog_ids_name_the_valid_ones() -> None:
    text = BAD.split("workloads:")[0].replace("  - iso3: IDN\n    demnd: {}\n", "") + (
        "accelerators: [H100-SXM, H1OO]\nfunders: [{id: p, kind: provider, budget_usd: 1}]\n"
    )
    text = text.replace("end: 2020", "end: 2030")
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "ids.yaml")
    msg = str(info.value)
    assert "ids.yaml:4:11: countries[0].iso3: 'XXQ' — 'XXQ' is not an ISO 3166-1 alpha-3" in msg
    assert "accelerators[1]: 'H1OO' — unknown" in msg and "H100-SXM" in msg


def test_yaml_syntax_error_points_at_the_line() -> None:
    with pytest.raises(UserError, match=r"broken.yaml:\d+:\d+: not valid YAML"):
        parse_scenario("name: x\nhorizon: {start: 2026\n", "broken.yaml")


def test_missing_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="scenario file not found"):
        load_scenario(tmp_path / "nope.yaml")


def test_cli_validate_and_schema(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    out = subprocess.run([*DAULAT, "scenario", "validate", str(bad)], capture_output=True,
                         text=True, cwd=ROOT)
    assert out.returncode == 2
    assert "8 problem(s)" in out.stderr and "objective.kind" in out.stderr
    from typer.testing import CliRunner

    from daulat.cli import app

    runner = CliRunner()
    ok = runner.invoke(app, ["scenario", "validate", str(ROOT / "examples/indonesia.yaml"),
                             "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["valid"] is True
    schema = runner.invoke(app, ["schema"])
    doc = json.loads(schema.stdout)
    assert doc["additionalProperties"] is False
    assert {"horizon", "countries", "funders", "rules", "objective"} <= set(doc["properties"])


def test_every_scenario_field_is_documented() -> None:
    from pydantic import BaseModel

    import daulat.scenario.schema as schema

    doc = (ROOT / "docs" / "scenario.md").read_text(encoding="utf-8")
    missing = [
        f"{name}.{field}"
        for name, model in vars(schema).items()
        if isinstance(model, type) and issubclass(model, BaseModel) and model is not BaseModel
        and not name.startswith("_")
        for field in model.model_fields
        if f"`{field}`" not in doc
    ]
    assert not missing, missing


def test_demand_overrides_are_checked_against_the_sizing_assumptions() -> None:
    text = ("name: d\nhorizon: {start: 2027, end: 2030}\ncountries:\n  - iso3: IDN\n"
            "    demand:\n      queries_per_user_dy: 5\n      peak_factor: 0.5\n"
            "funders: [{id: p, kind: provider, budget_usd: 1.0e9}]\n")
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "d.yaml")
    problems = info.value.problems
    assert any(p.startswith("d.yaml:6:7: countries[0].demand.queries_per_user_dy")
               and "queries_per_user_day" in p for p in problems), problems
    assert any(p.startswith("d.yaml:7:20: countries[0].demand.peak_factor") for p in problems)


def test_programme_training_needs_a_size_and_a_consistent_window() -> None:
    text = ("name: t\nhorizon: {start: 2027, end: 2030}\ncountries: [{iso3: IDN}]\n"
            "funders: [{id: p, kind: provider, budget_usd: 1.0e9}]\n"
            "training:\n  - {id: f, deadline_year: 2029}\n"
            "  - {id: g, frontier_year: 2028, start_year: 2030, deadline_year: 2029}\n"
            "workloads: [{id: w, demand: {profile: deep-thought}}]\n")
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "t.yaml")
    problems = info.value.problems
    assert any(p.startswith("t.yaml:6:5: training[0]") and "frontier_year" in p
               for p in problems), problems
    assert any(p.startswith("t.yaml:7:5: training[1]") and "after deadline_year" in p
               for p in problems), problems
    fixed = (text.replace("{id: f, deadline_year: 2029}",
                          "{id: f, flop: 1.0e27, deadline_year: 2029}")
             .replace("start_year: 2030", "start_year: 2028"))
    with pytest.raises(ScenarioError) as info:
        parse_scenario(fixed, "t.yaml")
    assert any("workloads[0].demand.profile" in p and "reasoning" in p
               for p in info.value.problems), info.value.problems
    ok = parse_scenario(text.replace("{id: f, deadline_year: 2029}",
                                     "{id: f, flop: 1.0e27, deadline_year: 2029}")
                        .replace("start_year: 2030", "start_year: 2028")
                        .replace("deep-thought", "agentic"), "t.yaml")
    assert programme_training_flop(ok.training[0]) == 1e27
    assert programme_training_flop(ok.training[1]) == pytest.approx(5e26 * 4.5**3)
