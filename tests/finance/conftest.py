"""Fixtures: a copy of the hand-made Indonesian plan directory, and a tiny plan whose cash
flows can be computed by hand."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "plan_fixture"
SECONDS_PER_YEAR = 365 * 24 * 3600


@pytest.fixture
def plan_dir(tmp_path: Path) -> Path:
    """A writable copy of tests/data/plan_fixture (Indonesia, 3 sites, 2 funders, 2026-2030)."""
    out = tmp_path / "plan"
    shutil.copytree(FIXTURE, out)
    return out


def write_tiny_plan(out: Path) -> Path:
    """One site, two funders paying 60/40 of USD 100M in 2026, opex USD 10M a year,
    revenue USD 50M a year (token price USD 1 per million, peak factor 1), 2026-2028."""
    out.mkdir(parents=True, exist_ok=True)
    years = [2026, 2027, 2028]
    tokens_per_s = 50e6 * 1e6 / SECONDS_PER_YEAR  # USD 50M a year at USD 1 per million
    pd.DataFrame([{"site": "s1", "country": "IDN", "year": 2026, "accelerator": "H200-SXM",
                   "count": 1000, "it_mw": 1.5, "facility_mw": 2.0, "capex_usd": 100e6}]
                 ).to_csv(out / "builds.csv", index=False)
    pd.DataFrame([{"country": "IDN", "site": "s1", "site_country": "IDN", "workload": "chat",
                   "year": y, "tokens_per_s": tokens_per_s} for y in years]
                 ).to_csv(out / "routing.csv", index=False)
    pd.DataFrame([{"country": "IDN", "workload": "chat", "year": y,
                   "tokens_per_s": tokens_per_s, "users": 1e6} for y in years]
                 ).to_csv(out / "demand.csv", index=False)
    pd.DataFrame([
        {"funder": "a", "funder_kind": "provider", "funder_country": "USA", "site": "s1",
         "year": 2026, "usd": 60e6},
        {"funder": "b", "funder_kind": "government", "funder_country": "IDN", "site": "s1",
         "year": 2026, "usd": 40e6},
    ]).to_csv(out / "funding.csv", index=False)
    pd.DataFrame([{"year": y, "capex_usd": 100e6 if y == 2026 else 0.0, "opex_usd": 10e6}
                  for y in years]).to_csv(out / "costs.csv", index=False)
    pd.DataFrame([{"site": "s1", "name": "Site one", "country": "IDN", "lat": -6.2,
                   "lon": 106.8, "status": "candidate", "built_mw": 2.0,
                   "power_limit_mw": 10.0}]).to_csv(out / "sites.csv", index=False)
    pd.DataFrame([{"funder": f, "year": y, "budget_usd": b, "committed_usd": c}
                  for f, b, cs in (("a", 100e6, (60e6, 0.0, 0.0)), ("b", 50e6, (40e6, 0.0, 0.0)))
                  for y, c in zip(years, cs, strict=True)]).to_csv(out / "budgets.csv",
                                                                   index=False)
    (out / "summary.json").write_text('{"status": "optimal", "horizon": [2026, 2028],'
                                      ' "currency": "USD", "price_year": 2025}\n')
    (out / "scenario.yaml").write_text(
        "name: tiny\n"
        "horizon: {start: 2026, end: 2028}\n"
        "countries: [{iso3: IDN}]\n"
        "workloads: [{id: chat, demand: {peak_factor: 1.0}}]\n"
        "funders:\n"
        "  - {id: a, kind: provider, budget_usd: 100.0e6}\n"
        "  - {id: b, kind: government, country: IDN, budget_usd: 50.0e6}\n"
        "finance: {discount_rate: 0.08, token_price_usd_per_million: 1.0}\n")
    return out


@pytest.fixture
def tiny_plan(tmp_path: Path) -> Path:
    """The hand-computable plan of :func:`write_tiny_plan`."""
    return write_tiny_plan(tmp_path / "tiny")


REPO = Path(__file__).resolve().parents[2]


def solve_example(out: Path) -> Path:
    """Solve examples/indonesia.yaml with the real planner and write its result to ``out``."""
    from daulat.plan import solve
    from daulat.scenario import load_scenario

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
    from daulat.finance import load_plan
    from daulat.finance.risk import resolve_sweep

    return resolve_sweep(load_plan(real_plan_master), 2, seed=3, engine="local", workers=2)


@pytest.fixture
def real_plan(real_plan_master: Path, tmp_path: Path) -> Path:
    """A writable copy of the real plan result directory."""
    out = tmp_path / "real"
    shutil.copytree(real_plan_master, out)
    return out
