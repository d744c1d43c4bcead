"""Invariants of a written plan, checked from its CSV tables alone (not the model code)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from daulat.plan import PlanResult, solve
from daulat.scenario import load_scenario

TOL = 1e-6


@functools.lru_cache(maxsize=4)
def solved(path: Path) -> PlanResult:
    """The scenario at ``path`` planned once per test session (without the sovereignty
    re-solve): tests that only read the result share it."""
    return solve(load_scenario(path), sovereignty=False)


def read(directory: Path) -> dict[str, pd.DataFrame]:
    """The plan's CSV tables by name."""
    return {p.stem: pd.read_csv(p, keep_default_na=False, na_values=[""])
            for p in directory.glob("*.csv")}


def _close(a: float, b: float, rel: float = 1e-6, abs_: float = 1e-3) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def check_all(
    directory: Path,
    *,
    allowed: Callable[[str, str], bool],
    rtt_ms: Callable[[str, str], float] | None = None,
    latency_ms: dict[str, float] | None = None,
) -> dict[str, pd.DataFrame]:
    """Assert every invariant; ``allowed(country, site_country)`` is the residency rule,
    ``rtt_ms(country, site)`` the latency model against ``latency_ms[workload]``."""
    t = read(directory)
    sites = t["sites"].set_index("site")

    # residency: no flow to a forbidden jurisdiction
    for r in t["routing"].itertuples():
        assert allowed(r.country, sites.loc[r.site, "country"]), (
            f"{r.country} routed to {r.site} in {sites.loc[r.site, 'country']}")
        assert r.site_country == sites.loc[r.site, "country"]
    # latency
    if rtt_ms is not None and latency_ms is not None:
        for r in t["routing"].itertuples():
            assert rtt_ms(r.country, r.site) <= latency_ms[r.workload] + 1e-6

    # served + unmet = demand
    served = t["routing"].groupby(["country", "workload", "year"])["tokens_per_s"].sum()
    unmet = t["unmet"].set_index(["country", "workload", "year"])["tokens_per_s"]
    for r in t["demand"].itertuples():
        key = (r.country, r.workload, r.year)
        total = float(served.get(key, 0.0)) + float(unmet.get(key, 0.0))
        assert _close(total, r.tokens_per_s, rel=1e-5, abs_=1e-3), (key, total, r.tokens_per_s)

    # power: facility MW of accelerators bought so far <= shell built + existing; <= limit
    builds = t["builds"]
    acc_rows = builds[builds["accelerator"] != "facility"]
    shell_rows = builds[builds["accelerator"] == "facility"]
    years = sorted(t["demand"]["year"].unique())
    for sid, s in sites.iterrows():
        shell_total = float(shell_rows.loc[shell_rows["site"] == sid, "shell_mw"].sum())
        assert shell_total + s["existing_mw"] <= s["power_limit_mw"] + 1e-6 or (
            s["existing_mw"] > 0 and shell_total <= 1e-9), sid
        for y in years:
            draw = float(acc_rows.loc[(acc_rows["site"] == sid) & (acc_rows["year"] <= y),
                                      "facility_mw"].sum())
            shell = float(shell_rows.loc[(shell_rows["site"] == sid) & (shell_rows["year"] <= y),
                                         "shell_mw"].sum())
            existing = s["existing_mw"] if y >= s["earliest_year"] else 0.0
            assert draw <= shell + existing + 1e-6, (sid, y, draw, shell, existing)
        # nothing built before the site's earliest year
        early = builds[(builds["site"] == sid) & (builds["year"] < s["earliest_year"])]
        assert early.empty, (sid, early)

    # budgets
    b = t["budgets"]
    for funder, rows in b.groupby("funder"):
        rows = rows.sort_values("year")
        spent = rows["committed_usd"].cumsum() if rows["basis"].iloc[0] == "cumulative" \
            else rows["committed_usd"]
        for cap, used in zip(rows["budget_usd"], spent, strict=True):
            if not pd.isna(cap):
                assert used <= cap * (1 + 1e-6) + 1.0, (funder, used, cap)

    # government money only at home
    f = t["funding"]
    gov = f[f["funder_kind"] == "government"]
    for r in gov.itertuples():
        assert r.funder_country == sites.loc[r.site, "country"], (r.funder, r.site)

    # funding = capex per site and year
    capex = builds.groupby(["site", "year"])["capex_usd"].sum()
    funded = f.groupby(["site", "year"])["usd"].sum()
    for key, usd in capex.items():
        assert _close(float(funded.get(key, 0.0)), float(usd), rel=1e-5, abs_=10.0), key

    # ownership sums to 1 per funded site
    own = t["ownership"].groupby("site")["share"].sum()
    for sid, share in own.items():
        assert _close(float(share), 1.0, rel=1e-9, abs_=1e-9), sid
    assert set(own.index) == set(f["site"]), "ownership for every funded site"
    return t
