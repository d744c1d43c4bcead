"""The plan directory: the one contract between the planner and every stage after it.

``daulat plan --out DIR`` writes a directory that finance, risk, the report and the
programme office read *and nothing else* — not the catalog, not the sizing model, not the
raw scenario. As PyPSA declares its component attributes in one table, every table and
column of the directory is declared here once (:data:`TABLES`: name, dtype, unit,
description, whether it is an *input* the planner resolved or an *output* it decided);
the writer (:mod:`daulat.plan.result`), the reader (:func:`read_plan_dir`), the docs
(``docs/plan.md``, rendered by :func:`render_markdown`) and the tests use this declaration.

``summary.json`` is a :class:`PlanSummary` (pydantic) carrying :data:`FORMAT` and
:data:`FORMAT_VERSION`; a directory without them, or with an older version, is refused
with a :class:`~daulat.errors.PlanDirectoryError` that says how to write a current one.

This module sits low in the layers (it imports only the scenario's value types and the
error tree), so finance and the report read a plan without importing the planner.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from daulat.errors import PlanDirectoryError
from daulat.scenario.schema import Finance, Sensitivity, Uncertainty

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "TABLES",
    "Column",
    "PlanDirectory",
    "PlanInputs",
    "PlanStatus",
    "PlanSummary",
    "Table",
    "Totals",
    "UnmetCause",
    "UnmetCauseKind",
    "empty_table",
    "read_plan_dir",
    "read_summary",
    "render_markdown",
    "table",
    "write_plan_dir",
]

#: What ``summary.json`` says it is (a foreign directory says something else or nothing).
FORMAT = "daulat.plan"
#: Version of the layout below. 2: declared tables, resolved input tables, typed summary.
#: Raise it when a table or column changes meaning or goes away; readers refuse older ones.
FORMAT_VERSION = 2

Dtype = Literal["str", "int", "float", "bool"]
Role = Literal["input", "output"]


@dataclass(frozen=True)
class Column:
    """One column of a plan table: name, dtype, unit ('' for none), description."""

    name: str
    dtype: Dtype
    unit: str
    description: str
    nullable: bool = False


@dataclass(frozen=True)
class Table:
    """One table of the plan directory (``<name>.csv`` with a ``<name>.parquet`` twin)."""

    name: str
    role: Role
    description: str
    columns: tuple[Column, ...]
    #: a directory written before the table existed may lack it (read as empty)
    optional: bool = False

    @property
    def column_names(self) -> list[str]:
        """The declared column names, in order."""
        return [c.name for c in self.columns]


def _c(name: str, dtype: Dtype, unit: str, description: str, nullable: bool = False) -> Column:
    return Column(name, dtype, unit, description, nullable)


_SITE = _c("site", "str", "", "Site id (catalog, candidate city or the scenario's inline site).")
_COUNTRY = _c("country", "str", "ISO3", "Country (ISO 3166-1 alpha-3).")
_YEAR = _c("year", "int", "year", "Calendar year.")
_WORKLOAD = _c("workload", "str", "", "Workload id (inference workload or training run).")
_FUNDER = _c("funder", "str", "", "Funder id (scenario funders[].id).")

#: Every table of a plan directory, inputs first. The order is the order of docs/plan.md.
TABLES: tuple[Table, ...] = (
    # ------------------------------------------------------------------ resolved inputs
    Table("inputs_sites", "input",
          "Every site the plan could use, with the prices the planner used for it.", (
              _SITE,
              _c("name", "str", "", "Site name."),
              _COUNTRY,
              _c("status", "str", "", "operational | under_construction | announced | "
                 "candidate | planned."),
              _c("pue", "float", "", "Power usage effectiveness of the site (facility / IT)."),
              _c("power_price_usd_per_mwh", "float", "USD/MWh",
                 "Industrial power price at the site, scenario sensitivity factor applied."),
              _c("power_price_source", "str", "", "Where the power price comes from."),
              _c("grid_gco2_per_kwh", "float", "gCO2/kWh",
                 "Grid carbon intensity of the site's country (empty: unknown).", True),
              _c("shell_usd_per_mw", "float", "USD/MW",
                 "All-in site capex per facility MW the plan builds there: hard shell, power "
                 "and cooling (the site's market figure), soft costs, land and grid "
                 "connection, per MW of IT load ÷ PUE (empty: not given).", True),
              _c("shell_capex_source", "str", "",
                 "Where the site capex comes from, component by component.", True),
          )),
    Table("inputs_countries", "input",
          "The programme's countries: people, position, access weight and residency rule.", (
              _COUNTRY,
              _c("name", "str", "", "Country name (catalog)."),
              _c("income_group", "str", "", "World Bank income group."),
              _c("population", "float", "people", "Population (empty: not given).", True),
              _c("internet_share", "float", "share", "Share of people online (0-1)."),
              _c("lat", "float", "deg", "Latitude of the capital."),
              _c("lon", "float", "deg", "Longitude of the capital."),
              _c("weight", "float", "", "Access weight (max_access objective)."),
              _c("residency", "str", "", "in_country | jurisdictions | any."),
              _c("residency_jurisdictions", "str", "ISO3 list",
                 "Jurisdictions its traffic may be served in, ';'-separated, home first "
                 "('*': any)."),
              _c("residency_basis", "str", "",
                 "law | programme_policy | scenario | config | no_pack."),
              _c("residency_source", "str", "", "The law, pack or scenario field it comes from."),
          )),
    Table("inputs_accelerators", "input",
          "Accelerators the plan could buy, priced as the planner priced them.", (
              _c("accelerator", "str", "", "Accelerator id (catalog)."),
              _c("vendor", "str", "", "Vendor."),
              _c("origin", "str", "ISO3", "Country of origin (export-control rules)."),
              _c("capex_usd", "float", "USD",
                 "Capital cost per accelerator: system price plus its network and storage "
                 "shares, scenario accelerator_price_factor applied."),
              _c("price_source", "str", "", "Where the price comes from."),
              _c("it_kw", "float", "kW", "IT power per accelerator (system share included)."),
              _c("system_gpus", "int", "accelerators", "Accelerators per purchasable system."),
              _c("opex_usd_per_year", "float", "USD/year",
                 "Non-energy opex per accelerator-year (maintenance)."),
              _c("first_year", "int", "year", "First year it can be bought."),
          )),
    Table("inputs_funders", "input", "Who may pay: the scenario's funders.", (
        _FUNDER,
        _c("name", "str", "", "Funder name."),
        _c("kind", "str", "", "provider | government | other."),
        _c("country", "str", "ISO3", "A government's country (empty otherwise).", True),
        _c("budget_basis", "str", "", "per_year | cumulative."),
    )),
    Table("inputs_revenue", "input",
          "Who pays for the assistant in each country and at what price (catalog "
          "revenue.csv resolved per country: subscriptions, a government licence, API and "
          "enterprise use; finance's revenue lines).", (
              _COUNTRY,
              _c("line", "str", "", "The figure: subscription_price_usd_per_month, "
                 "paying_share, public_servant_share, government_seat_usd_per_month, "
                 "api_usd_per_million_output_tokens, api_token_share, already_served_share."),
              _c("payer", "str", "", "Who pays: subscribers, government, businesses and "
                 "developers."),
              _c("value", "float", "", "The value, in `unit`."),
              _c("unit", "str", "", "Its unit."),
              _c("low", "float", "", "Low end of its range."),
              _c("high", "float", "", "High end of its range."),
              _c("source", "str", "", "Published, derived or ASSUMPTION, and the source."),
          ), optional=True),
    Table("inputs_peak_factors", "input",
          "Peak ÷ average token rate per country and inference workload (the planner sizes "
          "for the peak; revenue is earned on the average).", (
              _COUNTRY, _WORKLOAD,
              _c("peak_factor", "float", "", "Peak-hour ÷ average tokens/s."),
              _c("source", "str", "", "Scenario override or the sizing default."),
          )),
    Table("inputs_demand", "input",
          "What the demand rests on, per country, inference workload and year (sizing's "
          "demand model with the scenario's overrides and adoption factor).", (
              _COUNTRY, _WORKLOAD, _YEAR,
              _c("users", "float", "people", "People using the assistant."),
              _c("adoption", "float", "share", "Share of people online who use it."),
              _c("queries_per_day", "float", "queries/day", "Queries a day, all users."),
              _c("output_tokens_per_day", "float", "tokens/day", "Output tokens a day."),
              _c("input_tokens_per_day", "float", "tokens/day",
                 "Input tokens read a day (prefix-cache hits included)."),
              _c("cached_input_share", "float", "share", "Share of input tokens cached."),
              _c("mean_output_tokens_per_s", "float", "tokens/s", "Average output rate."),
              _c("peak_output_tokens_per_s", "float", "tokens/s",
                 "Peak output rate the plan sizes for (= demand.tokens_per_s)."),
              _c("usage_profile", "str", "", "Usage profile (empty: per-query fields).", True),
              _c("model", "str", "", "Model class served."),
          )),
    Table("inputs_demand_ranges", "input",
          "The uncertain figures demand and the fleet rest on, with their catalog ranges, and "
          "how much fleet the same users need at each end (the sizing engine at plan time, "
          "one figure moved at a time): `daulat risk` samples each figure (low to high, "
          "median at base) and turns the capacity multiplier into a shortfall or idle "
          "capacity per country.", (
              _WORKLOAD,
              _c("year", "int", "year", "Year the ranges were computed for (the planner's "
                 "fleet year, the plan's middle year)."),
              _c("factor", "str", "", "Figure id: `<profile>/<segment>/<mode>/<figure>` "
                 "(usage_profiles.csv) or `fleet/<name>` (fleet_factors.csv)."),
              _c("label", "str", "", "The figure in words."),
              _c("low", "float", "", "Low end of its range, in `unit`."),
              _c("base", "float", "", "The value the plan used, in `unit`."),
              _c("high", "float", "", "High end of its range, in `unit`."),
              _c("unit", "str", "", "Its unit."),
              _c("capacity_low", "float", "x",
                 "Accelerators the same users need with the figure at `low` / at `base`."),
              _c("capacity_high", "float", "x",
                 "Accelerators the same users need with the figure at `high` / at `base`."),
              _c("source", "str", "", "Published, derived or ASSUMPTION, and the source."),
              _c("group", "str", "", "The mode whose part of the fleet the figure scales "
                 "(its tokens or steps; empty: the whole fleet). Risk adds the modes' parts "
                 "and multiplies figures within one.", True),
              _c("group_share", "float", "share",
                 "That mode's share of the base fleet (empty: no group).", True),
          ), optional=True),
    # ------------------------------------------------------------------ decisions
    Table("builds", "output",
          "What is bought where and when. Accelerator rows carry accelerators (their IT MW "
          "and facility MW = IT × PUE); rows with accelerator 'facility' carry the facility "
          "shell built (shell_mw), so capex_usd sums to the plan's capital.", (
              _SITE, _COUNTRY, _YEAR,
              _c("accelerator", "str", "", "Accelerator id, or 'facility' for a shell row."),
              _c("count", "float", "accelerators", "Accelerators bought (0 on shell rows)."),
              _c("it_mw", "float", "MW", "IT MW of the accelerators bought."),
              _c("facility_mw", "float", "MW", "Facility MW they draw (IT × PUE)."),
              _c("capex_usd", "float", "USD", "Capital cost of the row (network share incl.)."),
              _c("shell_mw", "float", "MW", "Facility MW of shell built (shell rows)."),
          )),
    Table("installed", "output", "Accelerators in service (within their life).", (
        _SITE, _COUNTRY,
        _c("accelerator", "str", "", "Accelerator id."),
        _YEAR,
        _c("count", "float", "accelerators", "Accelerators in service."),
    )),
    Table("routing", "output", "Where each country's demand is served.", (
        _COUNTRY, _SITE,
        _c("site_country", "str", "ISO3", "Country of the site."),
        _WORKLOAD, _YEAR,
        _c("tokens_per_s", "float", "tokens/s", "Peak output tokens/s served."),
    )),
    Table("training", "output", "Training runs: accelerators used per site and year.", (
        _WORKLOAD,
        _c("country", "str", "ISO3", "A national run's country (empty: programme run).", True),
        _SITE,
        _c("accelerator", "str", "", "Accelerator id."),
        _YEAR,
        _c("accelerators", "float", "accelerators", "Accelerators used for the run."),
        _c("eflop", "float", "EFLOP", "Compute delivered."),
    )),
    Table("demand", "output", "Demand per country, workload and year.", (
        _COUNTRY, _WORKLOAD, _YEAR,
        _c("tokens_per_s", "float", "tokens/s", "Peak output tokens/s demanded."),
        _c("users", "float", "people", "People using the assistant."),
    )),
    Table("unmet", "output", "Demand left unserved.", (
        _COUNTRY, _WORKLOAD, _YEAR,
        _c("tokens_per_s", "float", "tokens/s", "Peak output tokens/s not served."),
    )),
    Table("funding", "output", "Who pays what into which site, each year.", (
        _FUNDER,
        _c("funder_kind", "str", "", "provider | government | other."),
        _c("funder_country", "str", "ISO3", "A government's country.", True),
        _SITE, _YEAR,
        _c("usd", "float", "USD", "Capital paid."),
    )),
    Table("ownership", "output", "Capital share of each funder in each site (sums to 1).", (
        _FUNDER, _SITE,
        _c("share", "float", "share", "Share of the site's capital."),
    )),
    Table("costs", "output", "The programme's cost per year.", (
        _YEAR,
        _c("capex_usd", "float", "USD", "Capital spent."),
        _c("opex_usd", "float", "USD", "Operating cost (energy, maintenance, staff)."),
    )),
    Table("site_costs", "output", "Cost per site and year.", (
        _SITE, _COUNTRY, _YEAR,
        _c("capex_usd", "float", "USD", "Capital spent."),
        _c("opex_usd", "float", "USD", "Operating cost."),
    )),
    Table("energy", "output", "Energy and emissions per site and year.", (
        _SITE, _COUNTRY, _YEAR,
        _c("energy_mwh", "float", "MWh", "Facility energy at the load factor."),
        _c("emissions_tco2", "float", "tCO2", "Emissions at the grid's intensity."),
    )),
    Table("sites", "output", "Every site with what the plan built there (last year).", (
        _SITE,
        _c("name", "str", "", "Site name."),
        _COUNTRY,
        _c("lat", "float", "deg", "Latitude."),
        _c("lon", "float", "deg", "Longitude."),
        _c("status", "str", "", "Catalog status or candidate."),
        _c("built_mw", "float", "MW", "Facility MW built and available, last year."),
        _c("power_limit_mw", "float", "MW", "Facility MW ceiling."),
        _c("existing_mw", "float", "MW", "Facility MW already built for the programme."),
        _c("earliest_year", "int", "year", "First year the site can be used."),
        _c("it_mw", "float", "MW", "IT MW installed, last year."),
    )),
    Table("budgets", "output", "Each funder's budget against what the plan commits.", (
        _FUNDER, _YEAR,
        _c("budget_usd", "float", "USD", "Budget (empty: no limit that year).", True),
        _c("committed_usd", "float", "USD", "Capital the plan commits that year."),
        _c("basis", "str", "", "per_year | cumulative."),
        _c("commitment_usd", "float", "USD",
           "Committed spend, a floor on the capital on the funder's basis (empty: none).",
           True),
    )),
)

_BY_NAME = {t.name: t for t in TABLES}


def table(name: str) -> Table:
    """The declaration of table ``name``."""
    return _BY_NAME[name]


def empty_table(name: str) -> pd.DataFrame:
    """An empty DataFrame with ``name``'s declared columns and dtypes."""
    return _coerce(pd.DataFrame({c: [] for c in table(name).column_names}), table(name),
                   Path(name))


