"""`daulat demo` — the main job on the built-in defaults, as `make demo` runs it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from daulat.sizing import country_assistant

ROOT = Path(__file__).resolve().parents[1]


def _daulat(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    daulat = Path(sys.executable).with_name("daulat")  # the console script `make demo` runs
    return subprocess.run([str(daulat), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_demo_sizes_plans_finances_and_reports_with_one_engine(tmp_path: Path) -> None:
    out = tmp_path / "indonesia"
    proc = _daulat("demo", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = proc.stdout
    for stage in ("1. Size", "2. Plan", "3. Finance", "4. Risk", "5. Report"):
        assert stage in text, stage
    # the sizing step prints what `size country` answers (one engine), with what it rests on
    idn = country_assistant("IDN", 2027)
    w = re.search(r"facility W per weekly user\s*│\s*([\d.]+)", text)
    assert w and float(w.group(1)) == round(idn.watts_per_weekly_user, 2)
    assert f"{idn.accelerators:,}" in text and "rests on" in text
    # the plan, the money and the report are written where the demo says
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal"
    assert f"people served {summary['people_served']:,.0f}" in " ".join(text.split())
    assert (out / "report.html").stat().st_size > 10_000
    risk = json.loads((out / "risk.json").read_text())
    people = next(q for q in risk["quantiles"] if q["metric"] == "people_served")
    # the risk table shows the plan's own figure next to the quantiles
    assert f"{people['base']:,.0f}" in text


def test_demo_without_the_example_scenario_says_how_to_run_it(tmp_path: Path) -> None:
    proc = _daulat("demo", "--out", str(tmp_path / "x"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "examples/indonesia.yaml" in proc.stderr and "--scenario" in proc.stderr
