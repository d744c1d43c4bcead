"""One YAML loader for every file a user writes: positioned errors, pydantic models.

Every problem is reported at once, one line each, as
``file:line:col: field.path: bad value — what is valid``. ruamel.yaml keeps the
position of every key and item, so the line points at the field, not at the file.

    cfg = load_model(path, GatewayConfig, error=UserError)       # read + validate
    tree = read_yaml(path); model = validate_tree(tree, Model, str(path))

Files merged from several sources (a country pack on top of ``base.yaml``) pass a
``locate`` function that maps a field path to ``file:line:col`` in the file it came from.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from daulat.errors import UserError

__all__ = [
    "Loc",
    "field_path",
    "load_model",
    "parse_yaml",
    "plain",
    "position",
    "problems",
    "read_yaml",
    "validate_tree",
]

Loc = tuple[int | str, ...]
M = TypeVar("M", bound=BaseModel)
Locate = Callable[[Loc, bool], str]

_TYPE_TAGS = {"float", "int", "str", "bool", "dict", "list", "none", "nonetype"}


def _raise(error: type[UserError], lines: list[str]) -> typing.NoReturn:
    head = f"{len(lines)} problem(s):\n" if len(lines) > 1 else ""
    exc = error(head + "\n".join(lines))
    exc.problems = lines  # type: ignore[attr-defined]
    raise exc


def parse_yaml(text: str, name: str, *, error: type[UserError] = UserError) -> Any:
    """The ruamel round-trip tree of YAML ``text`` (``name`` is used in error messages)."""
    try:
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        started = exc.context_mark
        context = (f" ({exc.context} at line {started.line + 1}, column {started.column + 1})"
                   if exc.context and started is not None and exc.problem
                   and (started.line, started.column) != (mark.line, mark.column) else "")
        _raise(error, [f"{where}: not valid YAML — {exc.problem or exc.context}{context}"])
    except YAMLError as exc:  # e.g. a reader error on a control character
        _raise(error, [f"{name}: not valid YAML — {exc}"])


def read_yaml(path: str | Path, *, error: type[UserError] = UserError,
              what: str = "YAML file") -> Any:
    """Read and parse ``path``; a missing or unreadable file is ``error`` naming it."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        _raise(error, [f"{file}: no such {what}"])
    except UnicodeDecodeError as exc:
        _raise(error, [f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})"])
    except OSError as exc:
        _raise(error, [f"{file}: cannot read the {what} — {exc.strerror}"])
    return parse_yaml(text, str(file), error=error)


def plain(node: Any) -> Any:
    """The ruamel tree as plain dicts and lists (what pydantic validates)."""
    if isinstance(node, Mapping):
        return {k: plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


def position(tree: Any, loc: Loc, *, key: bool = False) -> tuple[int, int]:
    """1-based (line, column) of the deepest node of ``loc`` in the ruamel tree.

    ``key=True`` points at the last key itself (for an unknown field) rather than its value.
    """
    line, col = 1, 1
    node = tree
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, CommentedMap) and (part in node or str(part) in node):
            part = part if part in node else str(part)
            try:
                ln, cl = node.lc.key(part) if (key and last) else node.lc.value(part)
            except (KeyError, TypeError):
                ln, cl = node.lc.line, node.lc.col
            line, col = ln + 1, cl + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            ln, cl = node.lc.item(part)
            line, col = ln + 1, cl + 1
            node = node[part]
        else:
            if (line, col) == (1, 1) and isinstance(node, CommentedMap | CommentedSeq) \
                    and node.lc.line is not None:
                line, col = node.lc.line + 1, node.lc.col + 1  # the mapping that lacks the key
            break
    return line, col