# ---------------------------------------------------------------------- the summary
class PlanStatus(StrEnum):
    """How the solve ended (linopy's Status, in planning words)."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"  # a plan, but the time limit stopped the MIP gap above target
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"  # the time limit came before any plan

    @property
    def solved(self) -> bool:
        """Whether there is a plan to finance and report."""
        return self in (PlanStatus.OPTIMAL, PlanStatus.FEASIBLE)


class UnmetCauseKind(StrEnum):
    """Why demand is unserved (the report renders each in its language)."""

    NOT_SELECTED = "not_selected"  # the portfolio left the country out
    NOT_READY_UNTIL = "not_ready_until"  # its allowed sites open later (ready_year)
    BUDGET = "budget"  # funders' budgets bind
    RESIDENCY = "residency"  # residency leaves no site
    POWER = "power"  # the allowed sites' power ceilings bind
    LATENCY = "latency"  # residency allows sites, the latency target rules them out
    NONE = "none"  # cheaper to leave unserved at the unmet-demand price


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnmetCause(_Model):
    """Unserved demand of one country and workload over a span of years, and why."""

    country: str
    workload: str
    year_from: int
    year_to: int
    unmet_tokens_per_s: float = Field(description="Sum over the years, peak tokens/s.")
    share: float = Field(description="Unserved share of the demand of those years.")
    cause: UnmetCauseKind
    ready_year: int | None = Field(default=None, description="not_ready_until: the year.")
    sites: list[str] = Field(default_factory=list, description="Nearest allowed site ids.")


class Totals(_Model):
    """Plan totals (USD of the price year, MW, MWh, tCO2)."""

    capex_usd: float = 0.0
    opex_usd: float = 0.0
    npv_cost_usd: float = Field(default=0.0, description=(
        "NPV of capex and opex: what the plan costs, without any penalty."))
    site_opening_usd: float = Field(default=0.0, description=(
        "Opening cost of the new sites built on (rules.site_fixed_cost_usd)."))
    unmet_penalty_usd: float = Field(default=0.0, description=(
        "The price the objective puts on unmet demand and undelivered training "
        "(min_cost; 0 for max_access): not money anyone spends."))
    plan_cost_usd: float = Field(default=0.0, description=(
        "The min_cost objective: npv_cost_usd + site_opening_usd + unmet_penalty_usd."))
    facility_mw: float = 0.0
    it_mw: float = 0.0
    shell_mw_built: float = 0.0
    existing_mw_available: float = 0.0
    accelerators: float = 0.0
    energy_mwh: float = 0.0
    emissions_tco2: float = 0.0


class PlanInputs(_Model):
    """The scalar inputs later stages need, resolved by the planner."""

    scenario_name: str = ""
    objective: Literal["min_cost", "max_access"] = "min_cost"
    finance: Finance = Field(default_factory=Finance)
    uncertainty: Uncertainty = Field(default_factory=Uncertainty)
    sensitivity: Sensitivity = Field(default_factory=Sensitivity)
    asset_life_years: int = Field(default=0, description="Depreciation life of systems.")
    asset_life_source: str = ""
    value_of_access_usd_per_person_year: float | None = None
    rules: dict[str, Any] = Field(default_factory=dict, description="The scenario's rules.")


class PlanSummary(_Model):
    """``summary.json``: what the plan decided, in one typed record."""

    format: str = Field(default=FORMAT, description="Always 'daulat.plan'.")
    format_version: int = Field(default=FORMAT_VERSION,
                                description="Layout version; older ones are refused.")
    scenario: str = Field(default="", description="The scenario's name.")
    status: PlanStatus = Field(description="optimal, feasible (time limit, gap above "
                               "target), infeasible or no_solution.")
    objective: Literal["min_cost", "max_access"] = Field(default="min_cost",
                                                         description="The objective.")
    horizon: tuple[int, int] = Field(description="First and last year.")
    currency: str = Field(default="USD", description="Currency of every amount.")
    price_year: int = Field(default=2025, description="Price year of every amount.")
    inputs: PlanInputs = Field(default_factory=PlanInputs, description=(
        "Scalar inputs later stages need: finance, uncertainty, sensitivity, asset life, "
        "rules."))
    objective_value: float | None = Field(default=None, description=(
        "USD (min_cost) or weighted person-years (max_access)."))
    objective_unit: str | None = Field(default=None, description="Unit of objective_value.")
    termination: str | None = Field(default=None, description=(
        "HiGHS's termination condition (linopy TerminationCondition)."))
    mip_gap: float | None = Field(default=None, description=(
        "Relative MIP gap (0: an LP), against the objective without the price of training "
        "no plan can deliver (docs/plan.md, How the MILP is solved fast)."))
    build_seconds: float | None = Field(default=None, description="Seconds to build.")
    solve_seconds: float = Field(default=0.0, description="Seconds HiGHS took.")
    model_size: str | None = Field(default=None, description=(
        "Variables and constraints, LP or MILP."))
    infeasibility: list[str] = Field(default_factory=list, description=(
        "Why there is no plan, in words (infeasible, no_solution)."))
    rounding: dict[str, Any] | None = Field(default=None, description=(
        "How accelerator counts were made whole systems (mode, applied, text)."))
    binding: list[dict[str, Any]] = Field(default_factory=list, description=(
        "Binding constraints with shadow prices (constraint, site, country, year, "
        "shadow_price, text)."))
    totals: Totals | None = Field(default=None, description=(
        "Capex, opex, NPV cost (capex + opex), site opening cost, unmet-demand penalty, "
        "plan cost (their sum: the min_cost objective), MW, accelerators, energy, "
        "emissions."))
    served_share: float | None = Field(default=None, description=(
        "Share of inference demand served over the horizon."))
    unmet_explained: list[str] = Field(default_factory=list, description=(
        "The largest unmet demand in English sentences."))
    unmet_causes: list[UnmetCause] = Field(default_factory=list, description=(
        "Unmet demand per country, workload and span of years, with its cause."))
    people_served: float | None = Field(default=None, description=(
        "People served in the last year."))
    people_served_by_year: dict[str, float] = Field(default_factory=dict, description=(
        "People served each year."))
    selected_countries: list[str] | None = Field(default=None, description=(
        "The countries a portfolio selected."))
    cost_of_sovereignty_usd: float | None = Field(default=None, description=(
        "Plan cost minus the cost with residency relaxed (empty: not priced)."))
    sovereignty: dict[str, Any] | None = Field(default=None, description=(
        "The relaxed re-solve: relaxed_cost_usd (its objective), relaxed_npv_cost_usd "
        "(NPV of capex + opex), relaxed_site_opening_usd, relaxed_unmet_penalty_usd, "
        "relaxed_people_served, text."))
    baseline: dict[str, Any] | None = Field(default=None, description=(
        "The greedy baseline against the plan (see The greedy baseline)."))
    notes: list[str] = Field(default_factory=list, description=(
        "The planner's notes (what throughput was sized for, what cannot serve what)."))

    @property
    def years(self) -> list[int]:
        """The plan's years, first to last inclusive."""
        return list(range(self.horizon[0], self.horizon[1] + 1))

    @property
    def solved(self) -> bool:
        """Whether there is a plan to finance and report."""
        return self.status.solved

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready dict written to summary.json."""
        return self.model_dump(mode="json")


def read_summary(path: Path) -> PlanSummary:
    """Read and check ``summary.json``: a current daulat plan, or :class:`PlanDirectoryError`."""
    write_hint = "write a current one with `daulat plan SCENARIO --out DIR`"
    if not path.exists():
        raise PlanDirectoryError(
            f"{path}: missing — {path.parent} is not a plan directory; {write_hint}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise PlanDirectoryError(f"{path}: not valid JSON ({exc}); {write_hint}") from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise PlanDirectoryError(
            f"{path}: not a daulat plan summary (field `format` should be {FORMAT!r}, got "
            f"{raw.get('format') if isinstance(raw, dict) else type(raw).__name__!r}); "
            f"{write_hint}")
    version = raw.get("format_version")
    if not isinstance(version, int) or version < FORMAT_VERSION:
        raise PlanDirectoryError(
            f"{path}: plan directory format version {version!r} is older than this daulat's "
            f"({FORMAT_VERSION}); plan the scenario again: {write_hint}")
    if version > FORMAT_VERSION:
        raise PlanDirectoryError(
            f"{path}: plan directory format version {version} is newer than this daulat's "
            f"({FORMAT_VERSION}); upgrade daulat to read it")
    try:
        return PlanSummary.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors()[:5])
        raise PlanDirectoryError(f"{path}: {problems}") from exc


# ---------------------------------------------------------------------- reading, writing
@dataclass
class PlanDirectory:
    """A plan directory, read and checked: every declared table and the summary."""

    path: Path
    summary: PlanSummary
    tables: dict[str, pd.DataFrame]

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]


def _coerce(df: pd.DataFrame, spec: Table, where: Path) -> pd.DataFrame:
    """Check ``df`` has ``spec``'s columns and give them their declared dtypes."""
    # a nullable column a directory (or a hand-built table) leaves out is empty
    df = df.assign(**{c.name: None for c in spec.columns
                      if c.nullable and c.name not in df.columns})
    missing = [c for c in spec.column_names if c not in df.columns]
    if missing:
        raise PlanDirectoryError(
            f"{where}: missing column(s) {', '.join(missing)}; it should have "
            f"{', '.join(spec.column_names)} (has {', '.join(map(str, df.columns))}) — see "
            "docs/plan.md")
    out = df.copy()
    for col in spec.columns:
        values = out[col.name]
        if col.dtype in ("int", "float"):
            numbers = pd.to_numeric(values, errors="coerce")
            bad = values[numbers.isna() & values.notna() & (values.astype(str) != "")]
            if not bad.empty:
                raise PlanDirectoryError(
                    f"{where}: column {col.name} should hold numbers ({col.unit or 'no unit'});"
                    f" row {int(bad.index[0]) + 2} has {bad.iloc[0]!r}")
            if numbers.isna().any() and not col.nullable:
                row = int(numbers.index[numbers.isna()][0]) + 2
                raise PlanDirectoryError(f"{where}: row {row} has no {col.name}; every row "
                                         "needs one")
            out[col.name] = numbers.astype("int64" if col.dtype == "int" else "float64")
        elif col.dtype == "bool":
            out[col.name] = values.astype(bool)
        else:
            out[col.name] = values.astype(object).where(values.notna(), None)
            out[col.name] = out[col.name].map(lambda v: v if v is None else str(v))
    return out


