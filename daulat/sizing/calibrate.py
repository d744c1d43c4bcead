"""Fit the roofline's efficiencies on ``calibration.csv`` — and nothing else.

``python -m daulat.sizing.calibrate`` reads the published calibration points (MLPerf
Inference llama2-70b per-accelerator throughput on H100 and B200, the Llama 3.1 405B
training run), fits ``t_fixed_s`` (the fixed per-step overhead), the unpublished mean
prompt length of the calibration workload (``mlperf_llama2_70b_input_tokens``) and
``mfu_default``. The GEMM, attention and HBM efficiencies are sourced measurements, not
fitted (see :func:`fit` for why η_flop cannot be). It rewrites the fitted rows of
``daulat/catalog/data/constants.csv`` (``--check`` only prints them). The fit minimises
the squared log error of throughput with a bounded coarse-to-fine grid, so it is
deterministic and needs no solver.
"""

from __future__ import annotations

import argparse
import csv
import functools
import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from daulat.catalog.accelerators import get_accelerator
from daulat.catalog.constants import constant
from daulat.catalog.models import get_model
from daulat.sizing.inference import Efficiency, inference_throughput
from daulat.sizing.interactivity import LATENCY_STACK, fit_latency_stack
from daulat.sizing.stacks import Stack, load_stacks
from daulat.sizing.workloads import get_workload

__all__ = [
    "CalibrationPoint",
    "load_calibration",
    "fit",
    "fit_seq_overhead",
    "CALIBRATION_CSV",
    "STACKS_CSV",
    "main",
]

#: The calibration points: a verbatim copy of ../shared/data/reference/calibration.csv
#: shipped with the package (see daulat/sizing/data/SOURCE.md).
CALIBRATION_CSV = Path(__file__).resolve().parent / "data" / "calibration.csv"
#: the benchmark workload of the inference calibration points (its measured output-length
#: spread sets the decode context, as in the validation)
_CALIBRATION_WORKLOAD = "mlperf-llama2-70b"
#: serving stacks; a stack's ``seq_overhead_s`` is fitted on its own reference run
STACKS_CSV = Path(__file__).resolve().parent / "data" / "stacks.csv"
_CATALOG_MODEL = {"llama-2-70b": "llama-2-70b", "llama-3.1-405b": "llama-3.1-405b"}


@dataclass(frozen=True)
class CalibrationPoint:
    """One published figure used for fitting."""

    kind: str
    subject: str
    accelerator: str
    precision: str
    scenario: str
    figure: str
    value: float
    source: str
    note: str = ""


def load_calibration(path: Path | None = None) -> list[CalibrationPoint]:
    """The rows of ``calibration.csv`` (default: the copy shipped with the package)."""
    p = path or CALIBRATION_CSV
    with p.open(encoding="utf-8") as fh:
        return [
            CalibrationPoint(
                r["kind"],
                r["subject"],
                r["accelerator"],
                r["precision"],
                r["scenario"],
                r["figure"],
                float(r["value"]),
                r["source"],
                r.get("note", ""),
            )
            for r in csv.DictReader(fh)
        ]


def _predict(point: CalibrationPoint, eff: Efficiency, input_tokens: float | None = None) -> float:
    i_tok = constant("mlperf_llama2_70b_input_tokens") if input_tokens is None else input_tokens
    return inference_throughput(
        point.subject,
        point.accelerator,
        point.precision,
        point.scenario,
        input_tokens=int(i_tok),
        output_tokens=int(constant("mlperf_llama2_70b_output_tokens")),
        eta=eff,
        output_length_cv=get_workload(_CALIBRATION_WORKLOAD).output_length_cv,
    ).tokens_per_s_per_accelerator


def _loss(points: list[CalibrationPoint], eff: Efficiency, input_tokens: float) -> float:
    total = 0.0
    for pt in points:
        pred = _predict(pt, eff, input_tokens)
        total += (math.log(max(pred, 1e-9)) - math.log(pt.value)) ** 2
    return total


