"""Reading shell examples out of Markdown and checking each `daulat` call against the real CLI.

Shared by the docs checks (tests/test_docs.py) and the operations guide's (tests/test_deploy.py).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any

import typer.main

from daulat.cli import app

__all__ = ["blocks", "check_call", "daulat_calls", "shell_lines"]


def blocks(text: str) -> list[tuple[str | None, str, str]]:
    """(test name from a preceding `<!-- test: NAME -->`, language, body) of each fence."""
    out = []
    pattern = re.compile(r"(?:<!-- test: (\S+) -->\n)?```(\w*)\n(.*?)```", re.S)
    for m in pattern.finditer(text):
        out.append((m.group(1), m.group(2), m.group(3)))
    return out


def shell_lines(script: str) -> Iterator[str]:
    """Logical shell lines (backslash continuations joined, comments dropped)."""
    for line in script.replace("\\\n", " ").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


def daulat_calls(line: str) -> Iterator[list[str]]:
    """Each `daulat …` invocation in a shell line, as its argument tokens."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    tokens = list(lexer)

    def operator(t: str) -> bool:
        return bool(t) and set(t) <= set(";&|()<>")

    i, start = 0, True
    while i < len(tokens):
        tok = tokens[i]
        if operator(tok):
            start = True
        elif start and re.match(r"^\w+=", tok):  # VAR=value before a command
            pass
        elif start and tok == "sudo":  # sudo [-u USER] COMMAND
            if i + 2 < len(tokens) and tokens[i + 1] == "-u":
                i += 2
        elif start:
            start = False
            if tok == "daulat" or tok.endswith("/bin/daulat"):
                args = []
                for t in tokens[i + 1:]:
                    if operator(t):
                        break
                    args.append(t)
                yield args
        i += 1


def check_call(args: list[str]) -> list[str]:
    """Problems with one `daulat` invocation: an unknown command or option."""
    cmd: Any = typer.main.get_command(app)  # typer's own click: duck-typed groups
    path = ["daulat"]
    rest = list(args)
    # click's group API (get_command/list_commands): the root loads a stage when asked
    while getattr(cmd, "commands", None) is not None and rest and not rest[0].startswith("-"):
        sub = cmd.get_command(None, rest[0])
        if sub is None:
            return [f"`{' '.join(path)} {rest[0]}` is not a command "
                    f"(commands: {', '.join(sorted(cmd.list_commands(None)))})"]
        path.append(rest.pop(0))
        cmd = sub
    if getattr(cmd, "commands", None) is not None and not getattr(
            cmd, "invoke_without_command", False):
        return [f"`{' '.join(path)}` needs a sub-command"]
    known = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)} | {"--help"}
    return [f"`{' '.join(path)}` has no option {tok.split('=')[0]}"
            for tok in rest if tok.startswith("-") and tok.split("=")[0] not in known]
