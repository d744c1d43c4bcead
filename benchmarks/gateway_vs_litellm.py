"""Scale benchmark: daulat's gateway vs LiteLLM's proxy, 1 and 2 workers and two instances.

The same fake OpenAI-compatible upstream (``daulat.gateway.testing.FakeUpstream``, its own
process) and the same load generator (aiohttp, asyncio, its own process) drive, for each
*deployment shape*:

* ``1w`` — one instance with 1 uvicorn worker;
* ``2w`` — one instance with 2 workers;
* ``2i`` — two instances with 1 worker each, the load generator alternating between them
  (client-side round robin: no proxy in the measured path);

two targets at equal workers:

* ``daulat`` — ``daulat serve`` with the Indonesian pack (PII redaction in and out, system
  prompt, language detection, content rules, metering, audit chain) on **PostgreSQL**
  (127.0.0.1:5432 db ``test``, a scratch schema dropped afterwards) with **Redis**
  counters (``redis_url``): every instance shares one store and one Redis, as in
  production;
* ``litellm`` — ``litellm --config …`` (``litellm[proxy]==1.108.6``, a master key, no
  database) from the separate virtualenv ``.venv-litellm`` (``pip install -r
  benchmarks/requirements-litellm.txt``).

For each target and mode (non-streaming, streaming) it measures:

* **sustained rate**: completed requests/s with ``--concurrency`` requests always in flight
  for ``--seconds`` each; the highest level with < 1 % errors counts;
* **latency at half load**: an open-loop arrival stream at half that sustained rate for
  ``--seconds`` (latency counted from each request's scheduled start, so queueing shows);
  p50/p99, and the *added* p99: minus the p99 of the fake upstream called directly at the
  same rate, measured right after.

Prints one table, the two issue targets (2 workers ≥ 1.6 × 1 worker; daulat ≥ 5 × LiteLLM)
and the load average before and after (the figures are only as quiet as the machine).
Loopback only; nothing leaves the machine.

    .venv/bin/python benchmarks/gateway_vs_litellm.py [--shapes 1w 2w 2i] [--seconds 5]
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
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
MODEL = "assistant"
REPLY = ("Jakarta adalah ibu kota Indonesia dan kota terbesar di negara ini, terletak di "
         "pantai barat laut pulau Jawa dengan penduduk lebih dari sepuluh juta jiwa.")
LITELLM_KEY = "sk-daulat-bench-0123456789abcdef0123456789abcdef"
PROMPT = [{"role": "user", "content": "Apa ibu kota Indonesia? Jawab singkat ya, terima kasih."}]
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"
SHAPES = {"1w": (1, 1), "2w": (1, 2), "2i": (2, 1)}  # name -> (instances, workers each)
SHAPE_TEXT = {"1w": "1 worker", "2w": "2 workers", "2i": "2 instances x 1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 120.0,
          headers: dict[str, str] | None = None) -> None:
    """Until ``url`` answers 200."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2, headers=headers).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} did not come up in {timeout_s:.0f} s")


def _warm(url: str, key: str, proc: subprocess.Popen[bytes], n: int = 40,
          timeout_s: float = 180.0) -> None:
    """Wait for a real completion, then send ``n`` more (every worker loads its policy)."""
    deadline = time.monotonic() + timeout_s
    body = {"model": MODEL, "messages": PROMPT}
    ok = 0
    with httpx.Client(timeout=10, headers={"authorization": f"Bearer {key}"}) as client:
        while ok < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} answered {ok} of {n} warm-up completions")
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
            try:
                if client.post(url, json=body).status_code == 200:
                    ok += 1
                    continue
            except httpx.HTTPError:
                pass
            time.sleep(0.5)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
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
async def _one(session: Any, url: str, key: str, stream: bool) -> None:
    body = json.dumps({"model": MODEL, "messages": PROMPT, "stream": stream})
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
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


def _session(limit: int) -> Any:
    import aiohttp

    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit),
                                 timeout=aiohttp.ClientTimeout(total=30))


