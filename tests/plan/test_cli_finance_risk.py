"""`daulat plan` also writes the finance and, on request, the risk of the plan it solved."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from daulat.cli import app

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "indonesia.yaml"


def test_plan_writes_finance_and_risk_beside_the_tables(tmp_path: Path) -> None:
    out = tmp_path / "idn"
    args = ["plan", str(EXAMPLE), "--out", str(out), "--json", "--no-sovereignty",
            "--baseline", "none", "--risk", "500", "--seed", "7"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    # Finance: every funder of the scenario has its returns, and capital adds up to the
    # plan's funding table.
    funders = {row["funder"] for row in printed["finance"]["funders"]}
    assert funders == {"provider", "gov-idn"}
    capital = sum(row["capital_usd"] for row in printed["finance"]["funders"])
    funding = sum(float(line.split(",")[-1])
                  for line in (out / "funding.csv").read_text().splitlines()[1:])
    assert abs(capital - funding) <= 1e-6 * max(funding, 1.0)
    # Risk: the samples asked for, with ordered quantiles, written beside the tables.
    assert printed["risk"]["samples"] == 500
    cost = next(q for q in printed["risk"]["quantiles"] if q["metric"] == "cost_usd")
    assert cost["p10"] <= cost["p50"] <= cost["p90"]
    for name in ("finance.json", "returns.csv", "risk.json", "tornado.csv"):
        assert (out / name).exists(), name
    # The same seed gives the same figures.
    again = json.loads(CliRunner().invoke(app, args).stdout)
    assert again["risk"]["quantiles"] == printed["risk"]["quantiles"]