def _efficiency(f8: float, f4: float, t: float) -> Efficiency:
    return Efficiency(
        mem=constant("eta_mem_weights"),
        mem_kv=constant("eta_mem_kv"),
        flop={"bf16": f8, "fp8": f8, "fp4": f4},
        t_fixed_s=t,
    )


def fit(points: list[CalibrationPoint] | None = None) -> dict[str, float]:
    """Fitted constants: t_fixed_s, the calibration workload's mean prompt length
    (``mlperf_llama2_70b_input_tokens``, unpublished) and mfu_default.

    η_flop is not fitted: it is the measured share of peak that cuBLASLt GEMMs of a serving
    step's size reach (``eta_flop_fp8``/``_fp4``, sourced). A free η trades off exactly
    against the unknown prompt length (both scale the compute per output token), so only
    one of them can be identified from these points; the measured one is kept. Bounded grid
    search on the squared log error of throughput (t_fixed in [0, 30 ms], prompt in
    [100, 1000] tokens; the set caps inputs at 1,024), then one finer pass; deterministic.
    """
    pts = points or load_calibration()
    inf = [p for p in pts if p.kind == "inference" and p.figure == "tokens_per_s_per_accelerator"]
    f8, f4 = constant("eta_flop_fp8"), constant("eta_flop_fp4")
    eff_of = functools.partial(_efficiency, f8, f4)
    best: tuple[float, float, float] | None = None
    for t, i_tok in itertools.product(np.linspace(0.0, 0.03, 16), np.linspace(100.0, 1000.0, 19)):
        loss = _loss(inf, eff_of(float(t)), float(i_tok))
        if best is None or loss < best[0]:
            best = (loss, float(t), float(i_tok))
    assert best is not None
    _, t0, i0 = best
    for t, i_tok in itertools.product(
        np.linspace(max(t0 - 0.002, 0.0), t0 + 0.002, 9),
        np.linspace(max(i0 - 25.0, 100.0), min(i0 + 25.0, 1000.0), 11),
    ):
        loss = _loss(inf, eff_of(float(t)), float(i_tok))
        if loss < best[0]:
            best = (loss, float(t), float(i_tok))
    _, t, i_tok = best
    out = {"t_fixed_s": round(t, 4), "mlperf_llama2_70b_input_tokens": float(round(i_tok))}
    train = [p for p in pts if p.kind == "training" and p.figure == "accelerator_hours"]
    if train:
        out["mfu_default"] = round(_fit_mfu(train[0]), 4)
    return out


def _fit_mfu(point: CalibrationPoint) -> float:
    """MFU implied by a published training run: 6·N·D / (hours · peak)."""
    # Llama 3.1 405B: ~15.6T tokens (calibration.csv note); the figure is GPU-hours.
    tokens = _tokens_from_note(point)
    model = get_model(_CATALOG_MODEL.get(point.subject, point.subject))
    acc = get_accelerator(point.accelerator)
    flops = 6.0 * model.active_params_b * 1e9 * tokens
    return flops / (point.value * 3600.0 * acc.tflops[point.precision] * 1e12)


def _tokens_from_note(point: CalibrationPoint) -> float:
    """Training tokens from the row's note, which reads "~15.6T training tokens; ..."."""
    head = point.note.split("T training tokens")[0].lstrip("~")
    try:
        return float(head) * 1e12
    except ValueError:
        msg = f"calibration.csv: no training-token count in the note of {point.subject}"
        raise ValueError(msg) from None


