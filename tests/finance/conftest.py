"""Fixtures: a copy of the hand-made Indonesian plan directory, and a tiny plan whose cash
flows can be computed by hand."""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from daulat.finance import load_plan
from daulat.pipeline import resolve_sweep
from daulat.plan import solve
from daulat.plandir import PlanInputs, PlanStatus, PlanSummary, write_plan_dir
from daulat.scenario import load_scenario
from daulat.scenario.schema import Finance

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "plan_fixture"
SECONDS_PER_YEAR = 365 * 24 * 3600


@pytest.fixture
def plan_dir(tmp_path: Path) -> Path:
    """A writable copy of tests/data/plan_fixture (Indonesia, 3 sites, 2 funders, 2026-2030)."""
    out = tmp_path / "plan"
    shutil.copytree(FIXTURE, out)
    return out


def write_tiny_plan(out: Path, token_price: float | None = 1.0) -> Path:
    """One site, two funders paying 60/40 of USD 100M in 2026, opex USD 10M a year,
    revenue USD 50M a year (token price USD 1 per million, peak factor 1), 2026-2028.
    Written as a declared plan directory (daulat.plandir)."""
    years = [2026, 2027, 2028]
    tokens_per_s = 50e6 * 1e6 / SECONDS_PER_YEAR  # USD 50M a year at USD 1 per million
    tables = {
        "builds": pd.DataFrame([{"site": "s1", "country": "IDN", "year": 2026,
                                 "accelerator": "H200-SXM", "count": 1000, "it_mw": 1.5,
                                 "facility_mw": 2.0, "capex_usd": 100e6, "shell_mw": 0.0}]),
        "routing": pd.DataFrame([{"country": "IDN", "site": "s1", "site_country": "IDN",
                                  "workload": "chat", "year": y, "tokens_per_s": tokens_per_s}
                                 for y in years]),
        "demand": pd.DataFrame([{"country": "IDN", "workload": "chat", "year": y,
                                 "tokens_per_s": tokens_per_s, "users": 1e6} for y in years]),
        "funding": pd.DataFrame([
            {"funder": "a", "funder_kind": "provider", "funder_country": None, "site": "s1",
             "year": 2026, "usd": 60e6},
            {"funder": "b", "funder_kind": "government", "funder_country": "IDN",
             "site": "s1", "year": 2026, "usd": 40e6}]),
        "costs": pd.DataFrame([{"year": y, "capex_usd": 100e6 if y == 2026 else 0.0,
                                "opex_usd": 10e6} for y in years]),
        "sites": pd.DataFrame([{"site": "s1", "name": "Site one", "country": "IDN",
                                "lat": -6.2, "lon": 106.8, "status": "candidate",
                                "built_mw": 2.0, "power_limit_mw": 10.0, "existing_mw": 0.0,
                                "earliest_year": 2026, "it_mw": 1.5}]),
        "budgets": pd.DataFrame([{"funder": f, "year": y, "budget_usd": b,
                                  "committed_usd": c, "basis": "per_year"}
                                 for f, b, cs in (("a", 100e6, (60e6, 0.0, 0.0)),
                                                  ("b", 50e6, (40e6, 0.0, 0.0)))
                                 for y, c in zip(years, cs, strict=True)]),
        "inputs_sites": pd.DataFrame([{"site": "s1", "name": "Site one", "country": "IDN",
                                       "status": "candidate", "pue": 1.33,
                                       "power_price_usd_per_mwh": 80.0,
                                       "power_price_source": "test value",
                                       "grid_gco2_per_kwh": 600.0}]),
        "inputs_funders": pd.DataFrame([
            {"funder": "a", "name": "a", "kind": "provider", "country": None,
             "budget_basis": "per_year"},
            {"funder": "b", "name": "b", "kind": "government", "country": "IDN",
             "budget_basis": "per_year"}]),
        "inputs_peak_factors": pd.DataFrame([{"country": "IDN", "workload": "chat",
                                              "peak_factor": 1.0, "source": "test value"}]),
    }
    summary = PlanSummary(
        scenario="tiny", status=PlanStatus.OPTIMAL, horizon=(2026, 2028),
        inputs=PlanInputs(scenario_name="tiny", finance=Finance(
            discount_rate=0.08, token_price_usd_per_million=token_price)))
    return write_plan_dir(out, summary, tables)


def edit_summary(plan_dir: Path, **inputs: object) -> None:
    """Rewrite summary.json's ``inputs`` block fields (e.g. finance={...}) in ``plan_dir``."""
    path = plan_dir / "summary.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["inputs"].update(inputs)
    path.write_text(json.dumps(raw), encoding="utf-8")


@pytest.fixture
def tiny_plan(tmp_path: Path) -> Path:
    """The hand-computable plan of :func:`write_tiny_plan`."""
    return write_tiny_plan(tmp_path / "tiny")


REPO = Path(__file__).resolve().parents[2]


def solve_example(out: Path) -> Path:
    """Solve examples/indonesia.yaml with the real planner and write its result to ``out``."""
    result = solve(load_scenario(REPO / "examples" / "indonesia.yaml"), sovereignty=False)
    result.write(out)
    return out


@functools.lru_cache(maxsize=1)
def solved_example() -> Path:
    """examples/indonesia.yaml solved once per test session (finance and report tests share
    it); tests copy it before writing into it."""
    root = Path(tempfile.mkdtemp(prefix="daulat-fin-real-"))
    atexit.register(shutil.rmtree, root, True)
    return solve_example(root / "plan")


@pytest.fixture(scope="session")
def real_plan_master() -> Path:
    """`daulat plan examples/indonesia.yaml` output, solved once per test session."""
    return solved_example()


@pytest.fixture(scope="session")
def local_sweep(real_plan_master: Path) -> pd.DataFrame:
    """Two re-solved plans (seed 3) in a local process pool of two workers."""
    return resolve_sweep(load_plan(real_plan_master), 2, seed=3, engine="local", workers=2)


@pytest.fixture
def real_plan(real_plan_master: Path, tmp_path: Path) -> Path:
    """A writable copy of the real plan result directory."""
    out = tmp_path / "real"
    shutil.copytree(real_plan_master, out)
    return out
