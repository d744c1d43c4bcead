"""Demand and the country sizing: formula, defaults, monotone in users."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daulat.sizing import DemandAssumptions, adoption, country_assistant, demand, demand_for
from daulat.sizing.demand import size_demand


def test_demand_formula_hand_checked() -> None:
    a = DemandAssumptions(queries_per_user_day=4, output_tokens_per_query=500, peak_factor=2.0,
                          usage_profile=None)
    d = demand_for("XXX", 10_000_000, 0.5, 2030, a)
    users = 10_000_000 * 0.5 * adoption(2030, a)
    assert d.users == pytest.approx(users)
    assert d.peak_output_tokens_per_s == pytest.approx(users * 4 * 500 / 86400 * 2.0)


def test_adoption_rises_and_is_bounded() -> None:
    a = DemandAssumptions()
    assert 0 < adoption(2024, a) < adoption(2028, a) < adoption(2035, a) <= a.adoption_cap


def test_country_from_catalog() -> None:
    d = demand("IDN", 2027)
    assert d.population > 200_000_000 and 0 < d.internet_share <= 1
    r = country_assistant("IDN", 2027)
    assert r.accelerators > 0 and r.facility_mw > 0 and r.capex_usd > 0
    assert r.assumptions.model_mix == "national-assistant"
    assert {m.model for m in r.models} == {"assistant-frontier", "gpt-oss-120b"}


@settings(max_examples=30, deadline=None)
@given(
    u1=st.integers(min_value=0, max_value=500_000_000),
    u2=st.integers(min_value=0, max_value=500_000_000),
)
def test_more_users_never_fewer_accelerators(u1: int, u2: int) -> None:
    a = DemandAssumptions()
    lo, hi = sorted((u1, u2))
    small = size_demand(demand_for("XXX", lo, 1.0, 2030, a), a)
    big = size_demand(demand_for("XXX", hi, 1.0, 2030, a), a)
    assert big.accelerators >= small.accelerators
    assert big.facility_mw >= small.facility_mw


def test_profiles_fill_queries_and_tokens_unless_given() -> None:
    from daulat.sizing.demand import PROFILES

    chat, reasoning = DemandAssumptions(), DemandAssumptions(profile="reasoning")
    assert chat.profile == "chat" and chat.queries_per_user_day == 3.5
    assert (chat.input_tokens_per_query, chat.output_tokens_per_query) == (1000, 400)
    assert reasoning.output_tokens_per_query == 10 * chat.output_tokens_per_query
    agentic = DemandAssumptions(profile="agentic", queries_per_user_day=5)
    assert agentic.queries_per_user_day == 5  # an explicit value wins over the profile
    assert agentic.input_tokens_per_query == PROFILES["agentic"].input_tokens_per_query
    for p in PROFILES.values():
        assert p.basis  # every profile says where its figures come from


def test_explicit_per_query_fields_select_the_older_arithmetic() -> None:
    # a scenario that says `profile: chat` or gives queries per day gets exactly that, not
    # the usage profile silently
    assert DemandAssumptions().usage_profile == "assistant"
    assert DemandAssumptions(profile="chat").usage_profile is None
    assert DemandAssumptions(queries_per_user_day=5).usage_profile is None
    both = DemandAssumptions(profile="chat", usage_profile="assistant")
    assert both.usage_profile == "assistant"


def test_institutional_share_adds_demand_on_top_of_consumers() -> None:
    base = demand_for("XXX", 10_000_000, 0.5, 2030, DemandAssumptions(usage_profile=None))
    more = demand_for("XXX", 10_000_000, 0.5, 2030,
                      DemandAssumptions(institutional_share=0.5, usage_profile=None))
    assert more.users == pytest.approx(base.users)  # same people, more use
    assert more.peak_output_tokens_per_s == pytest.approx(1.5 * base.peak_output_tokens_per_s)


def test_agentic_use_needs_far_more_compute_per_user_than_chat() -> None:
    c = DemandAssumptions(usage_profile=None)
    chat = size_demand(demand_for("XXX", 10_000_000, 1.0, 2030, c), c)
    a = DemandAssumptions(profile="agentic", usage_profile=None)
    agents = size_demand(demand_for("XXX", 10_000_000, 1.0, 2030, a), a)
    assert agents.accelerators > 20 * chat.accelerators
    # an agent's token also costs more than a chat token (long contexts read per step)
    token_ratio = agents.peak_tokens_per_s / chat.peak_tokens_per_s
    assert agents.accelerators / chat.accelerators > 2 * token_ratio


def test_frontier_training_follows_the_epoch_trend() -> None:
    from daulat.sizing.demand import frontier_training_flop

    assert frontier_training_flop(2025) == pytest.approx(5e26)
    assert frontier_training_flop(2029) == pytest.approx(5e26 * 4.5**4)
    assert 1e29 < frontier_training_flop(2029) < 3e29  # Epoch: ~2e29 feasible by 2030
