"""Demand of a localised assistant and the country sizing built on it (DESIGN.md §3).

``users = population × internet_share × adoption(year)``;
``peak output tokens/s = users × queries/user/day × output tokens/query / 86 400 × peak
factor``. Prefill is carried by the serving model through input tokens/query. Every default
below is documented in docs/sizing.md: cited where a source exists, else labelled an
assumption; all are overridable through :class:`DemandAssumptions`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from daulat.catalog.accelerators import get_accelerator
from daulat.catalog.constants import constant
from daulat.catalog.models import get_model
from daulat.errors import UserError

__all__ = [
    "DemandAssumptions",
    "Demand",
    "CountrySizing",
    "adoption",
    "demand",
    "country_assistant",
]


class DemandAssumptions(BaseModel):
    """Assumptions of a country's assistant demand (all overridable).

    Adoption is a logistic curve of the share of internet users who use the assistant:
    ``adoption_cap / (1 + exp(-adoption_rate · (year - adoption_midpoint_year)))``.
    """

    model_config = ConfigDict(extra="forbid")

    adoption_cap: float = Field(
        default=0.7, gt=0, le=1, description="ASSUMPTION: long-run share of internet users"
    )
    adoption_midpoint_year: float = Field(
        default=2028.0, description="ASSUMPTION: year adoption reaches half its cap"
    )
    adoption_rate: float = Field(
        default=0.6,
        gt=0,
        description=(
            "ASSUMPTION: logistic steepness per year (2025 ≈ 10 %, anchored on ~10 % of adults "
            "using ChatGPT weekly in 2025, OpenAI usage study via paragraph.com)"
        ),
    )
    queries_per_user_day: float = Field(
        default=3.5,
        gt=0,
        description="DERIVED: ChatGPT 2.5B prompts/day (Axios, 22 Jul 2025) / ~700M weekly users",
    )
    input_tokens_per_query: int = Field(
        default_factory=lambda: int(constant("default_input_tokens")),
        ge=0,
        description="ASSUMPTION: prompt incl. system prompt, policy pack and history",
    )
    output_tokens_per_query: int = Field(
        default_factory=lambda: int(constant("default_output_tokens")),
        ge=1,
        description="ASSUMPTION: answer length (MLPerf chat sets average ~150-300)",
    )
    peak_factor: float = Field(
        default=1.75,
        ge=1,
        description=(
            "../shared/data/reference/infra_constants.md: 1.5-2x headroom over mean load "
            "for diurnal peaks (DERIVED mid)"
        ),
    )
    model: str = Field(
        default="assistant-medium", description="model class id serving the assistant"
    )
    accelerator: str = Field(default="GB200", description="accelerator id")
    precision: str | None = Field(
        default=None, description="serving precision; default the narrowest native"
    )
    scenario: str = Field(
        default="server", description="latency scenario: offline, server or interactive"
    )
    serving_efficiency: float = Field(
        default_factory=lambda: constant("stock_stack_efficiency"),
        gt=0,
        le=1,
        description="calibration.csv: stock stack vs MLPerf closed (0.73)",
    )
    pue: float | None = Field(default=None, ge=1, description="default by cooling (constants.csv)")
    adoption_factor: float = Field(
        default=1.0, gt=0, description="sensitivity multiplier on adoption"
    )


def adoption(year: float, a: DemandAssumptions | None = None) -> float:
    """Share (0–1) of internet users who use the assistant in ``year``."""
    a = a or DemandAssumptions()
    share = a.adoption_cap / (1.0 + math.exp(-a.adoption_rate * (year - a.adoption_midpoint_year)))
    return min(1.0, share * a.adoption_factor)


@dataclass(frozen=True)
class Demand:
    """Units: people; queries/day; tokens/s."""

    country: str
    year: int
    population: int
    internet_share: float
    adoption: float
    users: float
    queries_per_day: float
    mean_output_tokens_per_s: float
    peak_output_tokens_per_s: float
    peak_input_tokens_per_s: float


def _country(iso3: str) -> object:
    try:
        from daulat.catalog.countries import get_country
    except ImportError as exc:  # pragma: no cover - CAT's module lands in parallel
        raise UserError(
            f"country: {iso3!r} cannot be resolved because daulat.catalog.countries is not "
            "installed yet; valid: pass population and internet share through demand_for()"
        ) from exc
    return get_country(iso3)


def demand_for(
    country: str,
    population: int,
    internet_share: float,
    year: int,
    assumptions: DemandAssumptions | None = None,
) -> Demand:
    """Demand from explicit population and internet share (no catalog look-up)."""
    a = assumptions or DemandAssumptions()
    if not 0 <= internet_share <= 1:
        raise UserError(f"internet_share: {internet_share} out of range; valid values: 0..1")
    if population < 0:
        raise UserError(f"population: {population} negative; valid values: >= 0")
    ad = adoption(year, a)
    users = population * internet_share * ad
    qpd = users * a.queries_per_user_day
    seconds = constant("seconds_per_day")
    mean_out = qpd * a.output_tokens_per_query / seconds
    return Demand(
        country=country,
        year=year,
        population=population,
        internet_share=internet_share,
        adoption=ad,
        users=users,
        queries_per_day=qpd,
        mean_output_tokens_per_s=mean_out,
        peak_output_tokens_per_s=mean_out * a.peak_factor,
        peak_input_tokens_per_s=qpd * a.input_tokens_per_query / seconds * a.peak_factor,
    )


def demand(country: str, year: int, assumptions: DemandAssumptions | None = None) -> Demand:
    """Demand of the localised assistant in ``country`` (ISO3) in ``year``."""
    c = _country(country)
    return demand_for(
        getattr(c, "iso3", country.upper()),
        int(getattr(c, "population", 0) or 0),
        float(getattr(c, "internet_share", 0.0) or 0.0),
        year,
        assumptions,
    )


@dataclass(frozen=True)
class CountrySizing:
    """A country's assistant: people, tokens/s, accelerators, MW and money (USD/year)."""

    country: str
    year: int
    users: float
    peak_tokens_per_s: float
    accelerators: int
    replicas: int
    tokens_per_s_per_accelerator: float
    it_mw: float
    facility_mw: float
    annual_energy_mwh: float
    annual_emissions_tco2: float | None
    capex_usd: float
    annual_opex_usd: float
    binding: str
    assumptions: DemandAssumptions


