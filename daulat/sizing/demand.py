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

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from daulat.catalog.accelerators import get_accelerator
from daulat.catalog.constants import constant
from daulat.catalog.countries import get_country
from daulat.catalog.models import get_model
from daulat.catalog.profiles import daily_load, get_fleet_factor, get_profile, profile_figure
from daulat.errors import UserError
from daulat.scenario.demand import PROFILES, DemandAssumptions, DemandProfile
from daulat.sizing.fleet import (
    FleetAssumptions,
    ModelFleet,
    ServiceLoad,
    ServiceSizing,
    load_from_users,
    size_service,
)
from daulat.sizing.inference import scenario_targets

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
    "fleet_assumptions",
    "fleet_rate",
    "RANGED_FLEET_FACTORS",
    "demand_ranges",
    "demand_ranges_rows",
]


def frontier_training_flop(year: int) -> float:
    """FLOP of a frontier training run of ``year`` on the Epoch AI trend.

    The trend (base year, base FLOP, growth per year) lives in the catalog's constants
    ``frontier_training_*`` with its sources.
    """
    base_year = int(constant("frontier_training_base_year"))
    growth = constant("frontier_training_growth_per_year")
    return constant("frontier_training_base_flop") * growth ** (year - base_year)


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
    output_tokens_per_day: float = 0.0
    input_tokens_per_day: float = 0.0  # all tokens read, incl. prefix-cache hits
    cached_input_share: float = 0.0


def _country(iso3: str) -> object:
    return get_country(iso3)


def demand_for(
    country: str,
    population: int,
    internet_share: float,
    year: int,
    assumptions: DemandAssumptions | None = None,
) -> Demand:
    """Demand from explicit population and internet share (no catalog look-up).

    ``users`` are weekly active users. With a ``usage_profile`` (the default) their daily
    load comes from the profile for ``year`` (every mode and segment); without one, from
    ``queries_per_user_day × tokens per query × (1 + institutional_share)``.
    """
    a = assumptions or DemandAssumptions()
    if not 0 <= internet_share <= 1:
        raise UserError(f"internet_share: {internet_share} out of range; valid values: 0..1")
    if population < 0:
        raise UserError(f"population: {population} negative; valid values: >= 0")
    ad = adoption(year, a)
    users = population * internet_share * ad
    seconds = constant("seconds_per_day")
    if a.usage_profile is not None:
        load = daily_load(a.usage_profile, year)
        qpd = users * load.calls
        out_day = users * load.output_tokens
        new_in_day = users * load.new_input_tokens
        ctx_day = users * load.context_tokens
    else:
        qpd = users * a.queries_per_user_day * (1.0 + a.institutional_share)
        out_day = qpd * a.output_tokens_per_query
        new_in_day = ctx_day = qpd * a.input_tokens_per_query
    mean_out = out_day / seconds
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
        peak_input_tokens_per_s=new_in_day / seconds * a.peak_factor,
        output_tokens_per_day=out_day,
        input_tokens_per_day=ctx_day,
        cached_input_share=max(0.0, 1.0 - new_in_day / ctx_day) if ctx_day else 0.0,
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
    """A country's assistant: people, tokens/s, accelerators, MW and money (USD/year).

    ``accelerators`` is the fleet to build (diurnal peak, headroom, failover and research
    share included); ``accelerators_average`` serves the mean load and
    ``accelerators_peak`` the peak. ``users`` are weekly active users;
    ``watts_per_weekly_user`` is facility power per weekly user.
    """

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
    accelerators_average: int = 0
    accelerators_peak: int = 0
    watts_per_weekly_user: float = 0.0
    cost_per_million_output_tokens_usd: float = 0.0
    output_tokens_per_day: float = 0.0
    input_tokens_per_day: float = 0.0
    cached_input_share: float = 0.0
    models: list[ModelFleet] = field(default_factory=list)
    factors: dict[str, float] = field(default_factory=dict)


def fleet_assumptions(a: DemandAssumptions, country: str | None = None) -> FleetAssumptions:
    """The fleet of ``a``: its model mix (or single model), accelerator and fleet factors."""
    return FleetAssumptions(
        accelerator=a.accelerator,
        precision=a.precision,
        mix=a.model_mix or "national-assistant",
        models=None if a.model_mix else ((a.model, 1.0),),
        output_tokens_per_s_per_user=a.output_tokens_per_s_per_user,
        peak_to_average=a.peak_factor,
        headroom=a.headroom,
        failover_reserve=a.failover_reserve,
        research_share=a.research_share,
        serving_efficiency=a.serving_efficiency,
        pue=a.pue,
        country=country,
    )


