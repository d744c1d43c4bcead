"""The accelerator, model and constant catalogs: complete, sourced, looked up by alias."""

from __future__ import annotations

import pytest

from daulat.catalog.accelerators import get_accelerator, load_accelerators
from daulat.catalog.constants import constant, constants
from daulat.catalog.models import get_model, load_models
from daulat.errors import UserError

ACCELERATOR_IDS = (
    "A100-SXM H100-SXM H200-SXM H800 H20 B200 GB200 B300 GB300 MI300X MI325X MI355X "
    "Ascend-910B Ascend-910C"
).split()
MODEL_IDS = (
    "llama-2-70b llama-3.1-8b llama-3.1-70b llama-3.1-405b mixtral-8x7b deepseek-v3 "
    "gpt-oss-120b assistant-small assistant-medium assistant-frontier kimi-k2 qwen3-235b-a22b"
).split()


def test_exact_accelerator_ids_with_sources() -> None:
    accs = load_accelerators()
    assert list(accs) == ACCELERATOR_IDS
    for a in accs.values():
        assert a.source and a.power_source and a.price_source, a.id
        assert a.price_low_usd <= a.price_usd <= a.price_high_usd, a.id
        assert a.hbm_gb > 0 and a.hbm_tbps > 0 and a.tdp_w > 0
        assert "bf16" in a.tflops, a.id
        assert a.system_gpus <= a.scaleup_domain or a.system_gpus == 8


def test_precision_support_by_generation() -> None:
    assert get_accelerator("A100-SXM").precisions == ("bf16",)
    assert get_accelerator("H100-SXM").precisions == ("bf16", "fp8")
    assert get_accelerator("B200").precisions == ("bf16", "fp8", "fp4")
    assert get_accelerator("MI355X").precisions[-1] == "fp4"
    assert get_accelerator("Ascend-910C").precisions == ("bf16",)


def test_lookup_is_case_insensitive_with_aliases() -> None:
    assert get_accelerator("h100").id == "H100-SXM"
    assert get_accelerator("gb200-nvl72").id == "GB200"
    assert get_model("DeepSeek-R1").id == "deepseek-v3"


def test_unknown_accelerator_lists_valid_ids() -> None:
    with pytest.raises(UserError) as exc:
        get_accelerator("TPU-v7")
    msg = str(exc.value)
    assert "accelerator" in msg and "TPU-v7" in msg
    assert all(i in msg for i in ACCELERATOR_IDS)


def test_models_complete_and_kv_hand_checked() -> None:
    models = load_models()
    assert list(models) == MODEL_IDS
    # Llama 2 70B: 2 (K,V) x 80 layers x 8 KV heads x 128 dims x 2 bytes = 327,680 B/token
    assert models["llama-2-70b"].kv_bytes_per_token == 2 * 80 * 8 * 128 * 2
    # DeepSeek-V3 MLA: (512 latent + 64 rope) x 2 bytes x 61 layers
    assert models["deepseek-v3"].kv_bytes_per_token == (512 + 64) * 2 * 61
    assert models["mixtral-8x7b"].is_moe and not models["llama-3.1-8b"].is_moe
    # Qwen3-235B-A22B GQA: 2 x 94 layers x 4 KV heads x 128 dims x 2 bytes
    assert models["qwen3-235b-a22b"].kv_bytes_per_token == 2 * 94 * 4 * 128 * 2
    # Kimi K2 is DeepSeek-V3's architecture with 384 experts: same MLA cache per token
    assert models["kimi-k2"].kv_bytes_per_token == models["deepseek-v3"].kv_bytes_per_token
    assert models["kimi-k2"].experts == 384 and models["kimi-k2"].params_b == 1000
    for m in models.values():
        assert m.source and 0 < m.active_params_b <= m.params_b


def test_every_constant_sourced() -> None:
    for c in constants().values():
        assert c.source.strip() and c.unit.strip(), c.name
    assert constant("facility_capex_usd_per_mw") == 11_700_000
    with pytest.raises(UserError, match="valid names"):
        constant("no_such_constant")
