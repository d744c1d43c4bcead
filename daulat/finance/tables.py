"""Reading a plan result directory (the tables ``daulat plan --out DIR`` writes).

The directory is the contract between the planner and finance/report: long-format CSV
tables (Parquet beside them is accepted too), ``summary.json`` and the exact
``scenario.yaml`` solved. :func:`load_plan` reads and checks them once, so every later
step can trust column names; a missing file or column is a :class:`UserError` that names
the file and what it should hold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import ValidationError

from daulat.errors import UserError
from daulat.scenario.schema import Finance, Uncertainty

__all__ = ["PLAN_TABLES", "OPTIONAL_TABLES", "PlanTables", "load_plan", "read_table"]

#: Required tables and the columns each must have (more columns are allowed).
PLAN_TABLES: dict[str, tuple[str, ...]] = {
    "builds": ("site", "country", "year", "accelerator", "count", "it_mw", "facility_mw",
               "capex_usd"),
    "routing": ("country", "site", "site_country", "workload", "year", "tokens_per_s"),
    "demand": ("country", "workload", "year", "tokens_per_s", "users"),
    "funding": ("funder", "funder_kind", "funder_country", "site", "year", "usd"),
    "costs": ("year", "capex_usd", "opex_usd"),
    "sites": ("site", "name", "country", "lat", "lon", "status", "built_mw", "power_limit_mw"),
    "budgets": ("funder", "year", "budget_usd", "committed_usd"),
}
#: Tables that may be absent (an older plan, or nothing to say); read as empty.
OPTIONAL_TABLES: dict[str, tuple[str, ...]] = {
    "unmet": ("country", "workload", "year", "tokens_per_s"),
    "ownership": ("funder", "site", "share"),
    "energy": ("site", "country", "year", "energy_mwh", "emissions_tco2"),
}


#: Columns that hold numbers (an empty table reads them as text otherwise).
NUMERIC_COLUMNS = frozenset({
    "year", "count", "it_mw", "facility_mw", "capex_usd", "tokens_per_s", "users", "usd",
    "opex_usd", "lat", "lon", "built_mw", "power_limit_mw", "budget_usd", "committed_usd",
    "share", "energy_mwh", "emissions_tco2",
})


@dataclass
class PlanTables:
    """A plan result directory, read: one DataFrame per table plus summary and scenario."""

    path: Path
    builds: pd.DataFrame
    routing: pd.DataFrame
    demand: pd.DataFrame
    funding: pd.DataFrame
    costs: pd.DataFrame
    sites: pd.DataFrame
    budgets: pd.DataFrame
    unmet: pd.DataFrame
    ownership: pd.DataFrame
    energy: pd.DataFrame
    summary: dict[str, Any]
    scenario: dict[str, Any] = field(default_factory=dict)
    finance: Finance = field(default_factory=Finance)
    uncertainty: Uncertainty = field(default_factory=Uncertainty)

    @property
    def years(self) -> list[int]:
        """The plan's years, first to last inclusive (from ``summary.json`` ``horizon``)."""
        y0, y1 = self.horizon
        return list(range(y0, y1 + 1))

    @property
    def horizon(self) -> tuple[int, int]:
        """``(first year, last year)`` of the plan."""
        h = self.summary.get("horizon")
        if isinstance(h, list | tuple) and len(h) == 2:
            return int(h[0]), int(h[1])
        years = pd.concat([self.costs["year"], self.demand["year"]])
        if years.empty:
            raise UserError(
                f"{self.path / 'summary.json'}: no `horizon` [first_year, last_year] and no years"
                " in costs.csv or demand.csv to infer it from"
            )
        return int(years.min()), int(years.max())

    @property
    def currency(self) -> str:
        """The currency every amount is in (``USD``)."""
        return str(self.summary.get("currency", self.finance.currency))

    @property
    def price_year(self) -> int:
        """The price year of every amount."""
        return int(self.summary.get("price_year", self.finance.price_year))


def read_table(plan_dir: Path, name: str, columns: tuple[str, ...], required: bool) -> pd.DataFrame:
    """Read ``name``.csv (or ``name``.parquet) from ``plan_dir`` and check its columns."""
    csv, parquet = plan_dir / f"{name}.csv", plan_dir / f"{name}.parquet"
    if csv.exists():
        df = pd.read_csv(csv)
        where = csv
    elif parquet.exists():
        df = pd.read_parquet(parquet)
        where = parquet
    elif required:
        raise UserError(
            f"{csv}: missing; a plan result directory holds {', '.join(sorted(PLAN_TABLES))}"
            " (.csv or .parquet), summary.json and scenario.yaml — write one with"
            " `daulat plan SCENARIO --out DIR`"
        )
    else:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "year" else "float64"
                                          if c in NUMERIC_COLUMNS else "object")
                             for c in columns})
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise UserError(
            f"{where}: missing column(s) {', '.join(missing)}; it should have"
            f" {', '.join(columns)} (has {', '.join(map(str, df.columns))})"
        )
    for col in NUMERIC_COLUMNS.intersection(df.columns):
        if not pd.api.types.is_numeric_dtype(df[col]):
            values = pd.to_numeric(df[col], errors="coerce")
            bad = df[col][values.isna() & df[col].notna()]
            if not bad.empty:
                raise UserError(f"{where}: column {col} should hold numbers; row"
                                f" {int(bad.index[0]) + 2} has {bad.iloc[0]!r}")
            df[col] = values.astype("float64")
    if "year" in df.columns:
        if df["year"].isna().any():
            row = int(df.index[df["year"].isna()][0]) + 2
            raise UserError(f"{where}: row {row} has no year; every row needs one")
        df["year"] = df["year"].astype("int64")
    return df


def _read_scenario(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise UserError(f"{path}: should be a mapping of scenario fields, got {type(raw).__name__}")
    return raw


def _block(model: type[Finance] | type[Uncertainty], raw: dict[str, Any], key: str, path: Path
           ) -> Any:
    try:
        return model.model_validate(raw.get(key) or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{key}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']} (got {e.get('input')!r})"
            for e in exc.errors()
        )
        raise UserError(f"{path}: {problems}") from exc


def load_plan(plan_dir: str | Path) -> PlanTables:
    """Read and check a plan result directory.

    Raises :class:`UserError` naming the file when a table, a column or the directory is
    missing, or when the scenario's ``finance`` / ``uncertainty`` blocks are invalid.
    """
    path = Path(plan_dir)
    if not path.is_dir():
        raise UserError(
            f"{path}: not a directory; give the plan result directory written by"
            " `daulat plan SCENARIO --out DIR`"
        )
    tables = {n: read_table(path, n, c, True) for n, c in PLAN_TABLES.items()}
    tables |= {n: read_table(path, n, c, False) for n, c in OPTIONAL_TABLES.items()}
    summary_path = path / "summary.json"
    summary: dict[str, Any] = {}
    if summary_path.exists():
        try:
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise UserError(f"{summary_path}: not valid JSON: {exc}") from exc
    scenario_path = path / "scenario.yaml"
    scenario = _read_scenario(scenario_path)
    return PlanTables(
        path=path,
        summary=summary,
        scenario=scenario,
        finance=_block(Finance, scenario, "finance", scenario_path),
        uncertainty=_block(Uncertainty, scenario, "uncertainty", scenario_path),
        **tables,
    )