async def closed_loop(urls: list[str], key: str, stream: bool, conc: int,
                      seconds: float) -> tuple[float, float]:
    """(completed requests/s, error share) with ``conc`` requests always in flight,
    worker *i* sending to ``urls[i % len(urls)]``."""
    ok = err = 0
    async with _session(conc) as session:
        end = time.perf_counter() + seconds

        async def worker(url: str) -> None:
            nonlocal ok, err
            while time.perf_counter() < end:
                try:
                    await _one(session, url, key, stream)
                    ok += 1
                except Exception:
                    err += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(urls[i % len(urls)]) for i in range(conc)))
        elapsed = time.perf_counter() - t0
    return ok / elapsed, err / max(1, ok + err)


async def open_loop(urls: list[str], key: str, stream: bool, rate: float,
                    seconds: float) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, error share) of requests started at ``rate``/s for ``seconds``,
    alternating between ``urls``; latency runs from each request's scheduled start."""
    lat: list[float] = []
    err = 0
    n = max(1, int(rate * seconds))
    async with _session(1024) as session:
        t0 = time.perf_counter()

        async def one(i: int) -> None:
            nonlocal err
            due = t0 + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                await _one(session, urls[i % len(urls)], key, stream)
                lat.append(time.perf_counter() - due)
            except Exception:
                err += 1

        await asyncio.gather(*(one(i) for i in range(n)))
    if not lat:
        return float("nan"), float("nan"), 1.0
    lat.sort()
    return (statistics.median(lat) * 1000, lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1000,
            err / n)


def measure(args: argparse.Namespace) -> None:
    """Load-generator process: prints one JSON line with the results of every target."""
    spec: dict[str, Any] = json.loads(args.spec_json)
    direct: list[str] = spec["direct"]
    out: dict[str, Any] = {}
    for name, t in spec["targets"].items():
        out[name] = {}
        for mode in spec["modes"]:
            stream = mode == "stream"
            levels = {}
            best = 0.0
            for conc in spec["concurrency"]:
                rate, errors = asyncio.run(closed_loop(t["urls"], t["key"], stream, conc,
                                                       spec["seconds"]))
                levels[conc] = [round(rate, 1), round(errors, 4)]
                if errors < 0.01:
                    best = max(best, rate)
            half = best / 2
            p50 = p99 = d99 = float("nan")
            half_err = 1.0
            if half > 0:
                p50, p99, half_err = asyncio.run(open_loop(t["urls"], t["key"], stream, half,
                                                           spec["seconds"]))
                _, d99, _ = asyncio.run(open_loop(direct, "none", stream, half,
                                                  spec["seconds"]))
            out[name][mode] = {"rps": best, "levels": levels, "half_rate": half,
                               "p50_ms": p50, "p99_ms": p99, "direct_p99_ms": d99,
                               "half_errors": half_err}
    print(json.dumps(out))


def run_load(spec: dict[str, Any]) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--measure", "--spec-json", json.dumps(spec)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{res.stderr[-3000:]}")
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


# --- the targets --------------------------------------------------------------------------
def start_daulat(tmp: Path, upstream: str, instances: int, workers: int, schema: str,
                 key: str, procs: list[subprocess.Popen[bytes]]) -> list[str]:
    """Start the instances (appended to ``procs`` at once, so a failure stops them too)."""
    started, urls = [], []
    daulat = Path(sys.executable).with_name("daulat")
    for i in range(instances):
        port = _free_port()
        cfg = {"server": {"port": port, "workers": workers, "log_level": "warning"},
               "store": {"url": PG_URL, "schema": schema}, "redis_url": REDIS_URL,
               "local_model": {"enabled": False},
               "upstreams": [{"name": "jakarta", "url": upstream, "jurisdiction": "IDN",
                              "models": [MODEL]}]}
        path = tmp / f"gateway-{schema}-{i}.yaml"
        path.write_text(json.dumps(cfg))
        proc = _spawn([str(daulat), "serve", "--config", str(path)],
                      log=tmp / f"daulat-{workers}w-{i}.log")
        procs.append(proc)
        started.append(proc)
        urls.append(f"http://127.0.0.1:{port}/v1/chat/completions")
    for proc, url in zip(started, urls, strict=True):
        _wait(url.replace("/v1/chat/completions", "/readyz"), proc, timeout_s=300)
        _warm(url, key, proc, n=20 * workers)
    return urls


