"""Facility power, energy, carbon and cost: hand-checked and monotone in PUE."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daulat.catalog.constants import constant
from daulat.errors import UserError
from daulat.sizing import accelerator_capex_usd, facility, it_kw_per_accelerator, training


def test_it_kw_from_nameplate_plus_network_share() -> None:
    share = constant("network_storage_power_share")
    assert it_kw_per_accelerator("H100-SXM") == pytest.approx(10.2 / 8 * (1 + share))
    assert it_kw_per_accelerator("GB200") == pytest.approx(120 / 72 * (1 + share))


def test_facility_hand_checked() -> None:
    f = facility("H100-SXM", 1000, pue=1.3, power_price_usd_per_mwh=100.0, load_factor=0.5)
    it_mw = 1000 * 10.2 / 8 * (1 + constant("network_storage_power_share")) / 1000
    assert f.it_mw == pytest.approx(it_mw)
    assert f.facility_mw == pytest.approx(it_mw * 1.3)
    assert f.annual_energy_mwh == pytest.approx(it_mw * 1.3 * 8760 * 0.5)
    assert f.annual_opex_breakdown_usd["energy"] == pytest.approx(f.annual_energy_mwh * 100.0)
    # shell $11.7M + 12.5 % soft costs + land $0.234M + grid connection $0.72M per MW IT
    assert f.capex_breakdown_usd["facility"] == pytest.approx(it_mw * (11.7e6 * 1.125 + 954e3))
    assert f.capex_breakdown_usd["systems"] == pytest.approx(1000 * 33750)
    assert f.capex_usd == pytest.approx(sum(f.capex_breakdown_usd.values()))
    assert set(f.capex_breakdown_usd) == {"systems", "network", "storage", "facility"}


def test_accelerator_capex_includes_network_share() -> None:
    assert accelerator_capex_usd("B200") == pytest.approx(
        43050 * (1 + constant("network_capex_share") + constant("storage_capex_share"))
    )


def test_country_grid_intensity_gives_emissions() -> None:
    f = facility("GB200", 720, country="IDN")
    assert f.grid_gco2_per_kwh is not None and f.annual_emissions_tco2 is not None
    assert f.annual_emissions_tco2 == pytest.approx(
        f.annual_energy_mwh * f.grid_gco2_per_kwh / 1000
    )


def test_bad_pue_names_field() -> None:
    with pytest.raises(UserError, match="pue"):
        facility("GB200", 72, pue=0.9)


@settings(max_examples=40, deadline=None)
@given(
    p1=st.floats(min_value=1.0, max_value=3.0),
    p2=st.floats(min_value=1.0, max_value=3.0),
    n=st.integers(min_value=0, max_value=100_000),
)
def test_higher_pue_never_less_facility_power(p1: float, p2: float, n: int) -> None:
    lo, hi = sorted((p1, p2))
    assert facility("B200", n, pue=hi).facility_mw >= facility("B200", n, pue=lo).facility_mw


def test_training_hand_checked_llama_405b() -> None:
    t = training(
        model="llama-3.1-405b", tokens=15.6e12, accelerator="H100-SXM", mfu=0.4, count=16384
    )
    flops = 6 * 405.85e9 * 15.6e12
    assert t.flops == pytest.approx(flops)
    assert t.accelerator_hours == pytest.approx(flops / (989.4e12 * 0.4) / 3600)
    assert t.days == pytest.approx(t.accelerator_hours / 16384 / 24)


def test_training_default_mfu_reproduces_the_calibration_run() -> None:
    t = training(model="llama-3.1-405b", tokens=15.6e12, accelerator="H100-SXM")
    assert t.accelerator_hours == pytest.approx(30.84e6, rel=0.01)


def test_training_deadline_gives_cluster_size() -> None:
    t = training(params_b=70, tokens=2e12, accelerator="B200", deadline_days=30)
    assert t.accelerators_for_deadline is not None
    assert t.accelerators_for_deadline * 30 * 24 >= t.accelerator_hours
