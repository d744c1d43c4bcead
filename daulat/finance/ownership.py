"""Ownership of each site, pro rata to the capital each funder contributed."""

from __future__ import annotations

import pandas as pd

__all__ = ["ownership", "ownership_by_year"]


def ownership_by_year(funding: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Each funder's share of each site at the end of each year, from capital paid so far.

    ``funding`` has columns funder, site, year, usd (the plan's ``funding.csv``). Returns
    columns funder, site, year, capital_usd (cumulative), share (0..1; the shares of a site
    sum to 1 from the year its first capital arrives; before that the site has no rows).
    """
    if funding.empty or not years:
        return pd.DataFrame(columns=["funder", "site", "year", "capital_usd", "share"])
    paid = funding.groupby(["funder", "site", "year"])["usd"].sum().reset_index()
    pairs = paid[["funder", "site"]].drop_duplicates()
    grid = pairs.merge(pd.DataFrame({"year": years}), how="cross")
    grid = grid.merge(paid, on=["funder", "site", "year"], how="left").fillna({"usd": 0.0})
    grid = grid.sort_values(["funder", "site", "year"])
    grid["capital_usd"] = grid.groupby(["funder", "site"])["usd"].cumsum()
    site_total = grid.groupby(["site", "year"])["capital_usd"].transform("sum")
    grid = grid[site_total > 0].copy()
    grid["share"] = grid["capital_usd"] / site_total[site_total > 0]
    return grid[["funder", "site", "year", "capital_usd", "share"]].reset_index(drop=True)


def ownership(funding: pd.DataFrame) -> pd.DataFrame:
    """Final ownership: each funder's share of each site's total capital (columns funder,
    site, capital_usd, share; the shares of each site sum to 1)."""
    if funding.empty:
        return pd.DataFrame(columns=["funder", "site", "capital_usd", "share"])
    cap = funding.groupby(["funder", "site"])["usd"].sum().reset_index()
    cap = cap.rename(columns={"usd": "capital_usd"})
    total = cap.groupby("site")["capital_usd"].transform("sum")
    cap = cap[total > 0].copy()
    cap["share"] = cap["capital_usd"] / total[total > 0]
    return cap.sort_values(["site", "funder"]).reset_index(drop=True)