def _read_table(path: Path, spec: Table) -> pd.DataFrame:
    csv, parquet = path / f"{spec.name}.csv", path / f"{spec.name}.parquet"
    if csv.exists():
        try:
            df = pd.read_csv(csv, keep_default_na=False, na_values=[""])
        except pd.errors.EmptyDataError:
            df = pd.DataFrame()
        where = csv
    elif parquet.exists():
        df, where = pd.read_parquet(parquet), parquet
    elif spec.optional:
        return empty_table(spec.name)
    else:
        raise PlanDirectoryError(
            f"{csv}: missing; a plan directory (format {FORMAT_VERSION}) holds "
            f"{', '.join(t.name for t in TABLES)} and summary.json — write one with "
            "`daulat plan SCENARIO --out DIR`")
    return _coerce(df, spec, where)


def read_plan_dir(directory: str | Path) -> PlanDirectory:
    """Read and check a plan directory: the summary first (format and version), then every
    declared table. Raises :class:`PlanDirectoryError` naming the file and what is wrong."""
    path = Path(directory)
    if not path.is_dir():
        raise PlanDirectoryError(
            f"{path}: not a directory; give the plan directory written by "
            "`daulat plan SCENARIO --out DIR`")
    summary = read_summary(path / "summary.json")
    return PlanDirectory(path=path, summary=summary,
                         tables={t.name: _read_table(path, t) for t in TABLES})