def size_demand(d: Demand, a: DemandAssumptions, country: str | None = None) -> CountrySizing:
    """Accelerators, facility and money to serve demand ``d`` at peak."""
    from daulat.sizing.facility import facility
    from daulat.sizing.inference import inference_throughput, replicas_needed

    get_model(a.model)
    acc = get_accelerator(a.accelerator)
    inf = inference_throughput(
        a.model,
        acc,
        a.precision,
        a.scenario,
        a.serving_efficiency,
        input_tokens=a.input_tokens_per_query,
        output_tokens=a.output_tokens_per_query,
    )
    replicas = replicas_needed(d.peak_output_tokens_per_s, inf)
    count = replicas * inf.replica_size
    fac = facility(acc, count, a.pue, country=country)
    return CountrySizing(
        country=d.country,
        year=d.year,
        users=d.users,
        peak_tokens_per_s=d.peak_output_tokens_per_s,
        accelerators=count,
        replicas=replicas,
        tokens_per_s_per_accelerator=inf.tokens_per_s_per_accelerator,
        it_mw=fac.it_mw,
        facility_mw=fac.facility_mw,
        annual_energy_mwh=fac.annual_energy_mwh,
        annual_emissions_tco2=fac.annual_emissions_tco2,
        capex_usd=fac.capex_usd,
        annual_opex_usd=fac.annual_opex_usd,
        binding=inf.binding,
        assumptions=a,
    )


def country_assistant(
    iso3: str, year: int, assumptions: DemandAssumptions | None = None
) -> CountrySizing:
    """Size the localised assistant of ``iso3`` in ``year`` on default (or given) assumptions."""
    a = assumptions or DemandAssumptions()
    d = demand(iso3, year, a)
    return size_demand(d, a, country=d.country)
