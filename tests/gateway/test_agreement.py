"""Planner and gateway agree on residency: for every shipped pack, countries without one and
explicit overrides, the (country, site-country) pairs the planner allows equal the upstream
jurisdictions the gateway's router permits. Both sides go through their own code path
(``daulat.plan.inputs.residency_decision``; the gateway's ``PolicyRegistry`` and ``Router``),
which both call :mod:`daulat.policy.residency`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daulat.gateway.app import Gateway
from daulat.gateway.config import GatewayConfig
from daulat.plan.inputs import residency_decision
from daulat.policy.pack import list_packs, load_pack
from daulat.scenario.load import load_scenario
from daulat.store import Store

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NO_PACK = ["NGA", "CHL", "EGY", "VNM"]  # no pack shipped: in country only unless configured
# Every jurisdiction any pack names, plus the countries above: one upstream in each.
JURISDICTIONS = sorted(
    {j for c in list_packs() for j in load_pack(c).residency.jurisdictions}
    | set(list_packs()) | set(NO_PACK) | {"CAN", "ZAF"})
OVERRIDES: dict[str, Any] = {
    "IDN": ["SGP", "MYS"],  # a pack country opened to two neighbours
    "DEU": "in_country",    # an EEA pack narrowed to home
    "NGA": "any",           # a no-pack country opened explicitly
    "CHL": ["ARG", "BRA"],
}


def _planner(overrides: dict[str, Any]) -> dict[str, set[str]]:
    scenario = load_scenario(EXAMPLES / "indonesia.yaml")
    rules = scenario.rules.model_copy(update={"residency": dict(overrides),
                                              "default_residency": None})
    scenario = scenario.model_copy(update={"rules": rules})
    out = {}
    for c in [*list_packs(), *NO_PACK]:
        decision = residency_decision(scenario, c)
        out[c] = {j for j in JURISDICTIONS if decision.allows(j)}
    return out


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'agree.db'}")
    s.migrate()
    yield s
    s.dispose()


def _gateway(store: Store, overrides: dict[str, Any]) -> dict[str, set[str]]:
    cfg = GatewayConfig.model_validate({
        "local_model": {"enabled": False},
        "residency": overrides,
        "upstreams": [{"name": f"up-{j.lower()}", "url": "http://127.0.0.1:9/v1",
                       "jurisdiction": j} for j in JURISDICTIONS]})
    gateway = Gateway(cfg, store)
    return {c: {r.jurisdiction for r in gateway.router.permitted(c)}
            for c in [*list_packs(), *NO_PACK]}


@pytest.mark.parametrize("overrides", [{}, OVERRIDES], ids=["packs", "overrides"])
def test_planner_and_gateway_allow_the_same_places(store: Store,
                                                   overrides: dict[str, Any]) -> None:
    planner, gateway = _planner(overrides), _gateway(store, overrides)
    assert planner == gateway
    for c in NO_PACK:  # fail closed where nothing says otherwise
        if c not in overrides:
            assert gateway[c] == {c}
    for c, allowed in planner.items():
        assert c in allowed  # home always allowed, on both sides
    if overrides:
        assert gateway["IDN"] == {"IDN", "SGP", "MYS"} and gateway["DEU"] == {"DEU"}
        assert gateway["NGA"] == set(JURISDICTIONS)
    else:
        assert gateway["IDN"] == {"IDN"} and "FRA" in gateway["DEU"]
