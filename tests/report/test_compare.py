"""`daulat compare`: two plans side by side, with what differs in their scenarios."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from daulat.pipeline import run_pipeline
from daulat.report.compare import compare_plans

ROOT = Path(__file__).resolve().parents[2]
DAULAT = str(Path(sys.executable).parent / "daulat")


@pytest.fixture(scope="module")
def two_plans(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Indonesia as shipped, and the same plan with the government paying at least 30 %."""
    base = tmp_path_factory.mktemp("cmp")
    text = (ROOT / "examples" / "indonesia.yaml").read_text(encoding="utf-8")
    other = text.replace("name: indonesia", "name: indonesia-lean", 1).replace(
        "min_government_share: 0.2", "min_government_share: 0.3", 1)
    assert "min_government_share: 0.3" in other
    (base / "lean.yaml").write_text(other, encoding="utf-8")
    a, b = base / "a", base / "b"
    run_pipeline(ROOT / "examples" / "indonesia.yaml", a, finance=True, sovereignty=False,
                 baseline=False)
    run_pipeline(base / "lean.yaml", b, finance=True, sovereignty=False, baseline=False)
    return a, b


def test_compare_puts_the_plans_side_by_side(two_plans: tuple[Path, Path],
                                             tmp_path: Path) -> None:
    a, b = two_plans
    out = tmp_path / "cmp.html"
    done = subprocess.run([DAULAT, "compare", str(a), str(b), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    md = out.with_suffix(".md").read_text(encoding="utf-8")
    page = out.read_text(encoding="utf-8")
    assert "indonesia" in page and "indonesia-lean" in page
    for label in ("Capital (undiscounted)", "People served (last year)",
                  "Cost of sovereignty (NPV)", "Facility power (last year)",
                  "Government of Indonesia: capital", "Government of Indonesia: NPV"):
        assert label in md, label
    # funders by name, never by id; the capital rows carry money
    assert "gov-idn" not in md.split("## ")[1]
    capital = next(line for line in md.splitlines() if line.startswith("| Capital"))
    assert capital.count("$") == 2


def test_compare_in_indonesian(two_plans: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = two_plans
    out = tmp_path / "cmp.html"
    done = subprocess.run([DAULAT, "compare", str(a), str(b), "--out", str(out), "--lang", "id"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    md = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "Perbandingan rencana" in md and "Orang yang dilayani" in md


def test_what_differs_in_the_scenarios_is_listed(two_plans: tuple[Path, Path]) -> None:
    a, b = two_plans
    diffs = dict(compare_plans([a, b]).differences)
    assert diffs.get("rules.min_government_share") == ["0.2", "0.3"], diffs
    assert all(len(cells) == 2 and cells[0] != cells[1] for cells in diffs.values())


def test_one_plan_or_a_foreign_directory_is_refused(two_plans: tuple[Path, Path],
                                                    tmp_path: Path) -> None:
    a, _ = two_plans
    one = subprocess.run([DAULAT, "compare", str(a)], capture_output=True, text=True)
    assert one.returncode == 2 and "at least two" in one.stderr + one.stdout
    foreign = subprocess.run([DAULAT, "compare", str(a), str(tmp_path)],
                             capture_output=True, text=True)
    assert foreign.returncode == 2, foreign.stdout + foreign.stderr


def test_compare_shows_capital_and_operating_cost_and_unserved_people_not_a_penalty(
        two_plans: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = two_plans
    priced = Path(shutil.copytree(b, tmp_path / "priced"))
    summary = json.loads((priced / "summary.json").read_text(encoding="utf-8"))
    npv = summary["totals"]["npv_cost_usd"]
    summary["totals"]["plan_cost_usd"] = npv + 123.4e12  # a planner's price on unmet demand
    (priced / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    rows = dict(compare_plans([a, priced]).rows)
    cost = rows["Capital and operating cost (NPV)"]
    assert "T" not in cost[1] and cost[1].startswith("$")  # the NPV of capex + opex only
    unserved = rows["People not served (last year)"]
    assert all(c.replace(",", "").isdigit() for c in unserved)
