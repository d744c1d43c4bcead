"""Turn a :class:`~daulat.scenario.Scenario` into :class:`~daulat.plan.data.PlanData`.

This is the only module of the planner that reads the catalog (countries, sites,
accelerators, constants), the sizing model (demand, throughput, IT kW and capex per
accelerator) and the residency rule (:func:`daulat.policy.residency.resolve_residency`).
The model itself sees only arrays. :func:`prepare` runs the steps below in order; each
step is a function with a name that says what it resolves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import ValidationError

from daulat.catalog import sites as cat_sites
from daulat.catalog.accelerators import Accelerator, get_accelerator, load_accelerators
from daulat.catalog.constants import constant, constants
from daulat.catalog.countries import Country, load_countries
from daulat.catalog.revenue import revenue_inputs
from daulat.catalog.sites import Site, shell_capex, site_defaults, site_schedule_mw
from daulat.errors import UserError
from daulat.plan.data import SECONDS_PER_YEAR, OriginCap, PlanData
from daulat.policy.residency import ResidencyDecision, ResidencyMode, resolve_residency
from daulat.scenario.schema import CountrySpec, ProgrammeTrainingSpec, Scenario
from daulat.sizing import (
    DemandAssumptions,
    accelerator_capex_usd,
    demand_for,
    inference_throughput,
    it_kw_per_accelerator,
)
from daulat.sizing.demand import fleet_rate, frontier_training_flop

__all__ = ["latency_ms", "prepare", "programme_training_flop", "residency_decision"]

#: Mean Earth radius, km (IUGG mean radius R1 = 6371.0088 km; Moritz 2000, Geodetic
#: Reference System 1980) — for great-circle distances.
EARTH_RADIUS_KM = 6371.0088
_EXISTING = ("operational", "under_construction", "announced")


def _constant(name: str, default: float | None = None) -> float:
    if default is not None and name not in constants():
        return default
    return constant(name)


def great_circle_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """Haversine distance in km between points given in degrees (numpy-broadcast)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def latency_ms(distance_km: Any) -> Any:
    """Modelled round trip, ms: 2 × distance × route inflation / fibre speed + fixed term.

    Constants (catalog): ``route_inflation``, ``fibre_speed_km_per_s`` and
    ``latency_fixed_ms`` (0 while the catalog has none).
    """
    inflation = _constant("route_inflation")
    speed = _constant("fibre_speed_km_per_s")
    fixed = _constant("latency_fixed_ms", 0.0)
    return 2 * np.asarray(distance_km) * inflation / speed * 1000 + fixed


def residency_decision(scenario: Scenario, iso3: str) -> ResidencyDecision:
    """The residency of ``iso3``: the scenario's ``rules.residency`` entry, else the
    country's policy pack, else the scenario's explicit ``rules.default_residency``, else in
    country only (no pack: fail closed). One rule with the gateway
    (:mod:`daulat.policy.residency`); a broken pack raises ``PackError``."""
    rules = scenario.rules
    if iso3 in rules.residency:
        return resolve_residency(iso3, rules.residency[iso3],
                                 override_source=f"scenario rules.residency.{iso3}")
    decision = resolve_residency(iso3)
    if decision.basis == "no_pack" and rules.default_residency is not None:
        return resolve_residency(iso3, rules.default_residency,
                                 override_source="scenario rules.default_residency "
                                                 f"({iso3} has no policy pack)")
    return decision


def _rule_text(decision: ResidencyDecision) -> str:
    """The decision as the planner's one-word rule (in_country, any, or 'A,B')."""
    if decision.mode == ResidencyMode.JURISDICTIONS:
        home = decision.country
        return ",".join([home, *sorted(decision.jurisdictions - {home})])
    return str(decision.mode.value)


def _jurisdictions(decision: ResidencyDecision) -> str:
    """Where the country's traffic may go, ';'-separated, home first ('*': anywhere)."""
    if decision.mode == ResidencyMode.ANY:
        return "*"
    return _rule_text(decision).replace(",", ";") if decision.mode == ResidencyMode.JURISDICTIONS \
        else decision.country


# ---------------------------------------------------------------------- steps
@dataclass(frozen=True)
class _Countries:
    iso3s: list[str]
    records: list[Country]
    specs: dict[str, CountrySpec]
    catalog: dict[str, Country]


