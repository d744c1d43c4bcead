"""Load ``scenario.yaml`` with errors that point at the file, line and column.

Every problem is reported at once: first the schema (pydantic), then references the
schema cannot check alone (country codes, accelerator, model and site ids against the
catalog). Each line of the :class:`~daulat.errors.UserError` message reads
``file:line:col: field.path: bad value — what is valid``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from io import StringIO
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from daulat.errors import UserError
from daulat.scenario.schema import Scenario

__all__ = ["ScenarioError", "dump_scenario", "load_scenario", "parse_scenario"]

Loc = tuple[int | str, ...]
_LIST_COUNTRIES = "`daulat catalog list countries`"


class ScenarioError(UserError):
    """A scenario file with one or more problems; ``problems`` lists each message."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        head = f"{len(problems)} problem(s) in the scenario:\n" if len(problems) > 1 else ""
        super().__init__(head + "\n".join(problems))


def _position(tree: Any, loc: Loc) -> tuple[int, int]:
    """1-based (line, column) of the deepest node of ``loc`` found in the ruamel tree."""
    line, col = 1, 1
    node = tree
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            try:
                ln, cl = node.lc.value(part)
            except (KeyError, TypeError):
                ln, cl = node.lc.line, node.lc.col
            line, col = ln + 1, cl + 1
            node = node[part]
        elif isinstance(node, CommentedMap) and isinstance(part, int) and str(part) in node:
            ln, cl = node.lc.value(str(part))
            line, col = ln + 1, cl + 1
            node = node[str(part)]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            ln, cl = node.lc.item(part)
            line, col = ln + 1, cl + 1
            node = node[part]
        else:
            if isinstance(node, CommentedMap | CommentedSeq) and node.lc.line is not None:
                # pointing at the mapping that lacks or mis-spells the key
                if (line, col) == (1, 1):
                    line, col = node.lc.line + 1, node.lc.col + 1
            break
    return line, col


def _key_position(tree: Any, loc: Loc) -> tuple[int, int] | None:
    """Position of the *key* named by the last element of ``loc`` (for unknown fields)."""
    node = tree
    for part in loc[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    if isinstance(node, CommentedMap) and loc and loc[-1] in node:
        ln, cl = node.lc.key(loc[-1])
        return ln + 1, cl + 1
    return None


def _path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _short(value: Any) -> str:
    text = repr(_plain(value))
    return text if len(text) <= 80 else text[:77] + "..."


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _model_fields_at(loc: Loc) -> list[str]:
    """The valid field names of the model that owns the last element of ``loc``."""
    from pydantic import BaseModel

    model: Any = Scenario
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is None:
            return []
        found = None
        for cand in _types_in(field.annotation):
            if isinstance(cand, type) and issubclass(cand, BaseModel):
                found = cand
                break
        if found is None:
            return []
        model = found
    return sorted(model.model_fields)


def _types_in(annotation: Any) -> Iterable[Any]:
    args = getattr(annotation, "__args__", None)
    if not args:
        yield annotation
        return
    for arg in args:
        yield from _types_in(arg)


_TYPE_TAGS = {"float", "int", "str", "bool", "dict", "list", "none", "nonetype"}


def _clean_loc(loc: Loc, tree: Any) -> Loc:
    """``loc`` without pydantic's union-member tags (kept: parts present in the data)."""
    out: list[int | str] = []
    node = tree
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, int) and str(part) in node:
            node = node[str(part)]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif isinstance(part, str) and (
            "[" in part or part.lower() in _TYPE_TAGS or part.startswith(("literal", "function"))
        ):
            continue  # a union-member tag, not a field
        else:
            node = None
        out.append(part)
    return tuple(out)


