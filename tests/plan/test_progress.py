"""Progress while solving: phases, elapsed time and the MIP gap on stderr, stdout clean."""

from __future__ import annotations

import pytest

from daulat.plan import solve_data
from daulat.plan.progress import highs_progress
from tests.plan.tiny import tiny

# lines of a HiGHS 1.16 log (examples/indonesia.yaml, then tests/plan/tiny.py's LP)
MIP_LINES = [
    (" J       0       0         0   0.00%   -inf            185.6623573        Large        0"
     "      0      0         0     0.0s", "gap large, 0 nodes"),
    (" R       0       0         0   0.00%   38.45579801     44.79597379       14.15%        0"
     "      0      0       211     0.1s", "gap 14.15 %, 0 nodes"),
    ("         1       0         1 100.00%   38.45849976     38.5817111         0.32%        2"
     "      1    522       499     0.5s", "gap 0.32 %, 1 nodes"),
    ("         0       0         0   0.00%   -1.4e+07        inf                  inf        0"
     "      0      0         0     0.1s", "gap – (no plan yet), 0 nodes"),
    ("       4210     1.5015000000e-02 Pr: 0(0) 0.0s", "simplex iteration 4,210"),
    ("          0     0.0000000000e+00 Ph1: 0(0) 0.0s", "simplex iteration 0"),
]


@pytest.mark.parametrize(("line", "shown"), MIP_LINES)
def test_highs_log_lines_become_the_live_gap(line: str, shown: str) -> None:
    assert highs_progress(line) == shown


@pytest.mark.parametrize("line", ["Running HiGHS 1.16.0", "  Gap               0.319% "
                                  "(tolerance: 0.5%)", "Presolving model",
                                  "22 rows, 24 cols, 54 nonzeros 0s", ""])
def test_other_log_lines_change_nothing(line: str) -> None:
    assert highs_progress(line) is None


def test_a_verbose_solve_reports_its_phases_on_stderr_only(
        capsys: pytest.CaptureFixture[str]) -> None:
    data = tiny(objective="max_access", portfolio_max_countries=1)
    result = solve_data(data, quiet=False, sovereignty=False)
    assert result.status == "optimal"
    out = capsys.readouterr()
    assert out.out == ""  # --json stdout stays clean
    for phase in ("building the model", "solving", "(MILP)", "greedy baseline"):
        assert phase in out.err
    assert " s" in out.err and "gap" in out.err
