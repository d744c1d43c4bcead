"""Plan jobs run outside the web process and write their own state to the store: in the
local process pool, and on Ray (``-m slow``: it starts a local Ray instance)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from daulat.store.db import make_engine
from daulat.web import models as m
from daulat.web.db import migrate
from daulat.web.jobs import JobRunner, JobSpec, interrupted
from daulat.web.registry import inserted_id

# A scenario with one mistake: the worker reads it, the validator refuses it, the job fails
# with the validator's words, written to the store by the worker.
BAD = "name: bad\nhorizon: {start: 2027, end: 2026}\ncountries: [{iso3: IDN}]\n" \
      "funders: [{id: provider, kind: provider, budget_usd: 1.0e9}]\n"


def _job(tmp_path: Path) -> tuple[Engine, JobSpec]:
    url = f"sqlite:///{tmp_path / 'daulat.db'}"
    engine = make_engine(url)
    migrate(engine)
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(BAD, encoding="utf-8")
    with engine.begin() as conn:
        pid = inserted_id(conn.execute(insert(m.plans).values(
            name="bad", countries="IDN", scenario_yaml=BAD, state="queued", progress="",
            backend="local", created_by="t", created_at=time.time())))
    return engine, JobSpec(pid, url, None, str(scenario), str(tmp_path / "out"))


def _wait(engine: Engine, pid: int, timeout_s: float = 120) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            row = conn.execute(select(m.plans).where(m.plans.c.id == pid)).one()
        if row.state in ("done", "failed"):
            return dict(row._mapping)
        time.sleep(0.2)
    pytest.fail(f"job {pid} still {row.state} after {timeout_s} s")


def _check_failed_with_the_validators_words(job: dict[str, object]) -> None:
    assert job["state"] == "failed"
    assert "bad.yaml:2" in str(job["error"]) and "horizon" in str(job["error"])
    assert job["started_at"] is not None and job["finished_at"] is not None


def test_a_job_runs_in_the_local_pool_and_writes_its_state(tmp_path: Path) -> None:
    engine, spec = _job(tmp_path)
    runner = JobRunner("local", workers=1)
    try:
        runner.submit(spec)
        _check_failed_with_the_validators_words(_wait(engine, spec.plan_id))
    finally:
        runner.shutdown()


def test_jobs_left_running_by_a_stopped_office_are_marked_failed(tmp_path: Path) -> None:
    engine, spec = _job(tmp_path)
    with engine.begin() as conn:
        conn.execute(m.plans.update().values(state="running"))
    assert interrupted(engine) == 1
    with engine.connect() as conn:
        row = conn.execute(select(m.plans)).one()
    assert row.state == "failed" and "interrupted" in row.error


@pytest.mark.slow
def test_a_job_runs_on_ray(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray", reason="the daulat[ray] extra is not installed")
    engine, spec = _job(tmp_path)
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    try:
        JobRunner("ray").submit(spec)
        _check_failed_with_the_validators_words(_wait(engine, spec.plan_id, 240))
    finally:
        ray.shutdown()
