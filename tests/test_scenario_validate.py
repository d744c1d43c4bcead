"""`daulat scenario validate` lists every problem of a file in one pass, each at its line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DAULAT = str(Path(sys.executable).parent / "daulat")

# Four independent mistakes: a demand profile that does not exist, a country code that is
# no country, an accelerator the catalog does not have, and a negative budget. Before, the
# first schema error hid the other three.
FOUR_ERRORS = """\
name: four
horizon: {start: 2027, end: 2031}
countries:
  - iso3: IDX
workloads:
  - id: assistant
    demand: {profile: chatty}
accelerators: [H100-SXM, H999]
funders:
  - id: provider
    kind: provider
    budget_usd: -3.0e9
"""


def test_validate_lists_all_four_problems_with_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "four.yaml"
    path.write_text(FOUR_ERRORS, encoding="utf-8")
    proc = subprocess.run([DAULAT, "scenario", "validate", str(path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr.replace("\n ", " ")  # rich may wrap a long line
    assert "4 problem(s)" in err, err
    expected = [
        (f"{path}:4:11: countries[0].iso3: 'IDX'", "IDN"),
        (f"{path}:7:23: workloads[0].demand.profile: 'chatty'", "'chat', 'reasoning' or 'agentic'"),
        (f"{path}:8:26: accelerators[1]: 'H999'", "H100-SXM"),
        (f"{path}:12:17: funders[0].budget_usd: -3000000000.0", ">= 0"),
    ]
    lines = [line for line in err.splitlines() if line.startswith(str(path))]
    assert len(lines) == 4, err
    for (where, valid), line in zip(expected, lines, strict=True):  # in the order of the file
        assert line.startswith(where) and valid in line, (where, line)
    assert "Traceback" not in proc.stderr


def test_a_valid_file_still_validates(tmp_path: Path) -> None:
    fixed = (FOUR_ERRORS.replace("IDX", "IDN").replace("chatty", "chat")
             .replace(", H999", "").replace("-3.0e9", "3.0e9"))
    path = tmp_path / "fixed.yaml"
    path.write_text(fixed, encoding="utf-8")
    proc = subprocess.run([DAULAT, "scenario", "validate", str(path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "ok" in proc.stdout and "2027–2031" in proc.stdout


def test_json_lists_every_problem_as_a_record_on_stdout(tmp_path: Path) -> None:
    """A script (CI, the web form) reads the problems from stdout, not from a text message."""
    path = tmp_path / "four.yaml"
    path.write_text(FOUR_ERRORS, encoding="utf-8")
    proc = subprocess.run([DAULAT, "scenario", "validate", str(path), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    out = json.loads(proc.stdout)
    assert out["valid"] is False and out["file"] == str(path)
    where = {(p["line"], p["field"]) for p in out["problems"]}
    assert (4, "countries[0].iso3") in where and (7, "workloads[0].demand.profile") in where
    assert len(out["problems"]) == 4
    assert any("IDN" in p["message"] for p in out["problems"])