def field_path(loc: Loc) -> str:
    """``("upstreams", 0, "url")`` → ``upstreams[0].url``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _short(value: Any) -> str:
    text = repr(plain(value))
    return text if len(text) <= 80 else text[:77] + "..."


def _models_in(annotation: Any) -> Iterable[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in typing.get_args(annotation):
        yield from _models_in(arg)


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """Valid field names of the model that owns the last element of ``loc`` ([] if unknown)."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(current, type) and issubclass(current, BaseModel):
            if not isinstance(part, str):
                return []
            field = current.model_fields.get(part) or next(
                (f for f in current.model_fields.values() if f.alias == part), None)
            if field is None:
                return []
            current = field.annotation
            continue
        # a container (list, dict, union): step into the model inside it
        found = next(iter(_models_in(current)), None)
        origin = typing.get_origin(current)
        if found is None:
            return []
        if origin in (list, dict, tuple, set, frozenset) or isinstance(part, int):
            current = found
            continue
        current = found
        if isinstance(part, str) and part in found.model_fields:
            current = found.model_fields[part].annotation
    found = next(iter(_models_in(current)), None)
    if found is None:
        return []
    return sorted(f.alias or n for n, f in found.model_fields.items())


def _clean_loc(loc: tuple[Any, ...], tree: Any) -> Loc:
    """``loc`` without pydantic's union-member tags (parts present in the data are kept)."""
    out: list[int | str] = []
    node = tree
    for part in loc:
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, Mapping) and isinstance(part, int) and str(part) in node:
            node = node[str(part)]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif isinstance(part, str) and (
            "[" in part or part.lower() in _TYPE_TAGS or part.startswith(("literal", "function"))
        ):
            continue
        else:
            node = None
        out.append(part)
    return tuple(out)


def problems(exc: ValidationError, tree: Any, name: str, model: type[BaseModel] | None = None,
             *, locate: Locate | None = None) -> list[str]:
    """One ``file:line:col: field: value — what is valid`` line per error of ``exc``.

    ``locate(loc, key)`` overrides where a field path points (merged files); by default
    the position comes from ``tree`` in file ``name``.
    """

    def where(loc: Loc, key: bool = False) -> str:
        if locate is not None:
            return locate(loc, key)
        line, col = position(tree, loc, key=key)
        return f"{name}:{line}:{col}"

    errors = [(_clean_loc(tuple(e["loc"]), tree), e) for e in exc.errors()]
    locs = [loc for loc, _ in errors]
    # union branches: keep the branch that got deepest
    errors = [(loc, e) for loc, e in errors
              if not any(len(o) > len(loc) and o[: len(loc)] == loc for o in locs)]
    out: list[str] = []
    seen: set[str] = set()
    for loc, err in errors:
        kind = err["type"]
        if kind == "extra_forbidden":
            valid = _fields_at(model, loc) if model is not None else []
            near = difflib.get_close_matches(str(loc[-1]), valid, n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            listing = f" — valid fields here: {', '.join(valid)}" if valid else ""
            line = f"{where(loc, True)}: {field_path(loc)}: unknown field{hint}{listing}"
        elif kind == "missing":
            line = f"{where(loc)}: {field_path(loc)}: missing — this field is required"
        else:
            text = err["msg"].removeprefix("Value error, ")
            line = f"{where(loc)}: {field_path(loc)}: {_short(err.get('input'))} — {text}"
        if line in seen:
            continue
        seen.add(line)
        out.append(line)
    return out


def validate_tree(tree: Any, model: type[M], name: str, *,
                  error: type[UserError] = UserError, locate: Locate | None = None) -> M:
    """Validate a parsed tree against ``model``; ``error`` lists every problem, positioned."""
    if not isinstance(tree, Mapping):
        _raise(error, [f"{name}:1:1: (top level): {_short(tree)} — expected a YAML mapping "
                       f"of fields ({', '.join(sorted(model.model_fields))})"])
    try:
        return model.model_validate(plain(tree))
    except ValidationError as exc:
        _raise(error, problems(exc, tree, name, model, locate=locate))


def load_model(path: str | Path, model: type[M], *, error: type[UserError] = UserError,
               what: str = "YAML file", empty_ok: bool = False) -> M:
    """Read ``path`` and validate it as ``model`` (every error at once, file:line:col)."""
    tree = read_yaml(path, error=error, what=what)
    if tree is None and empty_ok:
        tree = CommentedMap()
    return validate_tree(tree, model, str(path), error=error)