def select_countries(scenario: Scenario) -> _Countries:
    """The scenario's countries as catalog records (``all``: every populated country)."""
    catalog = load_countries()
    if scenario.countries == "all":
        specs: dict[str, CountrySpec] = {}
        iso3s = sorted(c for c, v in catalog.items() if v.population > 0)
    else:
        specs = {c.iso3: c for c in scenario.countries}
        iso3s = [c.iso3 for c in scenario.countries]
    return _Countries(iso3s, [catalog[c] for c in iso3s], specs, dict(catalog))


def country_table(scenario: Scenario, cs: _Countries,
                  decisions: dict[str, ResidencyDecision]) -> pd.DataFrame:
    """``countries``: name, income group, people, position, access weight, residency."""
    weights = scenario.objective.weights

    def weight(c: Country) -> float:
        spec = cs.specs.get(c.iso3)
        if spec is not None and spec.weight is not None:
            return float(spec.weight)
        return float(weights.income.get(c.income_group, 1.0)  # type: ignore[call-overload]
                     * (1 + weights.connectivity * (1 - c.internet_share)))

    return pd.DataFrame(
        {
            "name": [c.name for c in cs.records],
            "income_group": [c.income_group for c in cs.records],
            "internet_share": [c.internet_share for c in cs.records],
            "lat": [c.lat for c in cs.records],
            "lon": [c.lon for c in cs.records],
            "weight": [weight(c) for c in cs.records],
            "population": [c.population for c in cs.records],
            "residency": [decisions[c].mode.value for c in cs.iso3s],
            "residency_jurisdictions": [_jurisdictions(decisions[c]) for c in cs.iso3s],
            "residency_basis": [decisions[c].basis.value for c in cs.iso3s],
            "residency_source": [decisions[c].source for c in cs.iso3s],
        },
        index=pd.Index(cs.iso3s, name="country"),
    )


def accelerator_table(scenario: Scenario) -> pd.DataFrame:
    """``accelerators``: capex (system and network share, price factor), IT kW, opex."""
    if scenario.accelerators == "all":
        accs: list[Accelerator] = list(load_accelerators().values())
    else:
        accs = [get_accelerator(a) for a in scenario.accelerators]
    factor = scenario.sensitivity.accelerator_price_factor
    maintenance = _constant("maintenance_share_per_year")
    capex = [float(accelerator_capex_usd(a)) * factor for a in accs]
    scaled = f" x scenario accelerator_price_factor {factor:g}" if factor != 1 else ""
    return pd.DataFrame(
        {
            "origin": [a.origin for a in accs],
            "capex_usd": capex,
            "it_kw": [float(it_kw_per_accelerator(a)) for a in accs],
            "first_year": [a.first_year for a in accs],
            "opex_usd_per_year": [c * maintenance for c in capex],
            "vendor": [a.vendor for a in accs],
            "system_gpus": [max(int(a.system_gpus), 1) for a in accs],
            "price_source": [f"sizing accelerator_capex_usd (catalog price: "
                             f"{a.price_source or a.source}; network share incl.){scaled}"
                             for a in accs],
        },
        index=pd.Index([a.id for a in accs], name="accelerator"),
    )


def scenario_sites(scenario: Scenario, iso3s: list[str]) -> list[Site]:
    """The scenario's sites (catalog, candidates, inline) as catalog records, MW NaN → None."""
    out: dict[str, Site] = {}
    spec = scenario.sites
    wanted = set(iso3s)

    def add(s: Any) -> None:
        power = None if s.power_mw is None or (isinstance(s.power_mw, float)
                                               and math.isnan(s.power_mw)) else float(s.power_mw)
        if isinstance(s, Site):  # a catalog record keeps every field (costs, schedule)
            out[s.id] = replace(s, power_mw=power)
            return
        out[s.id] = Site(s.id, s.name, s.country, float(s.lat), float(s.lon), s.status,
                         power, int(s.earliest_year), float(s.programme_share),
                         source="scenario (inline site)")

    known = {s.id: s for s in cat_sites.load_sites()}
    if spec.catalog != "none":
        if spec.catalog == "all":
            for s in known.values():
                if s.country in wanted:
                    add(s)
        else:
            for sid in spec.catalog:
                add(known[sid])
    per_country = {c.iso3: c.candidate_sites for c in scenario.countries} if isinstance(
        scenario.countries, list) else {}
    for iso3 in iso3s:
        n = per_country.get(iso3)
        n = spec.candidates_per_country if n is None else n
        if n > 0:
            for s in cat_sites.candidate_sites(iso3, n=n):
                if s.id not in out:
                    add(s)
    for sid in spec.include:
        if sid not in known:
            raise UserError(f"sites.include: unknown site id {sid!r}; valid: ids of "
                            "`daulat catalog sites` (e.g. stargate-abilene)")
        add(known[sid])
    for inline in spec.inline:
        add(inline)
    for sid in spec.exclude:
        out.pop(sid, None)
    return list(out.values())


