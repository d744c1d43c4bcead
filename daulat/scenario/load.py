"""Load ``scenario.yaml`` and report every problem in one pass, each where it is.

The YAML is read by :mod:`daulat.yamlio` (the one loader for user files). Validation
then makes one pass over the whole file and lists everything wrong at once: the schema
(pydantic), the ids the schema cannot check alone (country codes, accelerator, model and
site ids against the catalog) and the demand-assumption overrides (``demand:`` blocks,
against :class:`daulat.scenario.demand.DemandAssumptions`). A schema error does not hide a
bad id elsewhere. Each line of the :class:`~daulat.errors.ScenarioError` reads
``file:line:col: field.path: bad value — what is valid``, in the order of the file.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from io import StringIO
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML

from daulat.catalog.accelerators import get_accelerator, load_accelerators
from daulat.catalog.countries import load_countries
from daulat.catalog.models import get_model, load_models
from daulat.catalog.sites import load_sites
from daulat.errors import ScenarioError, UserError
from daulat.scenario.demand import DemandAssumptions
from daulat.scenario.schema import Scenario
from daulat.yamlio import Loc, field_path, parse_yaml, plain, position, problems

__all__ = ["ScenarioError", "dump_scenario", "load_scenario", "parse_scenario"]

#: Above this many valid ids a message points at the listing command instead.
_LIST_AT_MOST = 20
_WHERE = re.compile(r":(\d+):(\d+): ")


def parse_scenario(text: str, name: str = "<scenario>") -> Scenario:
    """Validate scenario YAML ``text``; ``name`` is used in error messages.

    Raises :class:`ScenarioError` whose ``problems`` lists every problem of the file.
    """
    tree = parse_yaml(text, name, error=ScenarioError)
    if not isinstance(tree, Mapping):
        raise _error([
            f"{name}:1:1: (top level): {_short(tree)} — a scenario is a YAML mapping with at "
            "least name, horizon, countries and funders (see docs/scenario.md)"
        ])
    data = plain(tree)
    found: list[str] = []
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        found += problems(exc, tree, name, Scenario)
    found += _References(data, tree, name, found).problems()
    if found or scenario is None:
        raise _error(found)
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate the scenario at ``path`` (every problem at once, file:line:col)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(
            f"{file}: scenario file not found — give the path to a scenario YAML "
            "(examples/indonesia.yaml is one; format in docs/scenario.md)") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ScenarioError(f"{file}: cannot read the scenario — {exc.strerror}") from None
    return parse_scenario(text, str(file))


def dump_scenario(scenario: Scenario) -> str:
    """The scenario as YAML (every field, defaults included), loadable by :func:`load_scenario`."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment,attr-defined]
    buf = StringIO()
    yaml.dump(scenario.model_dump(mode="json"), buf)
    return buf.getvalue()


def _error(lines: list[str]) -> ScenarioError:
    """One error listing ``lines`` in the order of the file, one line per field (the
    branches of a union, e.g. a number or a {year: amount} mapping, joined by "or")."""
    merged: dict[str, list[str]] = {}
    for line in lines:
        head, sep, what = line.partition(" — ")
        merged.setdefault(head if sep else line, []).append(what)
    joined = [f"{head} — {'; or '.join(w for w in whats if w)}" if any(whats) else head
              for head, whats in merged.items()]
    ordered = sorted(joined, key=_file_order)
    head = f"{len(ordered)} problem(s) in the scenario:\n" if len(ordered) > 1 else ""
    return ScenarioError(head + "\n".join(ordered), ordered)


def _file_order(line: str) -> tuple[int, int]:
    match = _WHERE.search(line)
    return (int(match[1]), int(match[2])) if match else (0, 0)


def _short(value: Any) -> str:
    text = repr(plain(value))
    return text if len(text) <= 80 else text[:77] + "..."


def _items(value: Any) -> Iterable[tuple[int, Any]]:
    """``enumerate(value)`` for a list, nothing otherwise (the schema reports a non-list)."""
    return enumerate(value) if isinstance(value, list) else ()


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


