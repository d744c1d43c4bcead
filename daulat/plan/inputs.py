"""Turn a :class:`~daulat.scenario.Scenario` into :class:`~daulat.plan.data.PlanData`.

This is the only module of the planner that reads the catalog (countries, sites,
accelerators, constants), the sizing model (demand, throughput, IT kW and capex per
accelerator) and the policy packs (residency). The model itself sees only arrays.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from daulat.catalog.sites import Site
from daulat.errors import UserError
from daulat.plan.data import SECONDS_PER_YEAR, OriginCap, PlanData
from daulat.scenario.schema import ResidencyRule, Scenario

__all__ = ["latency_ms", "prepare", "residency_rule"]

#: Mean Earth radius, km (IUGG mean radius R1 = 6371.0088 km; Moritz 2000, Geodetic
#: Reference System 1980) — for great-circle distances.
EARTH_RADIUS_KM = 6371.0088
_EXISTING = ("operational", "under_construction", "announced")


def _constant(name: str, default: float | None = None) -> float:
    from daulat.catalog.constants import constant, constants

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


def residency_rule(scenario: Scenario, iso3: str) -> ResidencyRule:
    """The residency rule of ``iso3``: the scenario's override, else its policy pack."""
    if iso3 in scenario.rules.residency:
        return scenario.rules.residency[iso3]
    try:
        from daulat.policy import load_pack

        pack = load_pack(iso3)
        mode = pack.residency.mode
        if mode == "jurisdictions":
            return [str(j).upper() for j in pack.residency.jurisdictions]
        return mode  # type: ignore[no-any-return]
    except (ImportError, AttributeError, UserError, FileNotFoundError, KeyError):
        return scenario.rules.default_residency or "in_country"


def _allows(rule: ResidencyRule, home: str, where: str) -> bool:
    if rule == "any":
        return True
    if rule == "in_country":
        return where == home
    return where == home or where in rule


def _scenario_sites(scenario: Scenario, iso3s: list[str]) -> list[Site]:
    """The scenario's sites (catalog, candidates, inline) as catalog records, MW NaN → None."""
    from daulat.catalog import sites as cat_sites

    out: dict[str, Site] = {}
    spec = scenario.sites
    wanted = set(iso3s)

    def add(s: Any) -> None:
        out[s.id] = Site(s.id, s.name, s.country, float(s.lat), float(s.lon), s.status,
                         None if s.power_mw is None or (isinstance(s.power_mw, float)
                                                        and math.isnan(s.power_mw))
                         else float(s.power_mw),
                         int(s.earliest_year), float(s.programme_share),
                         source=getattr(s, "source", "scenario (inline site)"))

    if spec.catalog != "none":
        known = {s.id: s for s in cat_sites.load_sites()}
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
    if spec.include:
        known_all = {s.id: s for s in cat_sites.load_sites()}
        for sid in spec.include:
            if sid not in known_all:
                raise UserError(f"sites.include: unknown site id {sid!r}; valid: ids of "
                                "`daulat catalog sites` (e.g. stargate-abilene)")
            add(known_all[sid])
    for inline in spec.inline:
        add(inline)
    for sid in spec.exclude:
        out.pop(sid, None)
    return list(out.values())


def _demand_assumptions(overrides: dict[str, Any]) -> Any:
    from daulat.sizing import DemandAssumptions

    try:
        return DemandAssumptions(**overrides)
    except Exception as exc:  # pydantic.ValidationError; names the field
        raise UserError(f"scenario demand assumptions: {exc}; valid fields: "
                        f"{', '.join(DemandAssumptions.model_fields)}") from None


def _per_accelerator(acc: Any) -> tuple[float, float]:
    """(IT kW, capex USD) per accelerator from the sizing model."""
    from daulat import sizing

    return float(sizing.it_kw_per_accelerator(acc)), float(sizing.accelerator_capex_usd(acc))


