"""Residency-bound routing: which upstream serves a request, with failover and breakers.

Only upstreams whose jurisdiction the tenant's country pack permits are ever candidates;
the permitted set per country is computed once (config does not change while serving).
Among them the router picks by weight, skipping upstreams that are unhealthy, whose circuit
breaker is open, or that already failed this request. **Fail closed**: when nothing is left
the caller gets None and answers 503 — a request never goes abroad to find capacity.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["CircuitBreaker", "Route", "Router", "BreakerState"]

BreakerState = Literal["closed", "open", "half_open"]


@dataclass
class CircuitBreaker:
    """Opens after ``failures`` consecutive failures; lets one probe through after ``cooldown_s``.

    closed → (N failures) → open → (cooldown) → half_open → success: closed / failure: open.
    """

    failures: int = 3
    cooldown_s: float = 10.0
    clock: Callable[[], float] = time.monotonic
    _consecutive: int = 0
    _opened_at: float | None = None
    _probing: bool = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        if self.clock() - self._opened_at >= self.cooldown_s:
            return "half_open"
        return "open"

    def allows(self) -> bool:
        """Whether a request may be sent now (half-open admits a single probe at a time)."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._probing:
            return True
        return False

    def acquire(self) -> None:
        """Mark a request as sent (a half-open breaker then waits for its outcome)."""
        if self.state == "half_open":
            self._probing = True

    def success(self) -> None:
        """The upstream answered: close the breaker."""
        self._consecutive = 0
        self._opened_at = None
        self._probing = False

    def failure(self) -> None:
        """The upstream failed (5xx, timeout, broken stream): count towards opening."""
        self._consecutive += 1
        self._probing = False
        if self._opened_at is not None or self._consecutive >= self.failures:
            self._opened_at = self.clock()


@dataclass
class Route:
    """One upstream as the router sees it."""

    name: str
    jurisdiction: str  # ISO3
    models: frozenset[str]  # empty = any model
    weight: float
    breaker: CircuitBreaker
    healthy: bool = True
    sent: int = field(default=0)

    def serves(self, model: str) -> bool:
        return not self.models or model in self.models

    def available(self) -> bool:
        return self.healthy and self.breaker.allows()


class Router:
    """Chooses permitted upstreams for a country.

    ``allows(country, jurisdiction)`` is the residency rule (the country pack's
    ``residency.allows``); it is evaluated once per (country, upstream) and cached.
    """

    def __init__(
        self,
        routes: Sequence[Route],
        allows: Callable[[str, str], bool],
        rng: random.Random | None = None,
    ) -> None:
        self.routes = list(routes)
        self._allows = allows
        self._permitted: dict[str, list[Route]] = {}
        self._rng = rng or random.Random()

    def permitted(self, country: str) -> list[Route]:
        """Upstreams the country's pack permits, whatever their health."""
        found = self._permitted.get(country)
        if found is None:
            found = [r for r in self.routes if self._allows(country, r.jurisdiction)]
            self._permitted[country] = found
        return found

    def models(self, country: str) -> list[str]:
        """Model names a tenant of ``country`` can ask for."""
        names: set[str] = set()
        for r in self.permitted(country):
            names.update(r.models)
        return sorted(names)

    def choose(self, country: str, model: str, exclude: set[str] | frozenset[str] = frozenset()
               ) -> Route | None:
        """A permitted, available upstream serving ``model`` not in ``exclude``, by weight."""
        pool = [r for r in self.permitted(country)
                if r.name not in exclude and r.serves(model) and r.available()]
        if not pool:
            return None
        if len(pool) == 1:
            route = pool[0]
        else:
            route = self._rng.choices(pool, weights=[r.weight for r in pool], k=1)[0]
        route.breaker.acquire()
        route.sent += 1
        return route

    def serves_model(self, country: str, model: str) -> bool:
        """Whether any permitted upstream (healthy or not) serves ``model``."""
        return any(r.serves(model) for r in self.permitted(country))