def write_plan_dir(out: str | Path, summary: PlanSummary, tables: dict[str, pd.DataFrame],
                   extra_files: dict[str, str] | None = None) -> Path:
    """Write ``tables`` (every declared one; CSV and Parquet, declared column order) and
    ``summary.json`` under ``out``. A declared table that is absent is written empty; an
    undeclared table is an error (declare it in :data:`TABLES` first)."""
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    unknown = sorted(set(tables) - set(_BY_NAME))
    if unknown:
        raise ValueError(f"undeclared plan table(s) {', '.join(unknown)}: declare them in "
                         "daulat.plandir.TABLES")
    for spec in TABLES:
        df = tables.get(spec.name)
        df = empty_table(spec.name) if df is None else _coerce(df, spec, path / spec.name)
        df = df[spec.column_names]
        df.to_csv(path / f"{spec.name}.csv", index=False)
        df.to_parquet(path / f"{spec.name}.parquet", index=False)
    (path / "summary.json").write_text(
        json.dumps(summary.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for name, text in (extra_files or {}).items():
        (path / name).write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------- docs
def _cell(text: str) -> str:
    """Text safe in a Markdown table cell."""
    return text.replace("|", "\\|")


def render_markdown() -> str:
    """The declaration as Markdown (the section of docs/plan.md between the markers)."""
    lines = [f"Format `{FORMAT}` version {FORMAT_VERSION} (`summary.json`: `format`, "
             "`format_version`). Every table is written as `<name>.csv` and `<name>.parquet`.",
             ""]
    for spec in TABLES:
        lines += [f"#### `{spec.name}` ({spec.role})", "", spec.description, "",
                  "| column | type | unit | description |", "|---|---|---|---|"]
        for col in spec.columns:
            kind = col.dtype + (" or empty" if col.nullable else "")
            lines.append(f"| `{col.name}` | {kind} | {col.unit} | {_cell(col.description)} |")
        lines.append("")
    lines += ["#### `summary.json`", "", "| field | type | description |", "|---|---|---|"]
    for name, field in PlanSummary.model_fields.items():
        kind = re.sub(r"\b(typing|daulat\.plandir)\.", "", str(field.annotation))
        kind = kind.replace("<class '", "").replace("'>", "").replace("<enum '", "")
        lines.append(f"| `{name}` | {_cell(kind)} | {_cell(field.description or '')} |")
    lines.append("")
    lines += ["Unmet-demand causes (`unmet_causes[].cause`): "
              + ", ".join(f"`{k.value}`" for k in UnmetCauseKind) + ".", ""]
    return "\n".join(lines)