def site_table(scenario: Scenario, cs: _Countries) -> pd.DataFrame:
    """``sites``: power ceiling, existing MW, earliest year, PUE, power price and source."""
    sites = scenario_sites(scenario, cs.iso3s)
    if not sites:
        raise UserError(
            f"scenario '{scenario.name}': no sites to plan on — set sites.catalog, "
            "sites.candidates_per_country > 0 or sites.inline (docs/scenario.md)"
        )
    sens = scenario.sensitivity
    pue = scenario.pue if scenario.pue is not None else _constant("pue_liquid")
    default_mw = scenario.sites.default_power_mw
    if default_mw is None:
        default_mw = site_defaults()["candidate_power_mw"][0]
    factor = "" if sens.power_price_factor == 1 else (
        f" x scenario power_price_factor {sens.power_price_factor:g}")
    rows = []
    first = scenario.years[0]
    for s in sites:
        limit = scenario.sites.power_mw.get(s.id, s.power_mw if s.power_mw else default_mw)
        existing = 0.0
        if s.status in _EXISTING:
            # an announced site comes on its published schedule; what was in service before
            # the plan is sunk (free), the rest is shell the plan pays for — unless the
            # scenario says the site is built and paid (sites.paid)
            paid = s.id in scenario.sites.paid
            existing = limit * s.programme_share if paid else site_schedule_mw(
                s, first - 1, limit, sens.delay_years)
            limit = limit * s.programme_share
        shell_usd, shell_source = shell_capex(s)
        home = cs.catalog.get(s.country)
        spec = cs.specs.get(s.country)
        if spec and spec.power_price_usd_per_mwh:
            price = spec.power_price_usd_per_mwh
            source = f"scenario countries[{s.country}].power_price_usd_per_mwh"
        elif home:
            price, source = home.power_price_usd_per_mwh, f"catalog: {home.power_price_source}"
        else:
            price = _constant("power_price_usd_per_mwh_default")
            source = ("catalog default power_price_usd_per_mwh_default: "
                      f"{constants()['power_price_usd_per_mwh_default'].source}")
        rows.append({
            "site": s.id, "name": s.name, "country": s.country,
            "country_name": home.name if home else s.country, "lat": s.lat, "lon": s.lon,
            "status": s.status, "power_limit_mw": float(limit), "existing_mw": float(existing),
            "earliest_year": s.earliest_year + sens.delay_years, "pue": pue,
            "power_price_usd_per_mwh": price * sens.power_price_factor,
            "power_price_source": source + factor,
            "grid_gco2_per_kwh": (home.grid_gco2_per_kwh if home and home.grid_gco2_per_kwh
                                  is not None else np.nan),
            "new": s.status not in _EXISTING,
            "shell_usd_per_mw": shell_usd / pue,
            "shell_capex_source": f"{shell_source} (per MW IT; / PUE {pue:g} per facility MW)",
            "paid": s.status in _EXISTING and s.id in scenario.sites.paid,
        })
    return pd.DataFrame(rows).set_index("site")


def schedule_array(scenario: Scenario, cs: _Countries) -> xr.DataArray:
    """``schedule_mw[site, year]``: facility MW an announced, building or operating site may
    have in service by the end of each year (its published schedule, catalog sites.csv;
    × programme share); NaN for a candidate (its ceiling from its earliest year)."""
    sites = scenario_sites(scenario, cs.iso3s)
    known = {s.id for s in sites}
    unknown = [x for x in scenario.sites.paid if x not in known]
    if unknown:
        raise UserError(f"sites.paid: {', '.join(unknown)} not among the plan's sites; valid: "
                        f"{', '.join(sorted(known)[:12])}, …")
    default_mw = scenario.sites.default_power_mw
    if default_mw is None:
        default_mw = site_defaults()["candidate_power_mw"][0]
    delay = scenario.sensitivity.delay_years
    years = scenario.years
    values = np.full((len(sites), len(years)), np.nan)
    for i, s in enumerate(sites):
        if s.status in _EXISTING:
            limit = scenario.sites.power_mw.get(s.id, s.power_mw if s.power_mw else default_mw)
            values[i] = [site_schedule_mw(s, y, limit, delay) for y in years]
    return xr.DataArray(values, coords={"site": [s.id for s in sites], "year": years},
                        dims=("site", "year"))


