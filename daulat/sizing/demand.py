"""Demand of a localised assistant and the country sizing built on it (DESIGN.md §3).

``users = population × internet_share × adoption(year)``;
``peak output tokens/s = users × queries/user/day × (1 + institutional share) × output
tokens/query / 86 400 × peak factor``; queries and tokens per query come from the usage
profile (``chat``, ``reasoning``, ``agentic``) unless given. Prefill is carried by the
serving model through input tokens/query. Every default
below is documented in docs/sizing.md: cited where a source exists, else labelled an
assumption; all are overridable through :class:`DemandAssumptions`.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from daulat.catalog.accelerators import get_accelerator
from daulat.catalog.constants import constant
from daulat.catalog.models import get_model
from daulat.errors import UserError

__all__ = [
    "PROFILES",
    "DemandProfile",
    "frontier_training_flop",
    "DemandAssumptions",
    "Demand",
    "CountrySizing",
    "adoption",
    "demand",
    "country_assistant",
]


@dataclass(frozen=True)
class DemandProfile:
    """What one active user asks of the assistant per day, and each request's shape.

    A *query* is one model call: a chat turn, a reasoning answer, or one step of an agent
    task (an agent task is many steps, each re-reading its growing context).
    """

    id: str
    queries_per_user_day: float
    input_tokens_per_query: int | None  # None: the catalog's default_input_tokens
    output_tokens_per_query: int | None  # None: the catalog's default_output_tokens
    basis: str


PROFILES_FILE = "demand_profiles.csv"


def _load_profiles() -> dict[str, DemandProfile]:
    """Usage profiles from ``data/demand_profiles.csv`` (each row with its source)."""
    text = resources.files("daulat.sizing").joinpath("data", PROFILES_FILE).read_text("utf-8")
    out: dict[str, DemandProfile] = {}
    for row in csv.DictReader(text.splitlines()):
        out[row["id"]] = DemandProfile(
            row["id"],
            float(row["queries_per_user_day"]),
            int(row["input_tokens_per_query"]) if row["input_tokens_per_query"] else None,
            int(row["output_tokens_per_query"]) if row["output_tokens_per_query"] else None,
            row["source"],
        )
    return out


#: Usage profiles (docs/sizing.md "Demand profiles"), from ``data/demand_profiles.csv``:
#: every figure is cited there or labelled an assumption.
PROFILES: dict[str, DemandProfile] = _load_profiles()


def frontier_training_flop(year: int) -> float:
    """FLOP of a frontier training run of ``year`` on the Epoch AI trend.

    The trend (base year, base FLOP, growth per year) lives in the catalog's constants
    ``frontier_training_*`` with its sources.
    """
    base_year = int(constant("frontier_training_base_year"))
    growth = constant("frontier_training_growth_per_year")
    return constant("frontier_training_base_flop") * growth ** (year - base_year)


class DemandAssumptions(BaseModel):
    """Assumptions of a country's assistant demand (all overridable).

    Adoption is a logistic curve of the share of internet users who use the assistant:
    ``adoption_cap / (1 + exp(-adoption_rate · (year - adoption_midpoint_year)))``.
    """

    model_config = ConfigDict(extra="forbid")

    profile: Literal["chat", "reasoning", "agentic"] = Field(
        default="chat",
        description="usage profile (PROFILES): sets queries_per_user_day and input/output "
        "tokens per query unless given; chat is the documented conservative default",
    )
    institutional_share: float = Field(
        default=0.0,
        ge=0,
        description=(
            "public-sector and enterprise demand on top of consumer demand, as a share of it "
            "(0: consumer only, the conservative default). Anchor: 27 % of consumer ChatGPT "
            "messages were work-related in Jun 2025 (NBER w34255), and enterprise/API use "
            "comes on top of consumer plans; examples use an ASSUMPTION of 0.5"
        ),
    )
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

    @model_validator(mode="before")
    @classmethod
    def _from_profile(cls, values: Any) -> Any:
        """Fill queries and tokens per query from the profile where not given."""
        if not isinstance(values, dict):
            return values
        prof = PROFILES.get(str(values.get("profile", "chat")))
        if prof is None:
            return values  # the Literal check names the valid profiles
        out = dict(values)
        out.setdefault("queries_per_user_day", prof.queries_per_user_day)
        if prof.input_tokens_per_query is not None:
            out.setdefault("input_tokens_per_query", prof.input_tokens_per_query)
        if prof.output_tokens_per_query is not None:
            out.setdefault("output_tokens_per_query", prof.output_tokens_per_query)
        return out


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
    qpd = users * a.queries_per_user_day * (1.0 + a.institutional_share)
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
