"""Validation of the sizing model against published figures it was not fitted on.

Prints one row per figure (MLPerf Inference results on other accelerators, rounds and
models; power per accelerator of public AI data-centre projects): the published value,
its round/submitter/system and source, our prediction and the error; then the median
absolute error and the worst case. ``--markdown`` prints the table docs/validation.md
carries.

    .venv/bin/python benchmarks/sizing_validation.py [--markdown]
"""

from __future__ import annotations

import argparse
import time

from daulat.sizing.validation import summary, validate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = validate()
    elapsed = time.perf_counter() - t0
    s = summary(rows)
    if args.markdown:
        print(
            "| id | figure | round / submitter / system | published | predicted | error "
            "| model's binding limit | source |"
        )
        print("|---|---|---|---:|---:|---:|---|---|")
        for r in rows:
            what = (
                f"{r.subject} on {r.accelerator} {r.precision} {r.scenario}".strip()
                if r.kind == "inference"
                else f"{r.subject} ({r.kind})"
            )
            who = " / ".join(x for x in (r.round, r.submitter, r.system) if x)
            print(
                f"| {r.id} | {what} | {who} | {r.published:,.1f} {r.unit} | "
                f"{r.predicted:,.1f} | {100 * r.error:+.1f} % | {r.binding} | {r.source} |"
            )
        print()
        print(
            f"Median absolute error **{100 * float(s['median_abs_error']):.1f} %** over "
            f"{s['n']} figures; worst **{100 * float(s['worst_abs_error']):.1f} %** "
            f"({s['worst_id']}); {100 * float(s['within_35pct']):.0f} % of figures within ±35 %."
        )
        return
    print(f"{'id':26} {'published':>11} {'predicted':>11} {'error':>8}  binding / basis")
    for r in rows:
        print(
            f"{r.id:26} {r.published:11.1f} {r.predicted:11.1f} {100 * r.error:+7.1f}%  {r.binding}"
        )
    print()
    print(
        f"figures: {s['n']}   median |error|: {100 * float(s['median_abs_error']):.1f} %   "
        f"worst: {100 * float(s['worst_abs_error']):.1f} % ({s['worst_id']})   "
        f"within ±35 %: {100 * float(s['within_35pct']):.0f} %   ({elapsed:.2f} s)"
    )


if __name__ == "__main__":
    main()