def workload_table(scenario: Scenario, cs: _Countries, site_ids: set[str]
                   ) -> tuple[pd.DataFrame, list[tuple[str, float | None]], dict[str, list[str]]]:
    """``workloads`` (inference, national and programme training runs); the (precision,
    MFU) of each training run in order; the sites each programme run may use."""
    sens = scenario.sensitivity
    iso3s = cs.iso3s
    trainings = [(c, cs.specs[c].training) for c in iso3s
                 if c in cs.specs and cs.specs[c].training]
    wrows: list[dict[str, Any]] = [
        {"workload": w.id, "kind": "inference", "country": None, "required_eflop": 0.0,
         "deadline_year": 0, "start_year": 0, "model": w.model} for w in scenario.workloads]
    train_specs: list[tuple[str, float | None]] = []
    for iso3, t in trainings:
        assert t is not None
        active = t.active_params_b or t.params_b
        flops = 6 * active * 1e9 * t.tokens
        wrows.append({"workload": f"{t.id}-{iso3}" if len(trainings) > 1 else t.id,
                      "kind": "training", "country": iso3, "required_eflop": flops / 1e18,
                      "deadline_year": t.deadline_year + sens.delay_years, "start_year": 0,
                      "model": f"{t.params_b:g}B"})
        train_specs.append((t.precision, t.mfu))
    run_sites: dict[str, list[str]] = {}
    for pt in scenario.training:
        unknown = [x for x in pt.sites if x not in site_ids]
        if unknown:
            raise UserError(f"training[{pt.id}].sites: {', '.join(unknown)} not among the "
                            f"plan's sites; valid: {', '.join(sorted(site_ids)[:12])}, … "
                            "(add catalog ids with sites.include)")
        run_sites[pt.id] = list(pt.sites) or sorted(site_ids)
        flop = programme_training_flop(pt)
        wrows.append({"workload": pt.id, "kind": "training", "country": None,
                      "required_eflop": flop / 1e18,
                      "deadline_year": pt.deadline_year + sens.delay_years,
                      "start_year": (pt.start_year or 0) + (sens.delay_years
                                                             if pt.start_year else 0),
                      "model": f"{flop:.1e} FLOP", "interconnect_km": pt.interconnect_km})
        train_specs.append((pt.precision, pt.mfu))
    wdf = pd.DataFrame(wrows).set_index("workload")
    if wdf.index.duplicated().any():
        raise UserError("workloads: a training id equals an inference workload id — rename "
                        "countries[].training.id or workloads[].id")
    return wdf, train_specs, run_sites


def programme_training_flop(spec: ProgrammeTrainingSpec) -> float:
    """A programme run's compute, FLOP: its ``flop``, else the frontier run of its
    ``frontier_year`` on the Epoch AI trend (sizing)."""
    if spec.flop is not None:
        return float(spec.flop)
    return float(frontier_training_flop(int(spec.frontier_year or 0)))


def _demand_assumptions(overrides: dict[str, Any], where: str) -> DemandAssumptions:
    try:
        return DemandAssumptions(**overrides)
    except ValidationError as exc:
        raise UserError(f"scenario {where} demand assumptions: {exc}; valid fields: "
                        f"{', '.join(DemandAssumptions.model_fields)}") from None


@dataclass(frozen=True)
class _Demand:
    tokens_per_s: xr.DataArray  # [country, workload, year]
    users: xr.DataArray  # [country, year]
    peak_factors: pd.DataFrame  # country, workload, peak_factor, source
    detail: pd.DataFrame  # the inputs_demand columns
    peak_factor: float  # the last one resolved (the unmet-demand price's tokens per year)


