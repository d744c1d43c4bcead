"""Plans as background jobs: a local process pool, or Ray when configured.

A job is a row of ``web_plans``; its state (queued → running → done | failed) and the
planner's progress lines are written to the store by the worker itself, so the page that
polls the store sees them whatever runs the job and however many office processes there are.

The pipeline (``daulat.pipeline.run_pipeline``: plan → finance → report) is called behind
ONE function, :func:`run_plan`.
"""

from __future__ import annotations

import json
import multiprocessing
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update

from daulat import console as daulat_console
from daulat.errors import UserError
from daulat.pipeline import run_pipeline
from daulat.store.db import make_engine
from daulat.web import models as m

__all__ = ["JobRunner", "JobSpec", "execute", "run_plan"]

Progress = Callable[[str], None]


class _Lines:
    """A text stream that hands each complete line to ``progress`` (the planner's phase
    lines, which it prints on its stderr console)."""

    def __init__(self, progress: Progress) -> None:
        self.progress, self.buf = progress, ""

    def write(self, text: str) -> int:
        self.buf += text
        *lines, self.buf = self.buf.split("\n")
        for line in lines:
            if line.strip():
                self.progress(line.strip())
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def run_plan(scenario_path: Path, out_dir: Path, progress: Progress,
             report_lang: str = "en") -> dict[str, Any]:
    """Plan → finance → report for the scenario at ``scenario_path`` into ``out_dir``;
    returns the plan's summary (summary.json). ``progress`` receives one plain line per
    stage and per planner phase. THE adapter between the office and the pipeline."""
    # The planner reports its phases (inputs, model, solve with its MIP gap) on daulat's
    # stderr console; in this worker process that console writes to the job's progress.
    daulat_console.err_console.file = _Lines(progress)  # type: ignore[assignment]
    result = run_pipeline(scenario_path, out_dir, report_lang=report_lang, quiet=False,
                          progress=lambda stage, message: progress(message))
    summary = _summary(out_dir)
    if not result.solved:
        raise UserError(f"{summary.get('status')}: " + " ".join(
            str(x) for x in summary.get("infeasibility", [])))
    return summary


def _summary(out_dir: Path) -> dict[str, Any]:
    """The plan directory's summary.json (the contract, whatever the planner's objects)."""
    loaded: dict[str, Any] = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    return loaded


@dataclass(frozen=True)
class JobSpec:
    """Everything a worker needs (picklable: it crosses to another process or node)."""

    plan_id: int
    url: str
    schema: str | None
    scenario_path: str
    out_dir: str
    lang: str = "en"


def _set(engine: Engine, plan_id: int, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(update(m.plans).where(m.plans.c.id == plan_id).values(**values))


def execute(spec: JobSpec) -> str:
    """Run one plan job in this process, writing its state to the store; returns the state."""
    engine = make_engine(spec.url, schema=spec.schema)
    lines: list[str] = []
    started = time.time()

    def progress(line: str) -> None:
        lines.append(f"{time.time() - started:5.1f} s  {line}")
        _set(engine, spec.plan_id, progress="\n".join(lines))

    _set(engine, spec.plan_id, state="running", started_at=started)
    try:
        summary = run_plan(Path(spec.scenario_path), Path(spec.out_dir), progress, spec.lang)
    except UserError as exc:
        progress("failed")
        _set(engine, spec.plan_id, state="failed", error=str(exc), finished_at=time.time())
        return "failed"
    except Exception as exc:  # a worker meets the world: record the failure for the page
        progress("failed")
        _set(engine, spec.plan_id, state="failed", finished_at=time.time(),
             error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}")
        return "failed"
    finally:
        engine.dispose()
    engine = make_engine(spec.url, schema=spec.schema)
    try:
        progress("done")
        _set(engine, spec.plan_id, state="done", finished_at=time.time(),
             summary_json=json.dumps(summary))
    finally:
        engine.dispose()
    return "done"


class JobRunner:
    """Submits plan jobs to a local process pool (``spawn``: a clean interpreter per
    worker, no inherited threads or connections) or to Ray."""

    def __init__(self, backend: str = "local", workers: int = 2,
                 ray_address: str | None = None) -> None:
        self.backend = backend
        self._pool: ProcessPoolExecutor | None = None
        self._ray: Any = None
        self._remote: Any = None
        self.workers, self.ray_address = workers, ray_address
        self.futures: dict[int, Any] = {}

    def _local(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers,
                                             mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def warm(self) -> None:
        """Start the local workers now (each imports the pipeline once, a few seconds), so
        the first plan a user runs starts at once."""
        if self.backend == "local":
            for _ in range(self.workers):
                self._local().submit(_ready)

    def submit(self, spec: JobSpec) -> None:
        if self.backend == "ray":
            if self._remote is None:
                import ray  # optional extra daulat[ray]: imported only when configured

                if not ray.is_initialized():
                    ray.init(address=self.ray_address, ignore_reinit_error=True,
                             log_to_driver=False)
                self._ray, self._remote = ray, ray.remote(execute)
            self.futures[spec.plan_id] = self._remote.remote(spec)
            return
        fut: Future[str] = self._local().submit(execute, spec)
        self.futures[spec.plan_id] = fut

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _ready() -> bool:
    """A no-op job: loading this module in a worker imports the pipeline."""
    return True


def interrupted(engine: Engine) -> int:
    """Mark jobs left queued or running by a previous office process as failed."""
    with engine.begin() as conn:
        ids = [r.id for r in conn.execute(select(m.plans.c.id).where(
            m.plans.c.state.in_(("queued", "running"))))]
        if ids:
            conn.execute(update(m.plans).where(m.plans.c.id.in_(ids)).values(
                state="failed", error="interrupted: the office stopped while the job ran; "
                "run the plan again", finished_at=time.time()))
    return len(ids)
