"""Every `daulat size` command: --json parses; bad input exits 2 naming field and valid values."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from daulat.cli import app

runner = CliRunner()


def _out(result: object) -> str:
    text = getattr(result, "output", "") or ""
    try:
        text += getattr(result, "stderr", "") or ""
    except ValueError:  # stderr not captured separately
        pass
    return text


@pytest.mark.parametrize(
    ("args", "keys"),
    [
        (
            ["size", "inference", "--model", "llama-3.1-70b", "--accelerator", "H100-SXM"],
            {"tokens_per_s_per_accelerator", "batch", "replica_size", "binding"},
        ),
        (
            [
                "size",
                "inference",
                "--model",
                "mixtral-8x7b",
                "--accelerator",
                "b200",
                "--precision",
                "fp8",
                "--scenario",
                "interactive",
                "--efficiency",
                "0.8",
                "--input-tokens",
                "500",
                "--output-tokens",
                "200",
            ],
            {"tokens_per_s_per_accelerator"},
        ),
        (
            [
                "size",
                "facility",
                "--accelerator",
                "GB200",
                "--count",
                "7200",
                "--pue",
                "1.2",
                "--country",
                "IDN",
                "--power-price",
                "90",
                "--load-factor",
                "0.6",
            ],
            {
                "it_mw",
                "facility_mw",
                "annual_energy_mwh",
                "capex_usd",
                "capex_breakdown_usd",
                "annual_opex_usd",
            },
        ),
        (
            [
                "size",
                "training",
                "--model",
                "llama-3.1-405b",
                "--tokens",
                "15.6e12",
                "--accelerator",
                "H100-SXM",
                "--count",
                "16384",
            ],
            {"flops", "accelerator_hours", "days"},
        ),
        (
            [
                "size",
                "training",
                "--params",
                "70",
                "--active-params",
                "70",
                "--tokens",
                "2e12",
                "--accelerator",
                "B200",
                "--mfu",
                "0.4",
                "--precision",
                "fp8",
                "--deadline-days",
                "30",
            ],
            {"flops", "accelerator_hours", "accelerators_for_deadline"},
        ),
        (
            ["size", "country", "--country", "IDN", "--year", "2027"],
            {
                "users",
                "peak_tokens_per_s",
                "accelerators",
                "facility_mw",
                "capex_usd",
                "annual_opex_usd",
                "assumptions",
            },
        ),
        (
            [
                "size",
                "country",
                "--country",
                "ken",
                "--year",
                "2030",
                "--model",
                "assistant-small",
                "--accelerator",
                "H100-SXM",
                "--scenario",
                "interactive",
                "--pue",
                "1.4",
                "--adoption-factor",
                "0.5",
            ],
            {"accelerators"},
        ),
    ],
)
def test_json_parses(args: list[str], keys: set[str]) -> None:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, _out(result)
    data = json.loads(result.stdout)
    assert keys <= set(data)


def test_country_json_lists_only_the_assumptions_the_sizing_read() -> None:
    """With the usage profile in effect, the older per-query chat figures (3.5 queries of
    1,000 in / 400 out tokens) are not read, so --json does not present them as the basis;
    asked for by name (the older arithmetic), they are."""
    result = runner.invoke(app, ["size", "country", "--country", "IDN", "--year", "2027",
                                 "--json"])
    assert result.exit_code == 0, _out(result)
    shown = json.loads(result.stdout)["assumptions"]
    assert shown["usage_profile"] == "assistant" and shown["model_mix"] == "national-assistant"
    assert not {"queries_per_user_day", "input_tokens_per_query", "output_tokens_per_query",
                "institutional_share", "profile", "model"} & set(shown)
    one_model = runner.invoke(app, ["size", "country", "--country", "IDN", "--year", "2027",
                                    "--model", "llama-3.1-70b", "--json"])
    assert json.loads(one_model.stdout)["assumptions"]["model"] == "llama-3.1-70b"


def test_human_output_renders() -> None:
    result = runner.invoke(app, ["size", "country", "--country", "IDN", "--year", "2027"])
    assert result.exit_code == 0
    assert "IDN" in result.stdout and "accelerators" in result.stdout


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (
            ["size", "inference", "--model", "llama-3.1-70b", "--accelerator", "TPU"],
            ["accelerator", "TPU", "H100-SXM", "Ascend-910C"],
        ),
        (
            ["size", "inference", "--model", "gpt-5", "--accelerator", "H100-SXM"],
            ["model", "gpt-5", "llama-3.1-8b"],
        ),
        (
            [
                "size",
                "inference",
                "--model",
                "llama-3.1-70b",
                "--accelerator",
                "H100-SXM",
                "--precision",
                "fp4",
            ],
            ["precision", "fp4", "bf16, fp8"],
        ),
        (
            [
                "size",
                "inference",
                "--model",
                "llama-3.1-70b",
                "--accelerator",
                "H100-SXM",
                "--scenario",
                "batch",
            ],
            ["scenario", "batch", "offline, server, interactive"],
        ),
        (["size", "facility", "--accelerator", "GB200", "--count", "-1"], ["count", "-1"]),
        (
            ["size", "facility", "--accelerator", "GB200", "--count", "10", "--pue", "0.5"],
            ["pue", "0.5"],
        ),
        (
            ["size", "training", "--tokens", "1e12", "--accelerator", "B200"],
            ["--model", "--params"],
        ),
        (["size", "country", "--country", "XYZ"], ["XYZ"]),
        (["size", "country", "--country", "IDN", "--scenario", "fast"], ["scenario", "fast"]),
        # a year outside 2020-2100 (the scenario's range) is refused, not answered flat
        (["size", "country", "--country", "IDN", "--year", "1990"], ["--year", "2020"]),
        (["size", "service", "--users", "1e6", "--year", "2150"], ["--year", "2100"]),
        # a token load's shape without a token load would be silently ignored
        (["size", "service", "--users", "1e6", "--cached-input-share", "0.5"],
         ["--cached-input-share", "--output-tokens-per-day", "--profile"]),
        (["size", "service", "--input-tokens-per-day", "1e9", "--output-tokens-per-day",
          "1e8", "--cached-input-share", "1.2"], ["cached_input_share", "1.2", "< 1"]),
    ],
)
def test_bad_input_exits_2_naming_field(args: list[str], needles: list[str]) -> None:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 2, _out(result)
    text = " ".join(_out(result).split())
    for needle in needles:
        assert needle in text, (needle, text)
