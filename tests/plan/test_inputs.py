"""Scenario -> model inputs: residency from packs, sensitivity knobs, latency model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from daulat.catalog.constants import constants
from daulat.plan.inputs import latency_ms, prepare
from daulat.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def indonesia():  # type: ignore[no-untyped-def]
    return load_scenario(ROOT / "examples" / "indonesia.yaml")


def test_indonesia_inputs_keep_every_pair_at_home(indonesia) -> None:  # type: ignore[no-untyped-def]
    data = prepare(indonesia)
    assert set(data.sites["country"]) == {"IDN"}
    assert {"idn-batam-nongsa", "idn-jakarta-jc4", "idn-surabaya"} <= set(data.sites.index)
    assert bool(data.allowed.all())  # every Indonesian site is within 150 ms of Jakarta
    assert data.training == ["national-model"]
    assert data.workloads.loc["national-model", "required_eflop"] == pytest.approx(
        6 * 70e9 * 10e12 / 1e18)
    assert (data.rate.sel(workload="assistant") > 0).all()


def test_sensitivity_knobs_move_the_inputs(indonesia) -> None:  # type: ignore[no-untyped-def]
    base = prepare(indonesia)
    knobs = indonesia.sensitivity.model_copy(update={
        "adoption_factor": 2.0, "accelerator_price_factor": 1.5, "power_price_factor": 0.5,
        "delay_years": 1})
    moved = prepare(indonesia.model_copy(update={"sensitivity": knobs}))
    np.testing.assert_allclose(moved.demand_tps.values, 2 * base.demand_tps.values)
    np.testing.assert_allclose(moved.accelerators["capex_usd"],
                               1.5 * base.accelerators["capex_usd"])
    np.testing.assert_allclose(moved.sites["power_price_usd_per_mwh"],
                               0.5 * base.sites["power_price_usd_per_mwh"])
    assert (moved.sites["earliest_year"] == base.sites["earliest_year"] + 1).all()


def test_latency_model_is_round_trip_over_inflated_fibre() -> None:
    # 1000 km: 2 x 1000 x 2.0 / 204 190 km/s = 19.6 ms (catalog route_inflation, fibre
    # speed) + the catalog's fixed term (access network, processing)
    fixed = constants()["latency_fixed_ms"].value if "latency_fixed_ms" in constants() else 0.0
    assert float(latency_ms(1000.0)) == pytest.approx(2 * 1000 * 2.0 / 204190 * 1000 + fixed,
                                                      rel=0.05)


def test_relaxing_residency_opens_pairs_abroad(indonesia) -> None:  # type: ignore[no-untyped-def]
    doc = indonesia.model_copy(update={
        "countries": [*indonesia.countries, indonesia.countries[0].model_copy(
            update={"iso3": "MYS", "training": None})]})
    data = prepare(doc)
    at_home = bool(data.allowed.sel(country="IDN", site="mys-johor-kulai").any())
    relaxed = data.with_residency_relaxed()
    assert not at_home
    assert bool(relaxed.allowed.sel(country="IDN", site="mys-johor-kulai").any())


def test_throughput_is_sized_for_each_workloads_own_request_shape(  # type: ignore[no-untyped-def]
        indonesia) -> None:
    from daulat.sizing import inference_throughput

    long = indonesia.workloads[0].model_copy(update={
        "demand": {"input_tokens_per_query": 3000, "output_tokens_per_query": 4000},
        "scenario": "interactive"})
    data = prepare(indonesia.model_copy(update={"workloads": [long]}))
    want = inference_throughput(indonesia.workloads[0].model, "B200", scenario="interactive",
                                efficiency=data_efficiency(indonesia),
                                input_tokens=3000, output_tokens=4000)
    got = float(data.rate.sel(accelerator="B200", workload="assistant"))
    assert got == pytest.approx(want.tokens_per_s_per_accelerator)
    default = float(prepare(indonesia).rate.sel(accelerator="B200", workload="assistant"))
    assert got != pytest.approx(default)
    assert any("3,000 input / 4,000 output" in n for n in data.notes)


def data_efficiency(scenario):  # type: ignore[no-untyped-def]
    from daulat.catalog.constants import constant

    return scenario.serving_efficiency or constant("stock_stack_efficiency")


def test_a_country_without_a_pack_is_served_only_at_home_unless_the_scenario_says(  # type: ignore[no-untyped-def]
        indonesia) -> None:
    phl = indonesia.countries[0].model_copy(update={"iso3": "PHL", "training": None})
    doc = indonesia.model_copy(update={"countries": [*indonesia.countries, phl]})
    data = prepare(doc)
    site_country = data.sites["country"]
    phl_ok = data.allowed.sel(country="PHL").any("workload").to_series()
    assert set(site_country[phl_ok[phl_ok].index]) == {"PHL"}  # fail closed: no pack
    assert data.countries.loc["PHL", "residency_basis"] == "no_pack"
    # the scenario's explicit default for pack-less countries opens the pairs abroad
    rules = doc.rules.model_copy(update={"default_residency": "any"})
    opened = prepare(doc.model_copy(update={"rules": rules}))
    phl_any = opened.allowed.sel(country="PHL").any("workload").to_series()
    assert "IDN" in set(site_country[phl_any[phl_any].index])
    assert opened.countries.loc["PHL", "residency_basis"] == "scenario"
    assert "default_residency" in opened.countries.loc["PHL", "residency_source"]
    # ... but never for a country whose pack speaks (IDN stays at home)
    idn_any = opened.allowed.sel(country="IDN").any("workload").to_series()
    assert set(site_country[idn_any[idn_any].index]) == {"IDN"}