def demand_arrays(scenario: Scenario, cs: _Countries) -> _Demand:
    """Peak output tokens/s and users per country, workload and year (sizing's demand
    model, the scenario's overrides and adoption factor), and each pair's peak factor."""
    years = scenario.years
    inf_ids = [w.id for w in scenario.workloads]
    sens = scenario.sensitivity
    dem = np.zeros((len(cs.iso3s), len(inf_ids), len(years)))
    users = np.zeros((len(cs.iso3s), len(years)))
    peak_factor = 1.0
    peaks = []
    detail: list[dict[str, Any]] = []
    for j, w in enumerate(scenario.workloads):
        for i, c in enumerate(cs.records):
            country_over = cs.specs[c.iso3].demand if c.iso3 in cs.specs else {}
            overrides = {"model": w.model, **w.demand, **country_over}
            assumptions = _demand_assumptions(overrides, f"workloads[{w.id}] / {c.iso3}")
            peak_factor = float(getattr(assumptions, "peak_factor", 1.0) or 1.0)
            source = ("scenario countries[].demand.peak_factor" if "peak_factor" in country_over
                      else "scenario workloads[].demand.peak_factor" if "peak_factor" in w.demand
                      else "sizing DemandAssumptions.peak_factor (default)")
            peaks.append({"country": c.iso3, "workload": w.id, "peak_factor": peak_factor,
                          "source": source})
            for k, year in enumerate(years):
                d = demand_for(c.iso3, c.population, c.internet_share, year, assumptions)
                scale = sens.adoption_factor
                detail.append({
                    "country": c.iso3, "workload": w.id, "year": year,
                    "users": d.users * scale, "adoption": d.adoption * scale,
                    "queries_per_day": d.queries_per_day * scale,
                    "output_tokens_per_day": d.output_tokens_per_day * scale,
                    "input_tokens_per_day": d.input_tokens_per_day * scale,
                    "cached_input_share": d.cached_input_share,
                    "mean_output_tokens_per_s": d.mean_output_tokens_per_s * scale,
                    "peak_output_tokens_per_s": d.peak_output_tokens_per_s * scale,
                    "usage_profile": getattr(assumptions, "usage_profile", None),
                    "model": w.model})
                dem[i, j, k] = d.peak_output_tokens_per_s * sens.adoption_factor
                users[i, k] = max(users[i, k], d.users * sens.adoption_factor)
    return _Demand(
        xr.DataArray(dem, coords={"country": cs.iso3s, "workload": inf_ids, "year": years},
                     dims=("country", "workload", "year")),
        xr.DataArray(users, coords={"country": cs.iso3s, "year": years},
                     dims=("country", "year")),
        pd.DataFrame(peaks, columns=["country", "workload", "peak_factor", "source"]),
        pd.DataFrame(detail),
        peak_factor,
    )


