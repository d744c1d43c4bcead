"""Fleet-level validation: public fleets whose load is published, national and world figures.

Prints one row per figure: published, ours, the error, whether a constant was fitted on it
or it is only checked, its target (±35 % for a fleet whose load is published, a factor of
2 for top-down national/world figures) and whether it is met; misses included. The rows
and their sources are built in ``daulat.sizing.validation.fleet_checks``.

    .venv/bin/python benchmarks/fleet_validation.py [--markdown]
"""

from __future__ import annotations

import argparse
import time

from daulat.sizing.validation import fleet_checks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = fleet_checks()
    elapsed = time.perf_counter() - t0
    if args.markdown:
        print("| id | figure | published | ours | ours / published | fitted or checked "
              "| target | met | how ours is computed |")
        print("|---|---|---:|---:|---:|---|---|---|---|")
        for r in rows:
            print(f"| {r.id} | {r.figure} | {r.published:,.2f} {r.unit} | {r.ours:,.2f} | "
                  f"{r.ours / r.published:.2f} ({100 * r.error:+.0f} %) | {r.use} | {r.target} "
                  f"| {'yes' if r.ok else '**no**'} | {r.basis} |")
        print()
        for r in rows:
            print(f"- `{r.id}`: {r.source}")
        return
    print(f"{'id':36} {'published':>12} {'ours':>12} {'ratio':>7}  {'use':8} {'target':7} met")
    for r in rows:
        print(f"{r.id:36} {r.published:12,.2f} {r.ours:12,.2f} {r.ours / r.published:7.2f}  "
              f"{r.use:8} {r.target:7} {'yes' if r.ok else 'NO'}")
    checked = [r for r in rows if r.use == "checked"]
    print()
    print(f"checked figures met: {sum(r.ok for r in checked)} of {len(checked)}; fitted: "
          f"{sum(r.use == 'fitted' for r in rows)}   ({elapsed:.2f} s)")


if __name__ == "__main__":
    main()
