"""Throughput at a user's speed: the latency stack against published InferenceX curves.

One row per published point (``daulat/sizing/data/interactivity.csv``): the model, the
accelerator, the request shape, speculative decoding on or off, the per-user speed, the
published output tokens/s per GPU (InferenceX's total × O / (I + O)), ours, the ratio,
whether the stack was fitted on it or it is only checked, and how ours was served. Then
the median |log ratio| and the share within ±35 % of the checked points, misses included.

    .venv/bin/python benchmarks/interactivity_validation.py [--markdown]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

from daulat.sizing.interactivity import interactivity_checks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = interactivity_checks()
    elapsed = time.perf_counter() - t0
    if args.markdown:
        print("| id | accelerator | I/O | MTP | tok/s/user | published out tok/s/GPU | ours "
              "| ours / published | fitted or checked | within ±35 % | ours served as |")
        print("|---|---|---|---|---:|---:|---:|---:|---|---|---|")
        for r in rows:
            p = r.point
            print(f"| {p.id} | {p.accelerator} {p.precision} | {p.input_tokens}/{p.output_tokens} "
                  f"| {'on' if p.speculative else 'off'} | {p.tokens_per_s_per_user:g} | "
                  f"{p.output_tokens_per_s_per_gpu:,.0f} | {r.ours:,.0f} | {r.ratio:.2f} | {p.use} "
                  f"| {'yes' if r.ok else '**no**'} | {r.basis} |")
    else:
        print(f"{'id':28} {'tok/s/user':>10} {'published':>10} {'ours':>9} {'ratio':>6}  "
              f"{'use':8} met  basis")
        for r in rows:
            p = r.point
            print(f"{p.id:28} {p.tokens_per_s_per_user:10g} "
                  f"{p.output_tokens_per_s_per_gpu:10,.0f} {r.ours:9,.0f} {r.ratio:6.2f}  "
                  f"{p.use:8} {'yes' if r.ok else 'NO ':3}  {r.basis}")
    print()
    for label, sel in (("fitted", "fitted"), ("checked", "checked")):
        part = [r for r in rows if r.point.use == sel]
        for spec in (False, True):
            sub = [r for r in part if r.point.speculative == spec]
            if not sub:
                continue
            med = statistics.median(abs(math.log(max(r.ratio, 1e-9))) for r in sub)
            print(f"{label:8} MTP {'on ' if spec else 'off'}: {len(sub):2} points, median ratio "
                  f"{statistics.median(r.ratio for r in sub):.2f}, median |log ratio| {med:.2f}, "
                  f"within ±35 %: {sum(r.ok for r in sub)} of {len(sub)}")
    print(f"({elapsed:.1f} s)")


if __name__ == "__main__":
    main()