def fit_seq_overhead(stack: Stack) -> float:
    """The per-sequence, per-rank step time (s) at which the roofline reproduces the
    stack's reference run (offline, fixed lengths, its per-rank batch) — fitted on that run
    only, with the committed calibration constants (``t_fixed_s``). Bisection: the
    predicted throughput falls monotonically with the overhead."""
    ref = stack.reference
    if ref is None:
        raise ValueError(f"stacks.csv: {stack.id} has no reference run to fit on")

    def tps(overhead: float) -> float:
        r = inference_throughput(
            stack.model, ref.accelerator, ref.precision, "offline",
            input_tokens=ref.input_tokens, output_tokens=ref.output_tokens,
            output_length_cv=0.0, max_batch_per_rank=ref.batch_per_rank,
            seq_overhead_s=overhead,
        )
        return r.tokens_per_s_per_accelerator

    lo, hi = 0.0, 0.01
    if tps(lo) <= ref.tokens_per_s_per_accelerator:
        return 0.0  # the roofline alone is at or below the run: no overhead
    for _ in range(60):
        mid = (lo + hi) / 2.0
        if tps(mid) > ref.tokens_per_s_per_accelerator:
            lo = mid
        else:
            hi = mid
    return round(lo, 7)


def write_stacks(
    values: dict[str, float], latency: dict[str, dict[str, float]] | None = None,
    path: Path | None = None,
) -> None:
    """Rewrite the fitted ``seq_overhead_s`` of stacks.csv in place, and a latency stack's
    ``layer_fixed_s``/``seq_overhead_s``/``a2a_growth_share`` (other cells untouched)."""
    p = path or STACKS_CSV
    with p.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
        fields = list(rows[0].keys())
    for r in rows:
        if r["id"] in values:
            r["seq_overhead_s"] = f"{values[r['id']]:.7f}"
        fit = (latency or {}).get(r["id"])
        if fit:
            r["layer_fixed_s"] = f"{fit['layer_fixed_s']:.7f}"
            r["seq_overhead_s"] = f"{fit['seq_overhead_s']:.7f}"
            r["a2a_growth_share"] = f"{fit['a2a_growth_share']:.2f}"
    with p.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def write_constants(values: dict[str, float], path: Path | None = None) -> None:
    """Rewrite the fitted rows of constants.csv in place (other rows untouched)."""
    p = path or Path(__file__).resolve().parents[1] / "catalog" / "data" / "constants.csv"
    with p.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
        fields = list(rows[0].keys())
    for r in rows:
        if r["name"] in values:
            v = values[r["name"]]
            r["value"] = str(int(v)) if float(v).is_integer() else repr(v)
    with p.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    """Fit and (unless ``--check``) write the constants; print the values and residuals."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check", action="store_true", help="print the fit, do not write")
    ap.add_argument(
        "--calibration", type=Path, default=None, help="calibration CSV (default: packaged copy)"
    )
    args = ap.parse_args(argv)
    points = load_calibration(args.calibration)
    values = fit(points)
    for k, v in values.items():
        print(f"{k} = {v}")
    eff = _efficiency(constant("eta_flop_fp8"), constant("eta_flop_fp4"), values["t_fixed_s"])
    for pt in points:
        if pt.kind == "inference" and pt.figure == "tokens_per_s_per_accelerator":
            pred = _predict(pt, eff, values["mlperf_llama2_70b_input_tokens"])
            print(
                f"{pt.accelerator:9} {pt.precision} {pt.scenario:11} published {pt.value:8.0f}"
                f"  fitted {pred:8.0f}  error {100 * (pred / pt.value - 1):+6.1f} %"
            )
    stacks = {
        k: fit_seq_overhead(st) for k, st in load_stacks().items() if st.reference is not None
    }
    for k, v in stacks.items():
        print(f"stacks.csv {k}: seq_overhead_s = {v:.7f} (fitted on its reference run)")
    latency = fit_latency_stack()
    print(
        f"stacks.csv {LATENCY_STACK}: layer_fixed_s = {latency['layer_fixed_s']:.7f}, "
        f"seq_overhead_s = {latency['seq_overhead_s']:.7f}, a2a_growth_share = "
        f"{latency['a2a_growth_share']:.2f} (fitted on interactivity.csv's fitted rows; rms "
        f"log error {latency['rms_log_error']:.3f})"
    )
    if not args.check:
        write_constants(values)
        write_stacks(stacks, {LATENCY_STACK: latency})
        print("constants.csv and stacks.csv updated")


if __name__ == "__main__":
    main()
