"""The scenario file (``scenario.yaml``) as pydantic models.

A scenario says *what a programme wants*: the planning horizon, the countries and their
demand, the sites that may be built on, the accelerators allowed, who funds what, the
rules (residency, supply-chain origin, co-funding, portfolio size) and the objective.
Everything the catalog knows (populations, site limits, prices) is a default the file
can override. Units are in the field names (``_usd``, ``_mw``, ``_ms``); money is in the
scenario's currency at its price year.

Every model forbids unknown fields, so a typo is an error that names the valid fields.
The full reference, field by field, is ``docs/scenario.md``; ``daulat schema`` prints the
JSON Schema generated from these classes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from daulat.iso3 import check_iso3

__all__ = [
    "AccessWeights",
    "CountrySpec",
    "Finance",
    "FunderSpec",
    "Horizon",
    "InlineSite",
    "Objective",
    "OriginRule",
    "Rules",
    "Scenario",
    "Sensitivity",
    "SitesSpec",
    "TrainingSpec",
    "Triangular",
    "Uncertainty",
    "WorkloadSpec",
    "ResidencyRule",
]

Residency = Literal["in_country", "any"]
#: A residency rule: ``in_country``, ``any``, or a list of permitted ISO 3166 alpha-3 codes.
ResidencyRule = Residency | list[str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=False)


def _iso3(value: str) -> str:
    """An ISO 3166-1 alpha-3 code that exists (the one ISO3 check, :mod:`daulat.iso3`;
    its error suggests close codes)."""
    return check_iso3(value)


class Horizon(_Strict):
    """The planning years, inclusive: ``start`` .. ``end``."""

    start: int = Field(ge=2020, le=2100, description="First planning year.")
    end: int = Field(ge=2020, le=2100, description="Last planning year (inclusive).")

    @model_validator(mode="after")
    def check_order(self) -> Horizon:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) should be >= start ({self.start})")
        if self.end - self.start > 30:
            raise ValueError("a horizon longer than 30 years is not supported")
        return self

    @property
    def years(self) -> list[int]:
        """The planning years as a list."""
        return list(range(self.start, self.end + 1))


class TrainingSpec(_Strict):
    """A national-model training run that must finish by ``deadline_year`` (inclusive)."""

    id: str = Field(default="national-model", description="Workload id of the training run.")
    params_b: float = Field(gt=0, description="Total parameters, billions.")
    active_params_b: float | None = Field(
        default=None, gt=0, description="Active parameters per token (MoE), billions."
    )
    tokens: float = Field(gt=0, description="Training tokens (e.g. 2.0e12).")
    deadline_year: int = Field(ge=2020, le=2100, description="Last year the run may use.")
    precision: Literal["bf16", "fp8", "fp4"] = Field(
        default="bf16", description="Training precision (dense TFLOPS column used)."
    )
    mfu: float | None = Field(
        default=None, gt=0, le=1, description="Model FLOPs utilisation; catalog default if unset."
    )


class ProgrammeTrainingSpec(_Strict):
    """A programme-level training run (e.g. a frontier model) on chosen sites, any country.

    Its compute is ``flop`` if given, else the Epoch AI frontier trend for
    ``frontier_year`` (the planner sizes it with
    ``daulat.sizing.demand.frontier_training_flop``: the schema holds no physics).
    """

    id: str = Field(default="frontier", description="Workload id of the run.")
    flop: float | None = Field(default=None, gt=0, description="Training compute, FLOP.")
    frontier_year: int | None = Field(
        default=None, ge=2020, le=2100,
        description="Size the run as the frontier run of this year (Epoch AI trend: ~5e26 "
        "FLOP in 2025, x4.5 a year) when flop is unset.",
    )
    start_year: int | None = Field(
        default=None, ge=2020, le=2100, description="First year the run may use (default: any)."
    )
    deadline_year: int = Field(ge=2020, le=2100, description="Last year the run may use.")
    sites: list[str] = Field(
        default_factory=list,
        description="Site ids the run may use (one campus or a few linked ones); empty: any "
        "site of the plan.",
    )
    precision: Literal["bf16", "fp8", "fp4"] = Field(
        default="bf16", description="Training precision (dense TFLOPS column used)."
    )
    mfu: float | None = Field(
        default=None, gt=0, le=1, description="Model FLOPs utilisation; catalog default if unset."
    )
    interconnect_km: float = Field(
        default=0.0, ge=0,
        description="The run uses ONE campus: the site it is placed at plus any of its `sites` "
        "within this great-circle distance (a stated interconnect between linked campuses); "
        "0: a single site. A frontier run is never spread over continents.",
    )

    @model_validator(mode="after")
    def check_size(self) -> ProgrammeTrainingSpec:
        if self.flop is None and self.frontier_year is None:
            raise ValueError("give flop or frontier_year (the Epoch AI frontier trend)")
        if self.start_year is not None and self.start_year > self.deadline_year:
            raise ValueError(f"start_year {self.start_year} is after deadline_year "
                             f"{self.deadline_year}")
        return self


class CountrySpec(_Strict):
    """A country in the programme, with optional overrides of its demand assumptions."""

    iso3: str = Field(description="ISO 3166-1 alpha-3 code, e.g. IDN.")
    demand: dict[str, Any] = Field(
        default_factory=dict,
        description="Overrides of the sizing demand assumptions (daulat.sizing.DemandAssumptions"
        " fields, e.g. queries_per_user_per_day) for every inference workload of this country.",
    )
    training: TrainingSpec | None = Field(
        default=None, description="A national-model training run for this country."
    )
    candidate_sites: int | None = Field(
        default=None, ge=0, le=20, description="Candidate sites generated in this country."
    )
    weight: float | None = Field(
        default=None, ge=0, description="max_access weight overriding the default formula."
    )
    power_price_usd_per_mwh: float | None = Field(
        default=None, gt=0, description="Override of the catalog's industrial power price."
    )

    @field_validator("iso3")
    @classmethod
    def normalise_iso3(cls, value: str) -> str:
        return _iso3(value)


class WorkloadSpec(_Strict):
    """An inference workload served in every country (a localised assistant on a model class)."""

    id: str = Field(default="assistant", description="Workload id used in the result tables.")
    model: str = Field(default="assistant-medium", description="Model class id (catalog).")
    latency_ms: float = Field(
        default=250.0, gt=0, description="Round-trip network latency target, milliseconds."
    )
    precision: Literal["bf16", "fp8", "fp4"] | None = Field(
        default=None, description="Serving precision; the sizing default if unset."
    )
    demand: dict[str, Any] = Field(
        default_factory=dict,
        description="Demand-assumption overrides for this workload (all countries): "
        "profile, queries_per_user_day, input/output_tokens_per_query, scenario, ... — the "
        "request shape they give (tokens per query) is also the shape the throughput is "
        "sized for.",
    )
    scenario: Literal["offline", "server", "interactive"] | None = Field(
        default=None,
        description="Serving latency scenario the throughput is sized for (MLPerf "
        "server/interactive TTFT/TPOT limits); the demand assumptions' scenario if unset.",
    )
    ttft_s: float | None = Field(
        default=None, gt=0, description="Time-to-first-token target, seconds (overrides the "
        "scenario's).",
    )
    tpot_s: float | None = Field(
        default=None, gt=0, description="Time-per-output-token target, seconds (overrides the "
        "scenario's).",
    )


class InlineSite(_Strict):
    """A site given in the scenario itself rather than taken from the catalog."""

    id: str = Field(description="Unique slug.")
    name: str
    country: str = Field(description="ISO 3166-1 alpha-3 code of the site's country.")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    power_mw: float | None = Field(default=None, gt=0, description="Facility MW ceiling.")
    earliest_year: int = Field(default=2026, ge=2020, le=2100)
    status: Literal["operational", "under_construction", "announced", "candidate"] = "candidate"
    programme_share: float = Field(default=1.0, ge=0, le=1)

    @field_validator("country")
    @classmethod
    def normalise_country(cls, value: str) -> str:
        return _iso3(value)


class SitesSpec(_Strict):
    """Which sites the plan may use."""

    catalog: Literal["all", "none"] | list[str] = Field(
        default="all",
        description="'all': every catalog site in the scenario's countries; 'none'; or a list "
        "of catalog site ids (any country).",
    )
    candidates_per_country: int = Field(
        default=3, ge=0, le=20,
        description="Generated candidate sites per country (largest cities).",
    )
    inline: list[InlineSite] = Field(default_factory=list, description="Sites defined here.")
    include: list[str] = Field(
        default_factory=list,
        description="Catalog site ids added on top of 'catalog' (any country), e.g. the US "
        "Stargate sites for a programme's frontier training.",
    )
    exclude: list[str] = Field(default_factory=list, description="Site ids to leave out.")
    power_mw: dict[str, float] = Field(
        default_factory=dict, description="Facility MW ceiling per site id, overriding the catalog."
    )
    default_power_mw: float | None = Field(
        default=None,
        gt=0,
        description="Facility MW ceiling for a site whose catalog entry has none; the "
        "catalog's candidate_power_mw if unset.",
    )
    paid: list[str] = Field(
        default_factory=list,
        description="Site ids built and paid outside the plan: their MW is available on the "
        "published schedule at no capital cost. Any other announced site's shell, power and "
        "cooling is paid by the plan (catalog shell_capex_usd_per_it_mw), except what was in "
        "service before the plan's first year.",
    )


class FunderSpec(_Strict):
    """A funder: the provider, a government (funds only its own country's sites), or other."""

    id: str = Field(description="Funder id used in the result tables.")
    kind: Literal["provider", "government", "other"]
    name: str | None = None
    country: str | None = Field(
        default=None, description="ISO3 of a government funder (required for kind government)."
    )
    budget_usd: float | dict[int, float] = Field(
        description="Capital budget: one amount for every year, or {year: amount}."
    )
    budget_basis: Literal["per_year", "cumulative"] = Field(
        default="per_year",
        description="per_year: each year's amount caps that year's spending; cumulative: "
        "each amount caps total spending up to and including that year.",
    )
    committed_usd: dict[int, float] = Field(
        default_factory=dict,
        description="Spend the funder has committed, {year: amount} on the same basis as "
        "budget_basis (\"$100B at once\": {2026: 100.0e9}): a floor on its capital that year "
        "(per_year) or up to that year (cumulative); the plan says when it cannot place it.",
    )

    @field_validator("country")
    @classmethod
    def normalise(cls, value: str | None) -> str | None:
        return None if value is None else _iso3(value)

    @field_validator("budget_usd", "committed_usd")
    @classmethod
    def check_nonnegative(cls, value: float | dict[int, float]) -> float | dict[int, float]:
        amounts = value.values() if isinstance(value, dict) else [value]
        if any(a < 0 for a in amounts):
            raise ValueError("budgets and commitments should be >= 0 USD")
        return value

    @model_validator(mode="after")
    def check_government_country(self) -> FunderSpec:
        if self.kind == "government" and self.country is None:
            raise ValueError("a government funder needs `country` (ISO3 of its country)")
        for year, amount in self.committed_usd.items():
            budget = self.budget_for(year)
            if budget is not None and amount > budget:
                raise ValueError(f"committed_usd {year}: {amount:,.0f} is more than the "
                                 f"budget that year ({budget:,.0f})")
        return self

    def commitment_for(self, year: int) -> float | None:
        """The committed spend for ``year`` (None: no commitment that year)."""
        return self.committed_usd.get(year)

    def budget_for(self, year: int) -> float | None:
        """The budget figure for ``year`` (None: no figure given for that year)."""
        if isinstance(self.budget_usd, dict):
            return self.budget_usd.get(year)
        return self.budget_usd


class OriginRule(_Strict):
    """Limit accelerators of one vendor origin in a country's sites (``max_share`` 0 = exclude)."""

    country: str = Field(description="ISO3 of the country whose sites it binds, or '*' for all.")
    origin: str = Field(description="ISO3 of the vendor's country, e.g. USA or CHN.")
    max_share: float = Field(
        default=0.0, ge=0, le=1, description="Largest share of installed accelerators; 0 excludes."
    )

    @field_validator("country", "origin")
    @classmethod
    def normalise(cls, value: str) -> str:
        return "*" if value.strip() == "*" else _iso3(value)


class Rules(_Strict):
    """Rules the plan must obey."""

    residency: dict[str, ResidencyRule] = Field(
        default_factory=dict,
        description="Per country ISO3: in_country | any | [ISO3, ...]; the default comes from the "
        "country's policy pack.",
    )
    default_residency: ResidencyRule | None = Field(
        default=None,
        description="Residency for countries with neither an entry here nor a policy pack "
        "(default: in_country).",
    )
    origin: list[OriginRule] = Field(default_factory=list)
    min_government_share: float = Field(
        default=0.0, ge=0, le=1,
        description="Least share of each site's capital paid by its country's government "
        "(sites in countries with a government funder).",
    )
    max_provider_share: float = Field(
        default=1.0, ge=0, le=1, description="Largest share of each site's capital from providers."
    )
    portfolio_max_countries: int | None = Field(
        default=None, ge=1, description="Choose at most K countries to serve and build in."
    )
    min_served_share: float = Field(
        default=0.0, ge=0, le=1,
        description="Least share of each country's inference demand that must be served each "
        "year (a hard rule: the plan is infeasible otherwise).",
    )
    site_fixed_cost_usd: float = Field(
        default=0.0, ge=0, description="Fixed cost of opening a new site (adds a binary per site)."
    )
    site_min_mw: float = Field(
        default=0.0, ge=0, description="Least facility MW of a new site once opened."
    )
    whole_systems: Literal["auto", "integer", "round", "off"] = Field(
        default="auto",
        description="Buy accelerators in whole systems (the catalog's system_gpus: an 8-GPU "
        "server, a 72-GPU rack). 'integer': integer systems in the model (a MILP); 'round': "
        "solve the LP, then round each purchase up to whole systems and re-solve with them "
        "fixed; 'auto': integer while the model has at most "
        "whole_systems_integer_max purchase variables, else round; 'off': fractional counts.",
    )
    whole_systems_integer_max: int = Field(
        default=6000, ge=0,
        description="'auto' keeps integer systems up to this many purchase variables "
        "(site x accelerator x year); above it, it rounds after the LP.",
    )

    @field_validator("residency")
    @classmethod
    def normalise_residency(cls, value: dict[str, ResidencyRule]) -> dict[str, ResidencyRule]:
        out: dict[str, ResidencyRule] = {}
        for key, rule in value.items():
            out[_iso3(key)] = [_iso3(r) for r in rule] if isinstance(rule, list) else rule
        return out


class AccessWeights(_Strict):
    """Default ``max_access`` weights: income-group weight × (1 + connectivity × offline share)."""

    income: dict[str, float] = Field(
        default_factory=lambda: {"LIC": 3.0, "LMC": 2.0, "UMC": 1.25, "HIC": 1.0},
        description="Weight per World Bank income group.",
    )
    connectivity: float = Field(
        default=1.0, ge=0, description="Extra weight per unit of the population offline."
    )


class Objective(_Strict):
    """What the plan optimises."""

    kind: Literal["min_cost", "max_access"] = "min_cost"
    unmet_penalty_usd_per_million_tokens: float = Field(
        default=20.0, ge=0, description="Price of demand left unserved (min_cost), USD/M tokens."
    )
    unmet_training_penalty_usd_per_pflop: float = Field(
        default=1.0, ge=0, description="Price of training compute not delivered, USD per PFLOP."
    )
    value_of_access_usd_per_person_year: float = Field(
        default=1000.0, gt=0,
        description="max_access: how many USD one weighted person-year of access is worth "
        "against cost (keeps the plan from spending money that serves nobody).",
    )
    weights: AccessWeights = Field(default_factory=AccessWeights)


class Finance(_Strict):
    """Money conventions."""

    discount_rate: float = Field(default=0.08, ge=0, le=1)
    token_price_usd_per_million: float | None = Field(default=None, ge=0)
    currency: Literal["USD"] = "USD"
    price_year: int = Field(default=2025, ge=2000, le=2100)


class Triangular(_Strict):
    """A triangular distribution of a multiplier (or a number of years)."""

    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def check_order(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"need low <= mode <= high, got {self.low}, {self.mode}, {self.high}")
        return self


class Uncertainty(_Strict):
    """Ranges for risk analysis (daulat.finance), as triangular multipliers."""

    accelerator_price: Triangular = Field(
        default_factory=lambda: Triangular(low=0.8, mode=1.0, high=1.3)
    )
    adoption: Triangular = Field(default_factory=lambda: Triangular(low=0.6, mode=1.0, high=1.3))
    power_price: Triangular = Field(default_factory=lambda: Triangular(low=0.8, mode=1.0, high=1.4))
    delay_years: Triangular = Field(default_factory=lambda: Triangular(low=0, mode=0, high=2))


class Sensitivity(_Strict):
    """Knobs the planner honours (risk sweeps set them with ``model_copy``)."""

    accelerator_price_factor: float = Field(default=1.0, gt=0)
    power_price_factor: float = Field(default=1.0, gt=0)
    adoption_factor: float = Field(default=1.0, ge=0)
    delay_years: int = Field(default=0, ge=0, le=10)


class Scenario(_Strict):
    """A whole scenario: what to plan, under which rules, to which objective."""

    name: str = Field(description="Short name used in reports.")
    description: str = ""
    horizon: Horizon
    countries: list[CountrySpec] | Literal["all"] = Field(
        description="The countries in the programme, or 'all' (every country in the catalog)."
    )
    workloads: list[WorkloadSpec] = Field(
        default_factory=lambda: [WorkloadSpec()],
        description="Inference workloads served in every country.",
    )
    sites: SitesSpec = Field(default_factory=SitesSpec)
    accelerators: Literal["all"] | list[str] = Field(
        default="all", description="Accelerator ids the plan may buy."
    )
    funders: list[FunderSpec] = Field(min_length=1)
    rules: Rules = Field(default_factory=Rules)
    training: list[ProgrammeTrainingSpec] = Field(
        default_factory=list,
        description="Programme-level training runs (frontier models) on chosen sites.",
    )
    objective: Objective = Field(default_factory=Objective)
    serving_efficiency: float | None = Field(
        default=None, gt=0, le=1,
        description="Stock serving stack vs vendor-tuned MLPerf throughput (0.65-0.9); "
        "catalog constant stock_stack_efficiency if unset.",
    )
    pue: float | None = Field(
        default=None, ge=1, le=3, description="PUE of new builds; catalog default if unset."
    )
    finance: Finance = Field(default_factory=Finance)
    uncertainty: Uncertainty = Field(default_factory=Uncertainty)
    sensitivity: Sensitivity = Field(default_factory=Sensitivity)

    @model_validator(mode="after")
    def check_unique_ids(self) -> Scenario:
        for label, ids in (
            ("workloads", [w.id for w in self.workloads]),
            ("funders", [f.id for f in self.funders]),
            ("countries", [c.iso3 for c in self.countries] if isinstance(self.countries, list)
             else []),
        ):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"{label}: duplicate ids {dupes}; each must be unique")
        return self

    @property
    def years(self) -> list[int]:
        """The planning years."""
        return self.horizon.years
