"""Ownership by asset vintage: a funder owns a share of the assets it paid for, in the year
it paid for them — not of the whole site.

Each year's capital at a site buys that year's *vintage* of assets (the accelerators and
shell the plan builds there that year), and a funder owns its share of each vintage it paid
into (``funding.csv``: its USD ÷ all USD paid into that site that year). A site's flows in
a year (opex, revenue) belong to the vintages in service that year, pro rata to their
capital; a vintage is in service from its year for ``life_years`` (the plan's asset life;
0 or None: for ever). So a government that pays for a small late purchase owns that purchase
and earns from it from the year it is built, and its share of the site grows only as older
vintages retire.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["ownership", "ownership_by_vintage", "ownership_by_year"]


def ownership_by_vintage(funding: pd.DataFrame) -> pd.DataFrame:
    """Each funder's share of each vintage (site, year of purchase) it paid into.

    ``funding`` has columns funder, site, year, usd (the plan's ``funding.csv``). Returns
    columns funder, site, vintage, capital_usd, share (0..1; the shares of one vintage sum
    to 1).
    """
    if funding.empty:
        return pd.DataFrame(columns=["funder", "site", "vintage", "capital_usd", "share"])
    paid = funding.groupby(["funder", "site", "year"])["usd"].sum().reset_index()
    paid = paid.rename(columns={"year": "vintage", "usd": "capital_usd"})
    total = paid.groupby(["site", "vintage"])["capital_usd"].transform("sum")
    paid = paid[total > 0].copy()
    paid["share"] = paid["capital_usd"] / total[total > 0]
    return paid.sort_values(["site", "vintage", "funder"]).reset_index(drop=True)


def ownership_by_year(funding: pd.DataFrame, years: list[int],
                      life_years: int | None = None) -> pd.DataFrame:
    """Each funder's share of each site's flows in each of ``years``.

    A funder's share of a site in year t = Σ over the vintages in service in t of (its share
    of the vintage × the vintage's capital) ÷ the capital of all vintages in service in t.
    Returns columns funder, site, year, capital_usd (its capital in service that year),
    share (0..1; a site's shares sum to 1 in every year some vintage is in service; a year
    with none has no rows).
    """
    cols = ["funder", "site", "year", "capital_usd", "share"]
    vint = ownership_by_vintage(funding)
    if vint.empty or not years:
        return pd.DataFrame(columns=cols)
    grid = vint.merge(pd.DataFrame({"year": sorted(years)}), how="cross")
    alive = grid["vintage"] <= grid["year"]
    if life_years:
        alive &= grid["year"] < grid["vintage"] + int(life_years)
    grid = grid[alive]
    out = grid.groupby(["funder", "site", "year"], as_index=False)["capital_usd"].sum()
    site_total = out.groupby(["site", "year"])["capital_usd"].transform("sum")
    out = out[site_total > 0].copy()
    out["share"] = out["capital_usd"] / site_total[site_total > 0]
    return out[cols].sort_values(["site", "year", "funder"]).reset_index(drop=True)


def ownership(funding: pd.DataFrame) -> pd.DataFrame:
    """Each funder's capital in each site over the plan, its share of that capital, and the
    vintages it paid into (columns funder, site, capital_usd, share, vintages — e.g.
    ``"2029"``: a funder that paid only in 2029 owns the 2029 assets, see
    :func:`ownership_by_vintage` and :func:`ownership_by_year` for what it earns from)."""
    cols = ["funder", "site", "capital_usd", "share", "vintages"]
    vint = ownership_by_vintage(funding)
    if vint.empty:
        return pd.DataFrame(columns=cols)
    cap = vint.groupby(["funder", "site"], as_index=False).agg(
        capital_usd=("capital_usd", "sum"),
        vintages=("vintage", lambda v: ";".join(str(int(y)) for y in sorted(set(v)))))
    total = cap.groupby("site")["capital_usd"].transform("sum")
    cap["share"] = cap["capital_usd"] / total
    return cap[cols].sort_values(["site", "funder"]).reset_index(drop=True)
