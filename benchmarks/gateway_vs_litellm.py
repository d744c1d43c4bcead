"""Added latency and sustained request rate: direct vs daulat's gateway vs LiteLLM's proxy.

The same fake OpenAI-compatible upstream (``daulat.gateway.testing.FakeUpstream``, its own
process) and the same load generator (httpx, asyncio, its own process) drive three targets:

* ``direct``  — the fake upstream itself (the baseline);
* ``daulat``  — ``daulat serve`` with the Indonesian pack: PII redaction in and out, system
  prompt, language detection, content rules, metering, audit chain (SQLite store);
* ``litellm`` — ``litellm --config …`` (``litellm[proxy]==1.108.6``, no database), run from
  the separate virtualenv ``.venv-litellm`` (``pip install -r
  benchmarks/requirements-litellm.txt``).

Both proxies run with the same number of uvicorn workers. For each target and for
streaming and non-streaming requests it measures latency at concurrency 1 (p50/p99; the
*added* latency is the difference to ``direct``) and the request rate sustained at each
``--concurrency`` level for ``--seconds`` (the highest with < 1 % errors is reported).
Prints one table. Loopback only; nothing leaves the machine.

    .venv/bin/python benchmarks/gateway_vs_litellm.py [--workers 1] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
MODEL = "assistant"
REPLY = ("Jakarta adalah ibu kota Indonesia dan kota terbesar di negara ini, terletak di "
         "pantai barat laut pulau Jawa dengan penduduk lebih dari sepuluh juta jiwa.")
LITELLM_KEY = "sk-daulat-bench-0123456789abcdef0123456789abcdef"
PROMPT = [{"role": "user", "content": "Apa ibu kota Indonesia? Jawab singkat ya, terima kasih."}]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 120.0,
          headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2, headers=headers).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} did not come up in {timeout_s:.0f} s")


def _wait_completion(url: str, key: str, proc: subprocess.Popen[bytes],
                     timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    body = {"model": MODEL, "messages": PROMPT}
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            r = httpx.post(url, json=body, timeout=10, headers={"authorization": f"Bearer {key}"})
            if r.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} never answered a completion")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _spawn(cmd: list[str], env: dict[str, str] | None = None,
           log: Path | None = None) -> subprocess.Popen[bytes]:
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, **(env or {})})


# --- the fake upstream, as its own process ------------------------------------------------
def serve_fake(port: int) -> None:
    import uvicorn

    from daulat.gateway.testing import FakeUpstream

    fake = FakeUpstream("bench", reply=REPLY, chunk_words=2)
    uvicorn.run(fake.app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                backlog=4096)


# --- the load generator (aiohttp: it must not be the bottleneck) ---------------------------
async def _one(session: Any, url: str, key: str, stream: bool) -> float:
    body = json.dumps({"model": MODEL, "messages": PROMPT, "stream": stream})
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    t0 = time.perf_counter()
    async with session.post(url, data=body, headers=headers) as r:
        if r.status != 200:
            raise RuntimeError(f"HTTP {r.status}")
        if stream:
            done = False
            async for line in r.content:
                if line.strip() == b"data: [DONE]":
                    done = True
            if not done:
                raise RuntimeError("stream ended without [DONE]")
        else:
            data = await r.json()
            if not data["choices"][0]["message"]["content"]:
                raise RuntimeError("empty answer")
    return time.perf_counter() - t0


async def latencies(targets: dict[str, dict[str, str]], stream: bool, n: int,
                    rounds: int) -> dict[str, tuple[float, float]]:
    """p50/p99 (ms) of ``n`` sequential requests per target, interleaved in ``rounds`` so
    that drifting machine load hits every target alike."""
    import aiohttp

    times: dict[str, list[float]] = {t: [] for t in targets}
    async with aiohttp.ClientSession() as session:
        for t in targets.values():  # warm-up
            for _ in range(20):
                await _one(session, t["url"], t["key"], stream)
        for _ in range(rounds):
            for name, t in targets.items():
                for _ in range(max(1, n // rounds)):
                    times[name].append(await _one(session, t["url"], t["key"], stream))
    out = {}
    for name, ts in times.items():
        ts.sort()
        out[name] = (statistics.median(ts) * 1000, ts[min(len(ts) - 1, int(0.99 * len(ts)))] * 1000)
    return out


async def throughput(url: str, key: str, stream: bool, conc: int, seconds: float
                     ) -> tuple[float, float]:
    """(completed requests/s, error share) with ``conc`` requests always in flight."""
    import aiohttp

    ok = err = 0
    connector = aiohttp.TCPConnector(limit=conc)
    async with aiohttp.ClientSession(connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=30)) as session:
        end = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal ok, err
            while time.perf_counter() < end:
                try:
                    await _one(session, url, key, stream)
                    ok += 1
                except Exception:
                    err += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(conc)))
        elapsed = time.perf_counter() - t0
    return ok / elapsed, err / max(1, ok + err)


def measure(args: argparse.Namespace) -> None:
    """Load-generator process: prints one JSON line with every target's results."""
    targets: dict[str, dict[str, str]] = json.loads(args.targets_json)
    out: dict[str, Any] = {name: {} for name in targets}
    for stream in (False, True):
        mode = "stream" if stream else "plain"
        lat = asyncio.run(latencies(targets, stream, args.requests, args.rounds))
        for name in targets:
            out[name][mode] = {"p50_ms": lat[name][0], "p99_ms": lat[name][1], "rps": 0.0,
                               "levels": {}}
        for conc in args.concurrency:
            for name, t in targets.items():
                rate, errors = asyncio.run(throughput(t["url"], t["key"], stream, conc,
                                                      args.seconds))
                res = out[name][mode]
                res["levels"][conc] = [round(rate, 1), round(errors, 4)]
                if errors < 0.01:
                    res["rps"] = max(res["rps"], rate)
    print(json.dumps(out))