def _schema_problems(exc: ValidationError, tree: Any, name: str) -> list[str]:
    errors = [(_clean_loc(tuple(e["loc"]), tree), e) for e in exc.errors()]
    # union branches: keep the branch that got deepest (drop a loc that prefixes another)
    locs = [loc for loc, _ in errors]
    errors = [
        (loc, e) for loc, e in errors
        if not any(len(o) > len(loc) and o[: len(loc)] == loc for o in locs)
    ]
    problems: list[str] = []
    seen: set[str] = set()
    for loc, err in errors:
        kind = err["type"]
        if kind == "extra_forbidden":
            pos = _key_position(tree, loc) or _position(tree, loc)
            valid = _model_fields_at(loc)
            near = difflib.get_close_matches(str(loc[-1]), valid, n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            what = f"unknown field{hint} — valid fields here: {', '.join(valid)}"
            msg = f"{name}:{pos[0]}:{pos[1]}: {_path(loc)}: {what}"
        elif kind == "missing":
            pos = _position(tree, loc)
            msg = f"{name}:{pos[0]}:{pos[1]}: {_path(loc)}: missing — this field is required"
        else:
            pos = _position(tree, loc)
            text = err["msg"].removeprefix("Value error, ")
            msg = f"{name}:{pos[0]}:{pos[1]}: {_path(loc)}: {_short(err.get('input'))} — {text}"
        key = _path(loc) + (str(loc[-1]) if kind == "extra_forbidden" else "")
        if key in seen:
            continue
        seen.add(key)
        problems.append(msg)
    return problems


def _reference_problems(scenario: Scenario, tree: Any, name: str) -> list[str]:
    """Check ids against the catalog: countries, accelerators, model classes, sites."""
    problems: list[str] = []

    def add(loc: Loc, value: Any, valid: Iterable[str], what: str) -> None:
        valid = sorted(valid)
        near = difflib.get_close_matches(str(value), valid, n=3)
        hint = f"did you mean {', '.join(near)}? " if near else ""
        listing = ", ".join(valid) if len(valid) <= 20 else f"{len(valid)} ids, see {what}"
        pos = _position(tree, loc)
        problems.append(
            f"{name}:{pos[0]}:{pos[1]}: {_path(loc)}: {_short(value)} — unknown; {hint}"
            f"valid: {listing}"
        )

    countries = _try(lambda: set(_load("daulat.catalog.countries", "load_countries")()))
    if countries:
        if isinstance(scenario.countries, list):
            for i, c in enumerate(scenario.countries):
                if c.iso3 not in countries:
                    add(("countries", i, "iso3"), c.iso3, countries, _LIST_COUNTRIES)
        for i, f in enumerate(scenario.funders):
            if f.country and f.country not in countries:
                add(("funders", i, "country"), f.country, countries, _LIST_COUNTRIES)
        for i, s in enumerate(scenario.sites.inline):
            if s.country not in countries:
                add(("sites", "inline", i, "country"), s.country, countries, "catalog countries")
        for key in scenario.rules.residency:
            if key not in countries:
                add(("rules", "residency", key), key, countries, "catalog countries")
    accelerators = _try(lambda: _load("daulat.catalog.accelerators", "load_accelerators")())
    if accelerators and isinstance(scenario.accelerators, list):
        canonical = {k.lower(): k for k in accelerators}
        for i, a in enumerate(scenario.accelerators):
            if a.lower() not in canonical and _resolves(a, "daulat.catalog.accelerators",
                                                      "get_accelerator") is None:
                add(("accelerators", i), a, accelerators, "`daulat catalog list accelerators`")
    models = _try(lambda: _load("daulat.catalog.models", "load_models")())
    if models:
        for i, w in enumerate(scenario.workloads):
            if w.model not in models and _resolves(w.model, "daulat.catalog.models",
                                                   "get_model") is None:
                add(("workloads", i, "model"), w.model, models, "`daulat catalog list models`")
    assumptions = _try(lambda: _load("daulat.sizing", "DemandAssumptions"))
    if assumptions is not None:
        blocks: list[tuple[Loc, dict[str, Any]]] = [
            (("workloads", i, "demand"), w.demand) for i, w in enumerate(scenario.workloads)]
        if isinstance(scenario.countries, list):
            blocks += [(("countries", i, "demand"), c.demand)
                       for i, c in enumerate(scenario.countries)]
        for loc, block in blocks:
            if not block:
                continue
            try:
                assumptions.model_validate(block)
            except ValidationError as exc:
                for err in exc.errors():
                    where = (*loc, *err["loc"])
                    pos = (_key_position(tree, where) if err["type"] == "extra_forbidden"
                           else None) or _position(tree, where)
                    valid = ", ".join(sorted(assumptions.model_fields))
                    text = err["msg"].removeprefix("Value error, ")
                    if err["type"] == "extra_forbidden":
                        text = f"unknown demand assumption — valid: {valid}"
                    problems.append(f"{name}:{pos[0]}:{pos[1]}: {_path(where)}: "
                                    f"{_short(err.get('input'))} — {text}")
    sites = _try(lambda: {s.id for s in _load("daulat.catalog.sites", "load_sites")()})
    if sites:
        if isinstance(scenario.sites.catalog, list):
            for i, sid in enumerate(scenario.sites.catalog):
                if sid not in sites:
                    add(("sites", "catalog", i), sid, sites, "`daulat catalog list sites`")
    return problems


def _load(module: str, attr: str) -> Callable[..., Any]:
    import importlib

    return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


def _try(fn: Callable[[], Any]) -> Any:
    """The catalog value, or None while that part of the catalog is not installed."""
    try:
        return fn()
    except (ImportError, AttributeError):
        return None


def _resolves(name: str, module: str, attr: str) -> Any:
    try:
        return _load(module, attr)(name)
    except (UserError, KeyError, ImportError, AttributeError):
        return None


def parse_scenario(text: str, name: str = "<scenario>") -> Scenario:
    """Validate scenario YAML ``text``; ``name`` is used in error messages."""
    yaml = YAML(typ="rt")
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        raise ScenarioError([f"{where}: not valid YAML — {exc.problem}"]) from None
    if not isinstance(tree, dict):
        raise ScenarioError(
            [f"{name}:1:1: (top level): {_short(tree)} — a scenario is a YAML mapping with at "
             "least name, horizon, countries and funders (see docs/scenario.md)"]
        )
    try:
        scenario = Scenario.model_validate(_plain_tree(tree))
    except ValidationError as exc:
        raise ScenarioError(_schema_problems(exc, tree, name)) from None
    problems = _reference_problems(scenario, tree, name)
    if problems:
        raise ScenarioError(problems)
    return scenario


def _plain_tree(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _plain_tree(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain_tree(v) for v in node]
    return node


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate the scenario at ``path`` (every error at once, with file:line:col)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(
            f"{file}: scenario file not found — give the path to a scenario YAML "
            "(examples/indonesia.yaml is one; format in docs/scenario.md)") from None
    except OSError as exc:
        raise UserError(f"{file}: cannot read the scenario — {exc.strerror}") from None
    return parse_scenario(text, str(file))


def dump_scenario(scenario: Scenario) -> str:
    """The scenario as YAML (every field, defaults included), loadable by :func:`load_scenario`."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment,attr-defined]
    buf = StringIO()
    yaml.dump(scenario.model_dump(mode="json"), buf)
    return buf.getvalue()