def start_litellm(tmp: Path, upstream: str, instances: int, workers: int, exe: Path,
                  procs: list[subprocess.Popen[bytes]]) -> list[str]:
    if not exe.exists():
        raise SystemExit(f"{exe} not found: python3.11 -m venv .venv-litellm && "
                         ".venv-litellm/bin/pip install -r benchmarks/requirements-litellm.txt")
    (tmp / "litellm.yaml").write_text(json.dumps({
        "model_list": [{"model_name": MODEL, "litellm_params": {
            "model": f"openai/{MODEL}", "api_base": upstream, "api_key": "none"}}],
        "litellm_settings": {"telemetry": False, "drop_params": True},
        # A master key (authentication on, as in ours); no database.
        "general_settings": {"master_key": LITELLM_KEY}}))
    started, urls = [], []
    for i in range(instances):
        port = _free_port()
        proc = _spawn([str(exe), "--config", str(tmp / "litellm.yaml"), "--host", "127.0.0.1",
                       "--port", str(port), "--num_workers", str(workers),
                       # as `daulat serve` does: starting workers are not respawned for 60 s
                       *(["--timeout_worker_healthcheck", "60"] if workers > 1 else [])],
                      env={"LITELLM_LOG": "ERROR", "LITELLM_TELEMETRY": "False",
                           "DISABLE_SCHEMA_UPDATE": "True"},
                      log=tmp / f"litellm-{workers}w-{i}.log")
        procs.append(proc)
        started.append(proc)
        urls.append(f"http://127.0.0.1:{port}/v1/chat/completions")
    for proc, url in zip(started, urls, strict=True):
        _wait(url.replace("/v1/chat/completions", "/health/liveliness"), proc, timeout_s=300)
        # it answers liveliness before its router is ready: wait for real completions
        _warm(url, LITELLM_KEY, proc, n=10 * workers)
    return urls