def run_load(targets: dict[str, dict[str, str]], args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--measure", "--targets-json", json.dumps(targets),
           "--requests", str(args.requests), "--rounds", str(args.rounds),
           "--seconds", str(args.seconds), "--concurrency", *[str(c) for c in args.concurrency]]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=1, help="uvicorn workers of each proxy")
    ap.add_argument("--requests", type=int, default=300, help="sequential requests for p50/p99")
    ap.add_argument("--seconds", type=float, default=5.0, help="duration of each rate level")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[16, 64],
                    help="in-flight requests for the rate levels")
    ap.add_argument("--litellm-python", type=Path, default=ROOT / ".venv-litellm" / "bin",
                    help="bin/ directory of the virtualenv with litellm[proxy]")
    ap.add_argument("--targets", nargs="+", default=["direct", "daulat", "litellm"])
    ap.add_argument("--serve-fake", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--rounds", type=int, default=10,
                    help="latency samples are interleaved across targets in this many rounds")
    ap.add_argument("--targets-json", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_fake:
        serve_fake(args.serve_fake)
        return
    if args.measure:
        measure(args)
        return

    tmp = Path(tempfile.mkdtemp(prefix="daulat-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    results: dict[str, Any] = {}
    try:
        fake_port = _free_port()
        fake = _spawn([sys.executable, __file__, "--serve-fake", str(fake_port)],
                      log=tmp / "fake.log")
        procs.append(fake)
        upstream = f"http://127.0.0.1:{fake_port}/v1"
        _wait(upstream + "/models", fake)
        targets: dict[str, dict[str, str]] = {}
        if "direct" in args.targets:
            targets["direct"] = {"url": upstream + "/chat/completions", "key": "none"}

        if "daulat" in args.targets:
            from daulat.store import Store, Tenant

            port = _free_port()
            db = tmp / "daulat.db"
            store = Store(f"sqlite:///{db}")
            store.migrate()
            store.put_tenant(Tenant("kominfo", "IDN"))
            _, key = store.create_key("kominfo")
            cfg = {"server": {"port": port, "workers": args.workers, "log_level": "warning"},
                   "store": {"url": f"sqlite:///{db}"}, "local_model": {"enabled": False},
                   "upstreams": [{"name": "jakarta", "url": upstream, "jurisdiction": "IDN",
                                  "models": [MODEL]}]}
            (tmp / "gateway.yaml").write_text(json.dumps(cfg))
            daulat = Path(sys.executable).with_name("daulat")
            gw = _spawn([str(daulat), "serve", "--config", str(tmp / "gateway.yaml")],
                        log=tmp / "daulat.log")
            procs.append(gw)
            _wait(f"http://127.0.0.1:{port}/healthz", gw)
            targets["daulat"] = {"url": f"http://127.0.0.1:{port}/v1/chat/completions",
                                 "key": key}

        if "litellm" in args.targets:
            port = _free_port()
            (tmp / "litellm.yaml").write_text(json.dumps({
                "model_list": [{"model_name": MODEL, "litellm_params": {
                    "model": f"openai/{MODEL}", "api_base": upstream, "api_key": "none"}}],
                "litellm_settings": {"telemetry": False, "drop_params": True},
                # A master key (authentication on, as in ours); no database.
                "general_settings": {"master_key": LITELLM_KEY}}))
            exe = args.litellm_python / "litellm"
            if not exe.exists():
                raise SystemExit(f"{exe} not found: python3.11 -m venv .venv-litellm && "
                                 ".venv-litellm/bin/pip install -r "
                                 "benchmarks/requirements-litellm.txt")
            ll = _spawn([str(exe), "--config", str(tmp / "litellm.yaml"), "--host", "127.0.0.1",
                         "--port", str(port), "--num_workers", str(args.workers)],
                        env={"LITELLM_LOG": "ERROR", "LITELLM_TELEMETRY": "False",
                             "DISABLE_SCHEMA_UPDATE": "True"},
                        log=tmp / "litellm.log")
            procs.append(ll)
            _wait(f"http://127.0.0.1:{port}/health/liveliness", ll, timeout_s=300)
            # it answers liveliness before its router is ready: wait for a real completion
            _wait_completion(f"http://127.0.0.1:{port}/v1/chat/completions", LITELLM_KEY, ll)
            targets["litellm"] = {"url": f"http://127.0.0.1:{port}/v1/chat/completions",
                                  "key": LITELLM_KEY}
        results = run_load(targets, args)
    finally:
        for p in procs:
            _stop(p)

    base = results.get("direct")
    print(f"\nGateway benchmark — loopback, fake upstream, {args.workers} worker(s) per proxy, "
          f"{os.cpu_count()} CPU(s); latency at concurrency 1 ({args.requests} requests "
          f"per target, interleaved in {args.rounds} rounds), "
          f"rate = highest with <1% errors at concurrency {args.concurrency} for "
          f"{args.seconds:g} s each\n")
    head = (f"{'target':<8} {'mode':<6} {'p50 ms':>8} {'p99 ms':>8} {'+p50 ms':>8} "
            f"{'+p99 ms':>8} {'req/s':>8} {'vs litellm':>10}")
    print(head)
    print("-" * len(head))
    for name, res in results.items():
        for mode in ("plain", "stream"):
            r = res[mode]
            add50 = r["p50_ms"] - base[mode]["p50_ms"] if base else float("nan")
            add99 = r["p99_ms"] - base[mode]["p99_ms"] if base else float("nan")
            ll = results.get("litellm", {}).get(mode, {}).get("rps")
            ratio = f"{r['rps'] / ll:.1f}x" if ll else "-"
            print(f"{name:<8} {mode:<6} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {add50:8.2f} "
                  f"{add99:8.2f} {r['rps']:8.0f} {ratio:>10}")
    db = tmp / "daulat.db"
    if db.exists():
        # The gateway's own time per request from its audit log: handler start to the audit
        # record, minus the time spent waiting on the upstream (excludes the HTTP server, the
        # durable audit write and the hops, which the table above includes).
        import sqlite3

        with sqlite3.connect(db) as conn:
            recs = [json.loads(r) for (r,) in conn.execute(
                "SELECT record FROM daulat_audit ORDER BY seq")]
        for mode, flag in (("plain", False), ("stream", True)):
            # the concurrency-1 phase only: later, waiting for the shared loop would count
            phase = [r for r in recs if r["stream"] is flag][: 20 + args.requests]
            own = sorted(r["latency_ms"] - r["upstream_ms"] for r in phase
                         if r["status"] == "ok")
            if own:
                print(f"daulat {mode}: own processing per request p50 "
                      f"{statistics.median(own):.2f} ms, p99 {own[int(0.99 * len(own))]:.2f} ms "
                      f"({len(own)} requests; policy, PII in+out, routing, metering)")
    print(f"\nlogs: {tmp}")
    (tmp / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
