"""Every scenario shipped in examples/ and shown in docs/ validates and plans.

The plan is written and read back through the declared plan directory, so each example
also proves the contract holds for it. examples/global.yaml (every country, every site)
is planned under the ``slow`` marker; it is validated in the normal run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from daulat.finance import load_plan
from daulat.scenario import parse_scenario
from tests.plan.invariants import solved

ROOT = Path(__file__).resolve().parents[1]
_YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)
#: Scenarios too large to plan within `make test` (planned with -m slow).
SLOW = {"examples/global.yaml"}


def _scenarios() -> list[tuple[str, str]]:
    """(where, YAML text) of every scenario in examples/ and in docs/*.md yaml blocks."""
    found = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if re.search(r"^horizon:", text, re.MULTILINE):  # gateway.yaml is a gateway config
            found.append((str(path.relative_to(ROOT)), text))
    for doc in sorted((ROOT / "docs").glob("*.md")):
        for i, block in enumerate(_YAML_BLOCK.findall(doc.read_text(encoding="utf-8"))):
            if re.search(r"^horizon:", block, re.MULTILINE):
                found.append((f"{doc.relative_to(ROOT)}#yaml{i + 1}", block))
    return found


SCENARIOS = _scenarios()


def test_the_shipped_scenarios_are_found() -> None:
    where = {w for w, _ in SCENARIOS}
    assert {"examples/indonesia.yaml", "examples/program-10.yaml",
            "examples/global.yaml"} <= where
    assert any(w.startswith("docs/scenario.md#") for w in where)


@pytest.mark.parametrize(("where", "text"), SCENARIOS, ids=[w for w, _ in SCENARIOS])
def test_every_scenario_validates(where: str, text: str) -> None:
    scenario = parse_scenario(text, where)
    assert scenario.name and scenario.years


@pytest.mark.parametrize(("where", "text"), [
    pytest.param(w, t, marks=[pytest.mark.slow] if w in SLOW else [], id=w)
    for w, t in SCENARIOS])
def test_every_scenario_plans(where: str, text: str, tmp_path: Path) -> None:
    path = ROOT / where if where.endswith(".yaml") else tmp_path / "scenario.yaml"
    if not where.endswith(".yaml"):
        path.write_text(text, encoding="utf-8")
    # planned once per session (tests/plan/test_examples.py reads the same plans)
    result = solved(path)
    assert result.summary.solved, result.summary.infeasibility
    result.write(tmp_path / "plan")
    tables = load_plan(tmp_path / "plan")
    assert tables.summary.status == result.summary.status
    assert not tables.builds.empty and not tables.inputs_sites.empty