def size_demand(d: Demand, a: DemandAssumptions, country: str | None = None) -> CountrySizing:
    """Accelerators, facility and money to serve demand ``d``: the fleet engine
    (:func:`daulat.sizing.fleet.size_service`) on ``d``'s daily load."""
    get_model(a.model)
    get_accelerator(a.accelerator)
    scenario_targets(a.scenario)  # validated; the fleet's latency comes from its speed per user
    out_day = d.output_tokens_per_day or d.mean_output_tokens_per_s * constant("seconds_per_day")
    in_day = d.input_tokens_per_day or (
        d.peak_input_tokens_per_s / a.peak_factor * constant("seconds_per_day")
    )
    calls = d.queries_per_day
    load = ServiceLoad(
        input_tokens_per_day=in_day,
        output_tokens_per_day=out_day,
        cached_input_share=d.cached_input_share,
        context_tokens=in_day / calls if calls else None,
        output_tokens_per_request=out_day / calls if calls else None,
        users=d.users,
        basis=f"{d.users:,.0f} weekly users in {d.country} {d.year}",
    )
    r = size_service(load, fleet_assumptions(a, country))
    rate = (
        sum(m.share * m.tokens_per_s_per_accelerator for m in r.models) if r.models else 0.0
    )
    return CountrySizing(
        country=d.country,
        year=d.year,
        users=d.users,
        peak_tokens_per_s=r.peak_output_tokens_per_s,
        accelerators=r.accelerators,
        replicas=sum(m.accelerators // m.replica_size for m in r.models),
        tokens_per_s_per_accelerator=rate,
        it_mw=r.it_mw,
        facility_mw=r.facility_mw,
        annual_energy_mwh=r.annual_energy_mwh,
        annual_emissions_tco2=r.annual_emissions_tco2,
        capex_usd=r.capex_usd,
        annual_opex_usd=r.annual_opex_usd,
        binding="; ".join(f"{m.model}: {m.binding}" for m in r.models) or "no demand",
        assumptions=a,
        accelerators_average=r.accelerators_average,
        accelerators_peak=r.accelerators_peak,
        watts_per_weekly_user=r.watts_per_weekly_user,
        cost_per_million_output_tokens_usd=r.cost_per_million_output_tokens_usd,
        output_tokens_per_day=r.output_tokens_per_day,
        input_tokens_per_day=r.input_tokens_per_day,
        cached_input_share=r.cached_input_share,
        models=r.models,
        factors=r.factors,
    )


def fleet_rate(
    model: str,
    accelerator: str,
    assumptions: DemandAssumptions | None = None,
    *,
    year: int = 2027,
    precision: str | None = None,
    efficiency: float | None = None,
) -> float:
    """Output tokens/s per installed accelerator of a *fleet* serving ``model`` at the
    profile's request shape: the engine's rate less headroom, failover and research share
    (so ``installed accelerators × fleet_rate ≥ peak output tokens/s`` is the fleet the
    engine sizes). For the planner's capacity constraint."""
    a = assumptions or DemandAssumptions()
    d = demand_for("XXX", 1_000_000, 1.0, year, a)
    fl = fleet_assumptions(a.model_copy(update={"model_mix": None, "model": model,
                                                "accelerator": accelerator,
                                                "precision": precision,
                                                **({"serving_efficiency": efficiency}
                                                   if efficiency else {})}))
    calls = d.queries_per_day or 1.0
    load = ServiceLoad(d.input_tokens_per_day or 1.0, d.output_tokens_per_day or 1.0,
                       d.cached_input_share, (d.input_tokens_per_day or 1.0) / calls,
                       (d.output_tokens_per_day or 1.0) / calls)
    r = size_service(load, fl)
    if not r.models:
        return 0.0
    return r.models[0].tokens_per_s_per_accelerator / r.factors["fleet_overhead"]


def country_assistant(
    iso3: str, year: int, assumptions: DemandAssumptions | None = None
) -> CountrySizing:
    """Size the localised assistant of ``iso3`` in ``year`` on default (or given) assumptions."""
    a = assumptions or DemandAssumptions()
    d = demand(iso3, year, a)
    return size_demand(d, a, country=d.country)


#: Fleet factors (fleet_factors.csv) the engine applies to a usage-profile workload, with
#: the FleetAssumptions field each sets and the DemandAssumptions field that overrides it:
#: ``daulat risk`` samples their low-high ranges (issue 10: an unsourced figure has a range
#: that risk samples). The latency targets (output_tokens_per_s_per_user, ttft_s) are left
#: out: they are the service a plan chooses to give, not an uncertain fact about the world
#: (a faster service is another plan: on GB200 80 tokens/s per user needs ~1.2x the
#: accelerators of 20, on H100 ~24x; docs/sizing.md, "Speed costs most on Hopper").
RANGED_FLEET_FACTORS: dict[str, tuple[str, str | None]] = {
    "peak_to_average_national": ("peak_to_average", "peak_factor"),
    "headroom": ("headroom", "headroom"),
    "failover_reserve": ("failover_reserve", "failover_reserve"),
    "research_share": ("research_share", "research_share"),
    "fleet_utilisation": ("fleet_utilisation", None),
}
#: Weekly users of the reference load the ranges are computed on (the multipliers are
#: ratios, so the size only has to keep replica rounding out: the count is continuous).
_REFERENCE_USERS = 1e6


def _accelerators_needed(r: ServiceSizing) -> float:
    """Accelerators the fleet of ``r`` needs, continuous (peak x fleet overhead / rate per
    model, before whole replicas)."""
    peak = r.peak_output_tokens_per_s * r.factors["fleet_overhead"]
    return peak * sum(m.share / m.tokens_per_s_per_accelerator for m in r.models
                      if m.tokens_per_s_per_accelerator > 0)


def demand_ranges(a: DemandAssumptions, year: int, workload: str = "") -> list[dict[str, Any]]:
    """How the fleet for ``a``'s demand in ``year`` moves when one uncertain figure goes to
    the low or the high end of its catalog range, the others at their value.

    One row per figure with a range: every figure of ``a.usage_profile`` (usage_profiles.csv,
    interpolated to ``year``) and every fleet factor of :data:`RANGED_FLEET_FACTORS`
    (fleet_factors.csv) that ``a`` does not set itself. ``capacity_low`` / ``capacity_high``
    are the accelerators the fleet engine (:func:`daulat.sizing.fleet.size_service`) needs
    for the same users at the figure's low / high, divided by those at its value: above 1 the
    plan's capacity falls short, below 1 part of it stands idle. Figures that move nothing
    (e.g. daily/weekly users, used only for reporting) are left out. ``group`` names the
    mode whose part of the fleet a figure scales (its tokens, steps; '' for figures that
    move the whole fleet: prompts, mode shares, segments, fleet factors) and
    ``group_share`` that mode's share of the base fleet, so that risk can add the modes'
    parts rather than multiply figures of different modes. Keys: workload, year, factor,
    label, low, base, high, unit, capacity_low, capacity_high, source, group, group_share.
    """
    fleet = fleet_assumptions(a)
    profile = a.usage_profile

    def load(overrides: tuple[tuple[str, str, str, float], ...] = ()) -> ServiceLoad:
        if profile is not None:
            return load_from_users(_REFERENCE_USERS, profile, year, overrides)
        d = demand_for("XXX", int(_REFERENCE_USERS), 1.0, year, a)
        calls = d.queries_per_day or 1.0
        return ServiceLoad(d.input_tokens_per_day, d.output_tokens_per_day,
                           d.cached_input_share, d.input_tokens_per_day / calls,
                           d.output_tokens_per_day / calls, d.users)

    base_load = load()
    base = _accelerators_needed(size_service(base_load, fleet))
    if base <= 0:
        return []
    rows: list[dict[str, Any]] = []
    # each mode's share of the fleet (its calls sized alone): a mode's own figures (tokens,
    # steps) scale its part, so risk adds modes and multiplies within one
    shares: dict[str, float] = {}
    if profile is not None:
        day = daily_load(profile, year)
        parts = {}
        for m in day.modes:
            if m.calls <= 0 or m.output_tokens <= 0:
                continue
            part = ServiceLoad(m.context_tokens * _REFERENCE_USERS,
                               m.output_tokens * _REFERENCE_USERS,
                               max(0.0, 1.0 - m.input_tokens / m.context_tokens)
                               if m.context_tokens else 0.0,
                               m.context_tokens / m.calls, m.output_tokens / m.calls)
            parts[m.mode] = _accelerators_needed(size_service(part, fleet))
        total = sum(parts.values())
        shares = {m: v / total for m, v in parts.items()} if total > 0 else {}

    def add(factor: str, label: str, lo: float, mid: float, hi: float, unit: str,
            need: Any, source: str, group: str = "") -> None:
        try:
            m_lo, m_hi = need(lo) / base, need(hi) / base
        except UserError:  # a value the engine cannot serve (e.g. a speed no batch meets)
            return
        if abs(m_lo - 1.0) < 1e-9 and abs(m_hi - 1.0) < 1e-9:
            return
        rows.append({"workload": workload, "year": year, "factor": factor, "label": label,
                     "low": lo, "base": mid, "high": hi, "unit": unit,
                     "capacity_low": m_lo, "capacity_high": m_hi, "source": source,
                     "group": group, "group_share": shares.get(group) if group else None})

    if profile is not None:
        keys = dict.fromkeys((f.segment, f.mode, f.figure) for f in get_profile(profile))
        for seg, mode, fig in keys:
            lo, mid, hi = (profile_figure(profile, seg, mode, fig, year, bound=b)
                           for b in ("low", "value", "high"))
            if lo is None or mid is None or hi is None or not lo < hi:
                continue
            near = min((f for f in get_profile(profile)
                        if (f.segment, f.mode, f.figure) == (seg, mode, fig)),
                       key=lambda f: abs(f.year - year))
            add(f"{profile}/{seg}/{mode}/{fig}",
                f"{profile}: {seg} {mode if mode != 'all' else ''} {fig}".replace("  ", " "),
                lo, mid, hi, near.unit,
                lambda v, k=(seg, mode, fig): _accelerators_needed(
                    size_service(load(((*k, v),)), fleet)),
                f"usage_profiles.csv {near.year} {near.kind}: {near.source}"
                + (f" {near.url}" if near.url else ""),
                mode if seg == "consumer" and fig != "prompt_share" and mode in shares
                else "")
    for name, (field_name, override) in RANGED_FLEET_FACTORS.items():
        if override is not None and override in a.model_fields_set:
            continue  # the scenario set it: not the catalog's range
        ff = get_fleet_factor(name)
        mid = float(fleet.resolved()[field_name])
        if not ff.low <= mid <= ff.high or not ff.low < ff.high:
            continue
        add(f"fleet/{name}", f"fleet: {name}", ff.low, mid, ff.high, ff.unit,
            lambda v, fn=field_name: _accelerators_needed(
                size_service(base_load, dataclasses.replace(fleet, **{fn: v}))),
            f"fleet_factors.csv {ff.kind}: {ff.source}" + (f" {ff.url}" if ff.url else ""))
    return rows


def demand_ranges_rows(workloads: Iterable[tuple[str, str | None, str]], year: int
                       ) -> list[dict[str, Any]]:
    """:func:`demand_ranges` for each ``(workload, usage profile, model)`` of a plan with
    the catalog's fleet defaults and ``model`` alone (as the planner's rate per accelerator,
    :func:`fleet_rate`), at ``year`` (the planner's fleet year). For the plan directory's
    ``inputs_demand_ranges`` table; a scenario's own fleet-factor overrides are not seen
    here (the planner's demand table does not carry them)."""
    rows: list[dict[str, Any]] = []
    for workload, profile, model in workloads:
        prof = profile if isinstance(profile, str) and profile else None
        rows += [dict(r) for r in _cached_ranges(str(workload), prof, str(model), int(year))]
    return rows


@lru_cache(maxsize=64)
def _cached_ranges(workload: str, profile: str | None, model: str, year: int
                   ) -> tuple[dict[str, Any], ...]:
    """:func:`demand_ranges` memoised (the planner re-solves a scenario several times)."""
    a = DemandAssumptions(model=model, usage_profile=profile, model_mix=None)
    return tuple(demand_ranges(a, year, workload))
