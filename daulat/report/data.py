"""Everything the report shows, gathered once from a plan result directory."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pycountry
from babel import Locale, UnknownLocaleError

from daulat.finance import compute_finance, load_plan
from daulat.finance.tables import PlanTables

__all__ = ["ReportData", "gather", "country_position", "country_name"]


@dataclass
class ReportData:
    """A plan with its finance and (when ``daulat risk`` was run) its risk tables."""

    tables: PlanTables
    cashflows: pd.DataFrame
    returns: pd.DataFrame
    ramp: pd.DataFrame
    finance: dict[str, Any]
    risk: dict[str, Any] | None
    risk_quantiles: pd.DataFrame | None
    risk_fan: pd.DataFrame | None
    tornado: pd.DataFrame | None
    #: the revenue behind each funder's NPV, line by line (finance ``revenue_lines``)
    revenue_lines: pd.DataFrame | None = None

    @property
    def name(self) -> str:
        """The scenario's name (the directory name when the scenario has none)."""
        return self.tables.name


def _read_optional(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path, keep_default_na=False, na_values=[""]) if path.exists() else None


def gather(plan_dir: str | Path) -> ReportData:
    """Read the plan, compute its finance (nothing written) and read any risk results."""
    tables = load_plan(plan_dir)
    frames, finance = compute_finance(tables)
    risk_path = tables.path / "risk.json"
    risk = json.loads(risk_path.read_text(encoding="utf-8")) if risk_path.exists() else None
    quantiles = _read_optional(tables.path / "risk.csv")
    if quantiles is not None:
        quantiles["funder"] = quantiles["funder"].fillna("")
    tornado = _read_optional(tables.path / "tornado.csv")
    if tornado is not None:
        tornado["funder"] = tornado["funder"].fillna("")
    return ReportData(
        tables=tables,
        cashflows=frames["cashflows"],
        returns=frames["returns"],
        ramp=frames["ramp"],
        finance=finance,
        risk=risk,
        risk_quantiles=quantiles,
        risk_fan=_read_optional(tables.path / "risk_fan.csv"),
        tornado=tornado,
        revenue_lines=frames.get("revenue_lines"),
    )


def country_position(iso3: str, sites: pd.DataFrame,
                     countries: pd.DataFrame | None = None) -> tuple[float, float] | None:
    """(lat, lon) to draw a country at: its capital from the plan's ``inputs_countries``,
    else the mean of its sites."""
    if countries is not None and "country" in countries:
        row = countries[countries["country"] == iso3]
        if not row.empty:
            return float(row["lat"].iloc[0]), float(row["lon"].iloc[0])
    own = sites[sites["country"] == iso3]
    if own.empty:
        return None
    return float(own["lat"].mean()), float(own["lon"].mean())


def country_name(iso3: str, locale: str) -> str:
    """The country's name in ``locale`` (babel's territory names), else the code itself."""
    record = pycountry.countries.get(alpha_3=iso3)
    if record is None:
        return iso3
    try:
        name = Locale.parse(locale).territories.get(record.alpha_2)
    except (UnknownLocaleError, ValueError):  # a locale babel does not know: the code
        return iso3
    return str(name) if name else iso3
