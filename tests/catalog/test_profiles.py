"""Usage profiles, fleet factors and model mixes: every figure sourced or a ranged ASSUMPTION."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from daulat.catalog.profiles import (
    KINDS,
    daily_load,
    fleet_factors,
    list_profiles,
    load_profiles,
    model_mixes,
    profile_figure,
)
from daulat.cli import app
from daulat.errors import UserError

runner = CliRunner()


def test_every_profile_figure_has_a_source_or_an_assumption_range() -> None:
    figures = load_profiles()
    assert len(figures) > 30
    for f in figures:
        assert f.kind in KINDS, f
        assert f.source.strip(), f  # an ASSUMPTION says what it assumes
        assert f.low <= f.value <= f.high, f
        if f.kind == "ASSUMPTION":
            assert f.low < f.high, f"{f.figure} {f.year}: an ASSUMPTION needs a range"
        else:
            assert any(ch.isdigit() for ch in f.source), f"{f.figure}: cite the figure"
    kinds = {f.kind for f in figures}
    assert {"published", "derived", "ASSUMPTION"} <= kinds


def test_every_fleet_factor_sourced_with_range() -> None:
    for f in fleet_factors().values():
        assert f.kind in KINDS and f.source.strip(), f.name
        assert f.low <= f.value <= f.high, f.name
        if f.kind == "ASSUMPTION":
            assert f.low < f.high, f.name
    # DeepSeek's published day anchors the latency per user and the prefix-cache share
    assert fleet_factors()["cached_input_share"].value == pytest.approx(0.563)
    assert fleet_factors()["output_tokens_per_s_per_user"].kind == "published"


def test_model_mixes_sum_to_one_and_name_catalog_models() -> None:
    from daulat.catalog.models import get_model

    for mix, rows in model_mixes().items():
        assert sum(s for _, s, _ in rows) == pytest.approx(1.0), mix
        for model, _, source in rows:
            get_model(model)
            assert source.strip()


def test_chatgpt_prompts_per_weekly_user_from_published_figures() -> None:
    # 2.5 B prompts/day over ~700 M weekly users (Jul 2025)
    assert profile_figure("assistant", "consumer", "all", "prompts_per_user_day", 2025) == \
        pytest.approx(2.5e9 / 700e6, rel=0.02)
    # interpolated between 2025 and 2030, held flat after
    mid = profile_figure("assistant", "consumer", "all", "prompts_per_user_day", 2027)
    assert 3.6 < mid < 6.0
    assert profile_figure("assistant", "consumer", "all", "prompts_per_user_day", 2040) == 6.0


def test_daily_load_grows_with_reasoning_and_agents_and_segments_add() -> None:
    y25, y30 = daily_load("assistant", 2025), daily_load("assistant", 2030)
    assert y30.output_tokens > 2 * y25.output_tokens
    assert 0.8 < y25.cached_input_share < 1.0  # agent steps and chat history re-read context
    assert set(y25.segments) == {"enterprise", "api", "government"}
    assert y25.segment_factor == pytest.approx(1 + sum(y25.segments.values()))
    # the old chat-only profile is far lighter than the assistant of the same year
    light, full = daily_load("chat-light", 2027), daily_load("assistant", 2027)
    assert light.output_tokens < full.output_tokens / 5


def test_unknown_profile_names_the_valid_ones() -> None:
    with pytest.raises(UserError, match="assistant"):
        daily_load("nope", 2027)
    assert "assistant" in list_profiles()


def test_catalog_cli_lists_and_shows_profiles_with_sources() -> None:
    listed = runner.invoke(app, ["catalog", "list", "profiles", "--json"])
    assert listed.exit_code == 0, listed.output
    assert "assistant" in listed.output and "chat-light" in listed.output
    shown = runner.invoke(app, ["catalog", "show", "profiles", "assistant", "--json"])
    assert shown.exit_code == 0, shown.output
    assert "consumer_all_prompts_per_user_day_2025" in shown.output
    assert "ASSUMPTION" in shown.output and "2.5 B prompts/day" in shown.output
    fleet = runner.invoke(app, ["catalog", "show", "fleet", "output_tokens_per_s_per_user"])
    assert fleet.exit_code == 0 and "DeepSeek" in fleet.output
    bad = runner.invoke(app, ["catalog", "show", "profiles", "assistent"])
    assert isinstance(bad.exception, UserError) and "did you mean assistant" in str(bad.exception)
