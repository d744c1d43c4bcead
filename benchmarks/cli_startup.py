"""CLI start-up: each stage loaded when its command runs (today) vs every stage loaded first.

The root command (``daulat.cli``) imports a stage's module only when one of its commands
runs. The baseline imports every stage's module before dispatching, as ``daulat.cli`` did
until 2026-12-01. Both run the same commands in fresh interpreters, alternating, and the
table gives each command's median wall time and the ratio.

    .venv/bin/python benchmarks/cli_startup.py            # 7 runs per command and mode
    .venv/bin/python benchmarks/cli_startup.py --runs 15
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = (
    ("--version",),
    ("catalog", "list", "accelerators", "--json"),
    ("catalog", "show", "countries", "IDN"),
    ("size", "inference", "--model", "llama-3.1-70b", "--accelerator", "H200-SXM", "--json"),
    ("scenario", "validate", "examples/indonesia.yaml"),
    ("policy", "show", "IDN", "--json"),
)

_RUN = ("import sys\n"
        "from daulat.cli import main\n"
        "sys.argv = ['daulat', *sys.argv[2:]]\n"
        "main()\n")
_EAGER = ("import importlib, sys\n"
          "from daulat.cli import STAGES, main\n"
          "for module in STAGES:\n"
          "    importlib.import_module(module)\n"
          "sys.argv = ['daulat', *sys.argv[2:]]\n"
          "main()\n")


def _time(code: str, args: tuple[str, ...]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, "--", *args], capture_output=True,
                          text=True, timeout=300)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"daulat {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per command and mode")
    runs = parser.parse_args().runs
    print("| command | every stage first, median s | on demand (daulat), median s | ratio |")
    print("|---|---:|---:|---:|")
    for args in COMMANDS:
        eager: list[float] = []
        lazy: list[float] = []
        for _ in range(runs):  # alternate so machine noise hits both alike
            eager.append(_time(_EAGER, args))
            lazy.append(_time(_RUN, args))
        e, lz = statistics.median(eager), statistics.median(lazy)
        print(f"| `daulat {' '.join(args)}` | {e:.2f} | {lz:.2f} | {e / lz:.1f}x |")


if __name__ == "__main__":
    main()