def prepare(scenario: Scenario) -> PlanData:
    """Gather every input of the model for ``scenario`` (catalog, sizing, policy)."""
    from daulat.catalog.accelerators import get_accelerator, load_accelerators
    from daulat.catalog.countries import load_countries
    from daulat.sizing import demand_for, inference_throughput

    sens = scenario.sensitivity
    years = scenario.years
    catalog = load_countries()
    if scenario.countries == "all":
        specs = {}
        iso3s = sorted(c for c, v in catalog.items() if v.population > 0)
    else:
        specs = {c.iso3: c for c in scenario.countries}
        iso3s = [c.iso3 for c in scenario.countries]
    countries = [catalog[c] for c in iso3s]

    # ---- countries
    weights = scenario.objective.weights
    cdf = pd.DataFrame(
        {
            "name": [c.name for c in countries],
            "income_group": [c.income_group for c in countries],
            "internet_share": [c.internet_share for c in countries],
            "lat": [c.lat for c in countries],
            "lon": [c.lon for c in countries],
            "weight": [
                specs[c.iso3].weight if c.iso3 in specs and specs[c.iso3].weight is not None
                else weights.income.get(c.income_group, 1.0)  # type: ignore[call-overload]
                * (1 + weights.connectivity * (1 - c.internet_share))
                for c in countries
            ],
            "population": [c.population for c in countries],
        },
        index=pd.Index(iso3s, name="country"),
    )

    # ---- accelerators
    if scenario.accelerators == "all":
        accs = list(load_accelerators().values())
    else:
        accs = [get_accelerator(a) for a in scenario.accelerators]
    maintenance = _constant("maintenance_share_per_year")
    efficiency = (scenario.serving_efficiency if scenario.serving_efficiency is not None
                  else _constant("stock_stack_efficiency"))
    per_acc = [_per_accelerator(a) for a in accs]
    adf = pd.DataFrame(
        {
            "origin": [a.origin for a in accs],
            "capex_usd": [p[1] * sens.accelerator_price_factor for p in per_acc],
            "it_kw": [p[0] for p in per_acc],
            "first_year": [a.first_year for a in accs],
            "opex_usd_per_year": [p[1] * sens.accelerator_price_factor * maintenance
                                  for p in per_acc],
            "vendor": [a.vendor for a in accs],
            "system_gpus": [max(int(a.system_gpus), 1) for a in accs],
        },
        index=pd.Index([a.id for a in accs], name="accelerator"),
    )

    # ---- sites
    sites = _scenario_sites(scenario, iso3s)
    if not sites:
        raise UserError(
            f"scenario '{scenario.name}': no sites to plan on — set sites.catalog, "
            "sites.candidates_per_country > 0 or sites.inline (docs/scenario.md)"
        )
    pue = scenario.pue if scenario.pue is not None else _constant("pue_liquid")
    default_mw = scenario.sites.default_power_mw
    if default_mw is None:
        from daulat.catalog.sites import site_defaults

        default_mw = site_defaults()["candidate_power_mw"][0]
    rows = []
    for s in sites:
        limit = scenario.sites.power_mw.get(s.id, s.power_mw if s.power_mw else default_mw)
        existing = limit * s.programme_share if s.status in _EXISTING else 0.0
        if s.status in _EXISTING:
            limit = existing
        home = catalog.get(s.country)
        spec = specs.get(s.country)
        price = (spec.power_price_usd_per_mwh if spec and spec.power_price_usd_per_mwh
                 else home.power_price_usd_per_mwh if home else
                 _constant("power_price_usd_per_mwh_default"))
        rows.append({
            "site": s.id, "name": s.name, "country": s.country,
            "country_name": home.name if home else s.country, "lat": s.lat, "lon": s.lon,
            "status": s.status, "power_limit_mw": float(limit), "existing_mw": float(existing),
            "earliest_year": s.earliest_year + sens.delay_years, "pue": pue,
            "power_price_usd_per_mwh": price * sens.power_price_factor,
            "grid_gco2_per_kwh": (home.grid_gco2_per_kwh if home and home.grid_gco2_per_kwh
                                  is not None else np.nan),
            "new": s.status not in _EXISTING,
        })
    sdf = pd.DataFrame(rows).set_index("site")

    # ---- workloads: inference (every country) and training (per country)
    inf_ids = [w.id for w in scenario.workloads]
    trainings = [(c, specs[c].training) for c in iso3s if c in specs and specs[c].training]
    wrows = [{"workload": w.id, "kind": "inference", "country": None, "required_eflop": 0.0,
              "deadline_year": 0, "start_year": 0, "model": w.model}
             for w in scenario.workloads]
    # (precision, mfu) of each training run, in workload order
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
    site_ids = set(sdf.index)
    run_sites: dict[str, list[str]] = {}
    for pt in scenario.training:
        unknown = [x for x in pt.sites if x not in site_ids]
        if unknown:
            raise UserError(f"training[{pt.id}].sites: {', '.join(unknown)} not among the "
                            f"plan's sites; valid: {', '.join(sorted(site_ids)[:12])}, … "
                            "(add catalog ids with sites.include)")
        run_sites[pt.id] = list(pt.sites) or list(sdf.index)
        wrows.append({"workload": pt.id, "kind": "training", "country": None,
                      "required_eflop": pt.required_flop() / 1e18,
                      "deadline_year": pt.deadline_year + sens.delay_years,
                      "start_year": (pt.start_year or 0) + (sens.delay_years
                                                             if pt.start_year else 0),
                      "model": f"{pt.required_flop():.1e} FLOP"})
        train_specs.append((pt.precision, pt.mfu))
    wdf = pd.DataFrame(wrows).set_index("workload")
    if wdf.index.duplicated().any():
        raise UserError("workloads: a training id equals an inference workload id — rename "
                        "countries[].training.id or workloads[].id")

    # ---- demand per (country, workload, year)
    dem = np.zeros((len(iso3s), len(inf_ids), len(years)))
    users = np.zeros((len(iso3s), len(years)))
    peak_factor = 1.0
    for j, w in enumerate(scenario.workloads):
        for i, c in enumerate(countries):
            overrides = {"model": w.model, **w.demand,
                         **(specs[c.iso3].demand if c.iso3 in specs else {})}
            assumptions = _demand_assumptions(overrides)
            peak_factor = float(getattr(assumptions, "peak_factor", 1.0) or 1.0)
            for k, year in enumerate(years):
                d = demand_for(c.iso3, c.population, c.internet_share, year, assumptions)
                dem[i, j, k] = d.peak_output_tokens_per_s * sens.adoption_factor
                users[i, k] = max(users[i, k], d.users * sens.adoption_factor)
    demand = xr.DataArray(dem, coords={"country": iso3s, "workload": inf_ids, "year": years},
                          dims=("country", "workload", "year"))
    users_da = xr.DataArray(users, coords={"country": iso3s, "year": years},
                            dims=("country", "year"))

    # ---- rates: tokens/s per accelerator (inference), EFLOP per accelerator-year (training)
    rate = np.zeros((len(accs), len(wdf)))
    notes: list[str] = []
    mfu = _constant("mfu_default")
    # each workload's request shape (tokens per query) and latency targets: the throughput
    # is sized for the requests the demand model counts (country overrides of the shape
    # change demand, not the per-accelerator rate)
    shapes: list[dict[str, Any]] = []
    for w in scenario.workloads:
        wa = _demand_assumptions({"model": w.model, **w.demand})
        shapes.append({
            "scenario": w.scenario or wa.scenario,
            "input_tokens": int(wa.input_tokens_per_query),
            "output_tokens": int(wa.output_tokens_per_query),
            "ttft_s": w.ttft_s, "tpot_s": w.tpot_s,
        })
    for i, a in enumerate(accs):
        for j, w in enumerate(scenario.workloads):
            try:
                sz = inference_throughput(w.model, a, precision=w.precision,
                                          efficiency=efficiency, **shapes[j])
                rate[i, j] = float(sz.tokens_per_s_per_accelerator)
            except UserError as exc:
                notes.append(f"{a.id} cannot serve {w.model}: {exc}")
        for j, (precision, t_mfu) in enumerate(train_specs, start=len(inf_ids)):
            tf = a.tflops.get(precision)
            if tf:
                rate[i, j] = tf * 1e12 * (t_mfu or mfu) * SECONDS_PER_YEAR / 1e18
    for w, shape in zip(scenario.workloads, shapes, strict=True):
        notes.append(f"{w.id}: throughput sized for {shape['input_tokens']:,} input / "
                     f"{shape['output_tokens']:,} output tokens per query, "
                     f"{shape['scenario']} latency targets"
                     + (f" (TTFT {w.ttft_s:g} s)" if w.ttft_s else "")
                     + (f" (TPOT {w.tpot_s:g} s)" if w.tpot_s else "") + ".")
    rate_da = xr.DataArray(rate, coords={"accelerator": adf.index, "workload": wdf.index},
                           dims=("accelerator", "workload"))

    # ---- residency and latency
    dist = great_circle_km(cdf["lat"].to_numpy()[:, None], cdf["lon"].to_numpy()[:, None],
                           sdf["lat"].to_numpy()[None, :], sdf["lon"].to_numpy()[None, :])
    rtt = xr.DataArray(latency_ms(dist), coords={"country": iso3s, "site": sdf.index},
                       dims=("country", "site"))
    site_country = sdf["country"].to_numpy()
    rules = {c: residency_rule(scenario, c) for c in iso3s}
    resid = np.array([[_allows(rules[c], c, sc) for sc in site_country] for c in iso3s]) \
        if len({str(r) for r in rules.values()}) > 1 or rules[iso3s[0]] != "in_country" \
        else (np.asarray(iso3s)[:, None] == site_country[None, :])
    resid_da = xr.DataArray(resid, coords={"country": iso3s, "site": sdf.index},
                            dims=("country", "site"))
    target = xr.DataArray([w.latency_ms for w in scenario.workloads],
                          coords={"workload": inf_ids}, dims="workload")
    allowed = (resid_da & (rtt <= target)).transpose("country", "site", "workload")
    train_ids = [w for w in wdf.index if wdf.loc[w, "kind"] == "training"]
    train_allowed = xr.DataArray(
        np.array([[s in run_sites[w] if w in run_sites else
                   bool(resid_da.sel(country=wdf.loc[w, "country"], site=s))
                   for w in train_ids] for s in sdf.index]).reshape(len(sdf), len(train_ids)),
        coords={"site": sdf.index, "workload": train_ids}, dims=("site", "workload"))

    # ---- funders and budgets
    fdf = pd.DataFrame(
        {"kind": [f.kind for f in scenario.funders],
         "country": [f.country for f in scenario.funders],
         "name": [f.name or f.id for f in scenario.funders],
         "basis": [f.budget_basis for f in scenario.funders]},
        index=pd.Index([f.id for f in scenario.funders], name="funder"),
    )
    budget = np.array([[np.nan if (b := f.budget_for(y)) is None else b for y in years]
                       for f in scenario.funders], dtype=float)
    budget_da = xr.DataArray(budget, coords={"funder": fdf.index, "year": years},
                             dims=("funder", "year"))

    obj = scenario.objective
    tokens_per_tps_year = SECONDS_PER_YEAR / peak_factor
    facility = _constant("facility_capex_usd_per_mw")
    return PlanData(
        years=years, countries=cdf, sites=sdf, accelerators=adf, workloads=wdf, funders=fdf,
        demand_tps=demand, users=users_da, rate=rate_da, allowed=allowed,
        train_allowed=train_allowed, rtt_ms=rtt, budget_usd=budget_da,
        facility_usd_per_mw=facility,
        facility_opex_usd_per_mw_year=facility * _constant("facility_om_share_per_year")
        + _constant("staff_per_facility_mw") * _constant("staff_cost_usd_per_fte"),
        accelerator_life_years=int(_constant("depreciation_years_systems")),
        load_factor=_constant("load_factor"),
        discount_rate=scenario.finance.discount_rate,
        objective=obj.kind,
        unmet_usd_per_tps_year=obj.unmet_penalty_usd_per_million_tokens * tokens_per_tps_year / 1e6,
        unmet_training_usd_per_eflop=obj.unmet_training_penalty_usd_per_pflop * 1e3,
        value_of_access_usd_per_person_year=obj.value_of_access_usd_per_person_year,
        min_government_share=scenario.rules.min_government_share,
        max_provider_share=scenario.rules.max_provider_share,
        min_served_share=scenario.rules.min_served_share,
        portfolio_max_countries=scenario.rules.portfolio_max_countries,
        site_fixed_cost_usd=scenario.rules.site_fixed_cost_usd,
        site_min_mw=scenario.rules.site_min_mw,
        whole_systems=scenario.rules.whole_systems,
        whole_systems_integer_max=scenario.rules.whole_systems_integer_max,
        origin_caps=[OriginCap(r.country, r.origin, r.max_share) for r in scenario.rules.origin],
        latency_target_ms={w.id: w.latency_ms for w in scenario.workloads},
        currency=scenario.finance.currency,
        price_year=scenario.finance.price_year,
        notes=notes,
        residency={c: (r if isinstance(r, str) else ",".join(r)) for c, r in rules.items()},
    )