def _drop_schema(schema: str) -> None:
    import sqlalchemy as sa

    eng = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"))
    with eng.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    eng.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES),
                    help="deployment shapes: 1w (1 worker), 2w (2 workers), 2i (2 instances)")
    ap.add_argument("--targets", nargs="+", default=["daulat", "litellm"],
                    choices=["daulat", "litellm"])
    ap.add_argument("--modes", nargs="+", default=["plain", "stream"],
                    choices=["plain", "stream"])
    ap.add_argument("--seconds", type=float, default=5.0,
                    help="duration of each rate level and of each half-load run")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[32, 96],
                    help="in-flight requests of the sustained-rate levels")
    ap.add_argument("--litellm-python", type=Path, default=ROOT / ".venv-litellm" / "bin",
                    help="bin/ directory of the virtualenv with litellm[proxy]")
    ap.add_argument("--serve-fake", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--spec-json", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_fake:
        serve_fake(args.serve_fake)
        return
    if args.measure:
        measure(args)
        return

    from daulat.store import Store, Tenant

    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    tmp = Path(tempfile.mkdtemp(prefix="daulat-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    results: dict[str, dict[str, Any]] = {}
    schemas: list[str] = []
    failed: dict[str, str] = {}
    try:
        fake_port = _free_port()
        fake = _spawn([sys.executable, __file__, "--serve-fake", str(fake_port)],
                      log=tmp / "fake.log")
        procs.append(fake)
        upstream = f"http://127.0.0.1:{fake_port}/v1"
        _wait(upstream + "/models", fake)
        direct = [upstream + "/chat/completions"]
        for shape in args.shapes:
            instances, workers = SHAPES[shape]
            targets: dict[str, dict[str, Any]] = {}
            running: list[subprocess.Popen[bytes]] = []
            try:
                if "daulat" in args.targets:
                    schema = f"bench_{uuid.uuid4().hex[:10]}"
                    schemas.append(schema)
                    store = Store(PG_URL, schema=schema)
                    store.migrate()
                    tenant = f"kominfo{uuid.uuid4().hex[:6]}"  # fresh Redis counters
                    store.put_tenant(Tenant(tenant, "IDN"))
                    _, key = store.create_key(tenant)
                    store.dispose()
                    urls = start_daulat(tmp, upstream, instances, workers, schema, key,
                                        running)
                    targets["daulat"] = {"urls": urls, "key": key}
                if "litellm" in args.targets:
                    urls = start_litellm(tmp, upstream, instances, workers,
                                         args.litellm_python / "litellm", running)
                    targets["litellm"] = {"urls": urls, "key": LITELLM_KEY}
                print(f"[{shape}] measuring {', '.join(targets)} …", file=sys.stderr,
                      flush=True)
                results[shape] = run_load({
                    "targets": targets, "direct": direct, "modes": args.modes,
                    "seconds": args.seconds, "concurrency": args.concurrency})
            except RuntimeError as exc:  # one shape failing still prints the others
                failed[shape] = str(exc).splitlines()[0]
                print(f"[{shape}] failed: {exc}", file=sys.stderr, flush=True)
            finally:
                for p in running:
                    _stop(p)
    finally:
        for p in procs:
            _stop(p)
        for schema in schemas:
            _drop_schema(schema)
    load_after = os.getloadavg()
    _print(results, args, started, load_before, load_after)
    for shape, why in failed.items():
        print(f"{SHAPE_TEXT[shape]}: NOT MEASURED — {why}")
    (tmp / "results.json").write_text(json.dumps(results, indent=2))
    print(f"\nraw results and logs: {tmp}")


def _print(results: dict[str, dict[str, Any]], args: argparse.Namespace, started: str,
           load_before: tuple[float, float, float],
           load_after: tuple[float, float, float]) -> None:
    print(f"\nGateway scale benchmark — {started}, loopback, fake upstream, {os.cpu_count()} "
          f"CPU(s) shared with the load generator and the upstream; daulat on PostgreSQL + "
          f"Redis; rate = highest with <1% errors at concurrency {args.concurrency} for "
          f"{args.seconds:g} s; latency under an open-loop load at half that rate, added p99 = "
          f"minus the upstream's own p99 at that rate.\n")
    head = (f"{'shape':<16} {'target':<8} {'mode':<6} {'req/s':>7} {'x 1w':>5} "
            f"{'x LiteLLM':>9} {'1/2 load':>8} {'p50 ms':>7} {'p99 ms':>7} {'+p99 ms':>8}")
    print(head)
    print("-" * len(head))
    for shape, res in results.items():
        for name, modes in res.items():
            for mode, r in modes.items():
                one = results.get("1w", {}).get(name, {}).get(mode, {}).get("rps")
                ll = res.get("litellm", {}).get(mode, {}).get("rps")
                scale = f"{r['rps'] / one:.2f}" if one else "-"
                vs = f"{r['rps'] / ll:.1f}" if ll and name != "litellm" else "-"
                added = r["p99_ms"] - r["direct_p99_ms"]
                print(f"{SHAPE_TEXT[shape]:<16} {name:<8} {mode:<6} {r['rps']:7.0f} "
                      f"{scale:>5} {vs:>9} {r['half_rate']:8.0f} {r['p50_ms']:7.1f} "
                      f"{r['p99_ms']:7.1f} {added:8.1f}")
    print()
    for mode in args.modes:
        d = {s: results[s].get("daulat", {}).get(mode, {}).get("rps") for s in results}
        if d.get("1w") and d.get("2w"):
            ratio = d["2w"] / d["1w"]
            print(f"target 2 workers >= 1.6 x 1 worker ({mode}): {ratio:.2f} x "
                  f"{'met' if ratio >= 1.6 else 'NOT met'}")
        ratios = [results[s]["daulat"][mode]["rps"] / results[s]["litellm"][mode]["rps"]
                  for s in results if "daulat" in results[s] and "litellm" in results[s]
                  and results[s]["litellm"][mode]["rps"]]
        if ratios:
            print(f"target daulat >= 5 x LiteLLM at equal workers ({mode}): lowest "
                  f"{min(ratios):.1f} x {'met' if min(ratios) >= 5 else 'NOT met'}")
    print(f"load average (1, 5, 15 min) before {load_before[0]:.2f} {load_before[1]:.2f} "
          f"{load_before[2]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f} "
          f"{load_after[2]:.2f}")
    for shape, res in results.items():
        for name, modes in res.items():
            for mode, r in modes.items():
                levels = ", ".join(f"c{c}: {v[0]:.0f}/s {v[1]:.1%} err"
                                   for c, v in r["levels"].items())
                print(f"  {shape} {name} {mode}: {levels}; half load errors "
                      f"{r['half_errors']:.1%}")


if __name__ == "__main__":
    main()