class _References:
    """The checks the schema cannot make alone, on the raw file (so they run even when
    the schema fails): ids against the catalog, ``demand:`` blocks against the sizing
    assumptions. A field the schema already reported is not reported twice."""

    def __init__(self, data: Mapping[str, Any], tree: Any, name: str,
                 reported: list[str]) -> None:
        self.data, self.tree, self.name = data, tree, name
        self.reported = reported
        self.out: list[str] = []

    def problems(self) -> list[str]:
        self._countries()
        self._accelerators()
        self._models()
        self._sites()
        self._demand()
        return self.out

    # -- helpers ---------------------------------------------------------------------------

    def _where(self, loc: Loc, *, key: bool = False) -> str:
        line, col = position(self.tree, loc, key=key)
        return f"{self.name}:{line}:{col}"

    def _already(self, loc: Loc) -> bool:
        needle = f": {field_path(loc)}: "
        return any(needle in p for p in self.reported)

    def _unknown(self, loc: Loc, value: Any, valid: Iterable[str], listing_cmd: str, *,
                 key: bool = False) -> None:
        if self._already(loc):
            return
        ids = sorted(valid)
        near = difflib.get_close_matches(str(value), ids, n=3)
        hint = f"did you mean {', '.join(near)}? " if near else ""
        listing = ", ".join(ids) if len(ids) <= _LIST_AT_MOST else (
            f"{len(ids)} ids, {listing_cmd} lists them")
        self.out.append(f"{self._where(loc, key=key)}: {field_path(loc)}: {_short(value)} — "
                        f"unknown; {hint}valid: {listing}")

    @staticmethod
    def _resolves(lookup: Callable[[str], Any], value: str) -> bool:
        try:
            lookup(value)
        except UserError:
            return False
        return True

    # -- checks ----------------------------------------------------------------------------

    def _countries(self) -> None:
        codes = set(load_countries())
        listing = "`daulat catalog list countries`"

        def check(loc: Loc, value: Any, *, key: bool = False) -> None:
            # a malformed code is the schema's to report; here: well-formed but unknown
            if isinstance(value, str) and len(value.strip()) == 3 and value.strip().isalpha() \
                    and value.strip().upper() not in codes:
                self._unknown(loc, value, codes, listing, key=key)

        countries = self.data.get("countries")
        for i, c in _items(countries):
            check(("countries", i, "iso3"), _get(c, "iso3"))
        for i, f in _items(self.data.get("funders")):
            check(("funders", i, "country"), _get(f, "country"))
        for i, s in _items(_get(self.data.get("sites"), "inline")):
            check(("sites", "inline", i, "country"), _get(s, "country"))
        residency = _get(self.data.get("rules"), "residency")
        if isinstance(residency, Mapping):
            for code in residency:
                check(("rules", "residency", code), code, key=True)

    def _accelerators(self) -> None:
        catalog = load_accelerators()
        for i, a in _items(self.data.get("accelerators")):
            if isinstance(a, str) and not self._resolves(get_accelerator, a):
                self._unknown(("accelerators", i), a, catalog,
                              "`daulat catalog list accelerators`")

    def _models(self) -> None:
        catalog = load_models()
        for i, w in _items(self.data.get("workloads")):
            model = _get(w, "model")
            if isinstance(model, str) and not self._resolves(get_model, model):
                self._unknown(("workloads", i, "model"), model, catalog,
                              "`daulat catalog list models`")

    def _sites(self) -> None:
        ids = {s.id for s in load_sites()}
        for i, sid in _items(_get(self.data.get("sites"), "catalog")):
            if isinstance(sid, str) and sid not in ids:
                self._unknown(("sites", "catalog", i), sid, ids, "`daulat catalog list sites`")

    def _demand(self) -> None:
        blocks: list[tuple[Loc, Any]] = [
            (("workloads", i, "demand"), _get(w, "demand"))
            for i, w in _items(self.data.get("workloads"))]
        blocks += [(("countries", i, "demand"), _get(c, "demand"))
                   for i, c in _items(self.data.get("countries"))]
        valid = ", ".join(sorted(DemandAssumptions.model_fields))
        for prefix, block in blocks:
            if not isinstance(block, Mapping) or not block:
                continue  # absent, or not a mapping (the schema reports that)
            try:
                DemandAssumptions.model_validate(block)
            except ValidationError as exc:
                for err in exc.errors():
                    loc: Loc = (*prefix, *err["loc"])
                    unknown = err["type"] == "extra_forbidden"
                    if unknown:
                        near = difflib.get_close_matches(str(err["loc"][-1]),
                                                         DemandAssumptions.model_fields, n=1)
                        hint = f" (did you mean '{near[0]}'?)" if near else ""
                        text = f"unknown demand assumption{hint} — valid: {valid}"
                    else:
                        text = err["msg"].removeprefix("Value error, ")
                    self.out.append(f"{self._where(loc, key=unknown)}: {field_path(loc)}: "
                                    f"{_short(err.get('input'))} — {text}")
