"""Where independent pieces of work run: in this process, a local process pool, or Ray.

``parallel_map(fn, items, engine, workers)`` is the one entry point; results come back in
the order of ``items`` whatever the engine, so a seeded run gives the same answer on a
laptop and on a cluster.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any, Literal, TypeVar

from daulat.errors import UserError

__all__ = ["ENGINES", "Engine", "parallel_map", "ray_available"]

T = TypeVar("T")
Engine = Literal["local", "ray"]
ENGINES: tuple[str, ...] = ("local", "ray")


def ray_available() -> bool:
    """True when the optional ``ray`` package (``pip install 'daulat[ray]'``) is installed."""
    try:
        import ray  # noqa: F401  # optional extra daulat[ray]: imported only to ask
    except ImportError:
        return False
    return True


def _ray_map(fn: Callable[..., T], items: Sequence[tuple[Any, ...]], workers: int,
             address: str | None) -> list[T]:
    try:
        import ray  # optional extra daulat[ray]: only the ray engine needs it
    except ImportError as exc:
        raise UserError(
            "--engine ray: the `ray` package is not installed; install the extra with"
            " `pip install 'daulat[ray]'`, or use --engine local"
        ) from exc
    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS") or None
        if address:
            ray.init(address=address, log_to_driver=False)
        else:  # a local instance, sized to the worker count asked for
            ray.init(num_cpus=max(workers, 1), include_dashboard=False, log_to_driver=False)
    remote = ray.remote(fn)
    return list(ray.get([remote.remote(*args) for args in items]))


def parallel_map(fn: Callable[..., T], items: Sequence[tuple[Any, ...]], *,
                 engine: str = "local", workers: int = 1,
                 ray_address: str | None = None) -> list[T]:
    """``[fn(*args) for args in items]``, run by ``engine`` with ``workers`` workers.

    * ``local``, ``workers`` <= 1: in this process.
    * ``local``, ``workers`` > 1: a process pool (spawned processes, so it is safe with
      threads in the parent).
    * ``ray``: tasks on the Ray cluster at ``ray_address`` (or ``$RAY_ADDRESS``), else on a
      local Ray instance started for the call with ``workers`` CPUs; a Ray session already
      initialised in this process is used as it is.
    """
    if engine not in ENGINES:
        raise UserError(f"--engine: {engine!r} is not an engine; use one of {', '.join(ENGINES)}")
    if workers < 1:
        raise UserError(f"--workers: {workers} should be 1 or more")
    if engine == "ray":
        return _ray_map(fn, items, workers, ray_address)
    if workers == 1 or len(items) <= 1:
        return [fn(*args) for args in items]
    with ProcessPoolExecutor(max_workers=min(workers, len(items)),
                             mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(fn, *args) for args in items]
        return [f.result() for f in futures]