def rate_array(scenario: Scenario, adf: pd.DataFrame, wdf: pd.DataFrame,
               train_specs: list[tuple[str, float | None]]) -> tuple[xr.DataArray, list[str]]:
    """Tokens/s per accelerator (inference) and EFLOP per accelerator-year (training),
    with notes on what each workload's throughput was sized for."""
    accs = [get_accelerator(a) for a in adf.index]
    inf_ids = [w.id for w in scenario.workloads]
    efficiency = (scenario.serving_efficiency if scenario.serving_efficiency is not None
                  else _constant("stock_stack_efficiency"))
    rate = np.zeros((len(accs), len(wdf)))
    notes: list[str] = []
    mfu = _constant("mfu_default")
    # each workload's request shape (tokens per query) and latency targets: the throughput
    # is sized for the requests the demand model counts (country overrides of the shape
    # change demand, not the per-accelerator rate)
    shapes: list[dict[str, Any]] = []
    fleets: list[DemandAssumptions | None] = []
    # a workload on a usage profile is sized by the fleet engine (daulat size service): its
    # rate per *installed* accelerator includes latency per user, prefix-cache hits, expert
    # parallelism, headroom, failover and the research share (issue 10: one engine); the
    # request shape is the profile's in the plan's middle year
    fleet_year = scenario.years[len(scenario.years) // 2]
    for w in scenario.workloads:
        wa = _demand_assumptions({"model": w.model, **w.demand}, f"workloads[{w.id}]")
        if wa.usage_profile is not None and w.tpot_s:
            wa = wa.model_copy(update={"output_tokens_per_s_per_user": 1.0 / w.tpot_s})
        fleets.append(wa if wa.usage_profile is not None else None)
        shapes.append({
            "scenario": w.scenario or wa.scenario,
            "input_tokens": int(wa.input_tokens_per_query),
            "output_tokens": int(wa.output_tokens_per_query),
            "ttft_s": w.ttft_s, "tpot_s": w.tpot_s,
        })
    for i, a in enumerate(accs):
        for j, w in enumerate(scenario.workloads):
            try:
                fa = fleets[j]
                if fa is not None:
                    rate[i, j] = fleet_rate(w.model, a.id, fa, year=fleet_year,
                                            precision=w.precision, efficiency=efficiency)
                    continue
                sz = inference_throughput(w.model, a, precision=w.precision,
                                          efficiency=efficiency, **shapes[j])
                rate[i, j] = float(sz.tokens_per_s_per_accelerator)
            except UserError as exc:
                notes.append(f"{a.id} cannot serve {w.model}: {exc}")
        for j, (precision, t_mfu) in enumerate(train_specs, start=len(inf_ids)):
            tf = a.tflops.get(precision)
            if tf:
                rate[i, j] = tf * 1e12 * (t_mfu or mfu) * SECONDS_PER_YEAR / 1e18
    for w, shape, fa in zip(scenario.workloads, shapes, fleets, strict=True):
        if fa is not None:
            notes.append(f"{w.id}: fleet rate from the usage profile {fa.usage_profile!r} "
                         f"({fleet_year} request shape) at "
                         f"{fa.output_tokens_per_s_per_user or 'the default'} output tokens/s "
                         "per user, per installed accelerator (headroom, failover and research "
                         "share included; daulat size service).")
            continue
        notes.append(f"{w.id}: throughput sized for {shape['input_tokens']:,} input / "
                     f"{shape['output_tokens']:,} output tokens per query, "
                     f"{shape['scenario']} latency targets"
                     + (f" (TTFT {w.ttft_s:g} s)" if w.ttft_s else "")
                     + (f" (TPOT {w.tpot_s:g} s)" if w.tpot_s else "") + ".")
    return xr.DataArray(rate, coords={"accelerator": adf.index, "workload": wdf.index},
                        dims=("accelerator", "workload")), notes


def allowed_arrays(scenario: Scenario, cdf: pd.DataFrame, sdf: pd.DataFrame,
                   wdf: pd.DataFrame, decisions: dict[str, ResidencyDecision],
                   run_sites: dict[str, list[str]]
                   ) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    """(allowed[country, site, workload], train_allowed[site, workload], rtt_ms[country,
    site]): residency (one rule with the gateway) and the latency target of each workload."""
    iso3s = list(cdf.index)
    dist = great_circle_km(cdf["lat"].to_numpy()[:, None], cdf["lon"].to_numpy()[:, None],
                           sdf["lat"].to_numpy()[None, :], sdf["lon"].to_numpy()[None, :])
    rtt = xr.DataArray(latency_ms(dist), coords={"country": iso3s, "site": sdf.index},
                       dims=("country", "site"))
    site_country = sdf["country"].to_numpy()
    resid = np.array([[decisions[c].allows(str(sc)) for sc in site_country] for c in iso3s],
                     dtype=bool).reshape(len(iso3s), len(site_country))
    resid_da = xr.DataArray(resid, coords={"country": iso3s, "site": sdf.index},
                            dims=("country", "site"))
    inf_ids = [w.id for w in scenario.workloads]
    target = xr.DataArray([w.latency_ms for w in scenario.workloads],
                          coords={"workload": inf_ids}, dims="workload")
    allowed = (resid_da & (rtt <= target)).transpose("country", "site", "workload")
    train_ids = [w for w in wdf.index if wdf.loc[w, "kind"] == "training"]
    train_allowed = xr.DataArray(
        np.array([[s in run_sites[w] if w in run_sites else
                   bool(resid_da.sel(country=wdf.loc[w, "country"], site=s))
                   for w in train_ids] for s in sdf.index],
                 dtype=bool).reshape(len(sdf), len(train_ids)),
        coords={"site": sdf.index, "workload": train_ids}, dims=("site", "workload"))
    return allowed, train_allowed, rtt


def funder_arrays(scenario: Scenario) -> tuple[pd.DataFrame, xr.DataArray]:
    """``funders`` (kind, country, name, basis) and ``budget_usd[funder, year]``."""
    fdf = pd.DataFrame(
        {"kind": [f.kind for f in scenario.funders],
         "country": [f.country for f in scenario.funders],
         "name": [f.name or f.id for f in scenario.funders],
         "basis": [f.budget_basis for f in scenario.funders]},
        index=pd.Index([f.id for f in scenario.funders], name="funder"),
    )
    years = scenario.years
    budget = np.array([[np.nan if (b := f.budget_for(y)) is None else b for y in years]
                       for f in scenario.funders], dtype=float)
    return fdf, xr.DataArray(budget, coords={"funder": fdf.index, "year": years},
                             dims=("funder", "year"))


def commitment_array(scenario: Scenario) -> xr.DataArray | None:
    """``commitment_usd[funder, year]``: committed spend on the funder's basis (NaN: none);
    None when no funder commits anything."""
    if not any(f.committed_usd for f in scenario.funders):
        return None
    years = scenario.years
    outside = [f"funders[{f.id}].committed_usd {y}" for f in scenario.funders
               for y in f.committed_usd if y not in years]
    if outside:
        raise UserError(f"{'; '.join(outside)}: outside the horizon {years[0]}-{years[-1]}")
    values = np.array([[np.nan if (c := f.commitment_for(y)) is None else c for y in years]
                       for f in scenario.funders], dtype=float)
    return xr.DataArray(values, coords={"funder": [f.id for f in scenario.funders],
                                        "year": years}, dims=("funder", "year"))


def prepare(scenario: Scenario) -> PlanData:
    """Gather every input of the model for ``scenario`` (catalog, sizing, residency)."""
    cs = select_countries(scenario)
    decisions = {c: residency_decision(scenario, c) for c in cs.iso3s}
    cdf = country_table(scenario, cs, decisions)
    adf = accelerator_table(scenario)
    sdf = site_table(scenario, cs)
    wdf, train_specs, run_sites = workload_table(scenario, cs, set(sdf.index))
    demand = demand_arrays(scenario, cs)
    rate, notes = rate_array(scenario, adf, wdf, train_specs)
    allowed, train_allowed, rtt = allowed_arrays(scenario, cdf, sdf, wdf, decisions, run_sites)
    fdf, budget = funder_arrays(scenario)

    obj = scenario.objective
    rules = scenario.rules
    tokens_per_tps_year = SECONDS_PER_YEAR / demand.peak_factor
    facility = _constant("facility_capex_usd_per_mw")
    return PlanData(
        years=scenario.years, countries=cdf, sites=sdf, accelerators=adf, workloads=wdf,
        funders=fdf, demand_tps=demand.tokens_per_s, users=demand.users, rate=rate,
        allowed=allowed, train_allowed=train_allowed, rtt_ms=rtt, budget_usd=budget,
        facility_usd_per_mw=facility,
        facility_opex_usd_per_mw_year=facility * _constant("facility_om_share_per_year")
        + _constant("staff_per_facility_mw") * _constant("staff_cost_usd_per_fte"),
        accelerator_life_years=int(_constant("depreciation_years_systems")),
        accelerator_life_source="catalog constant depreciation_years_systems: "
                                f"{constants()['depreciation_years_systems'].source}",
        load_factor=_constant("load_factor"),
        discount_rate=scenario.finance.discount_rate,
        objective=obj.kind,
        unmet_usd_per_tps_year=obj.unmet_penalty_usd_per_million_tokens * tokens_per_tps_year / 1e6,
        unmet_training_usd_per_eflop=obj.unmet_training_penalty_usd_per_pflop * 1e3,
        value_of_access_usd_per_person_year=obj.value_of_access_usd_per_person_year,
        commitment_usd=commitment_array(scenario),
        schedule_mw=schedule_array(scenario, cs),
        revenue=revenue_inputs(zip(cdf.index.astype(str), cdf["income_group"].fillna("")
                                   .astype(str), strict=True)),
        min_government_share=rules.min_government_share,
        max_provider_share=rules.max_provider_share,
        min_served_share=rules.min_served_share,
        portfolio_max_countries=rules.portfolio_max_countries,
        site_fixed_cost_usd=rules.site_fixed_cost_usd,
        site_min_mw=rules.site_min_mw,
        whole_systems=rules.whole_systems,
        whole_systems_integer_max=rules.whole_systems_integer_max,
        origin_caps=[OriginCap(r.country, r.origin, r.max_share) for r in rules.origin],
        latency_target_ms={w.id: w.latency_ms for w in scenario.workloads},
        currency=scenario.finance.currency,
        price_year=scenario.finance.price_year,
        notes=notes,
        residency={c: _rule_text(d) for c, d in decisions.items()},
        peak_factors=demand.peak_factors,
        demand_detail=demand.detail,
    )
