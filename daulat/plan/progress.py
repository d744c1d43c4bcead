"""Live progress on stderr while the planner works: phase, elapsed seconds, MIP gap.

HiGHS writes its log to a temporary file (never the console, so ``--json`` stdout holds
only the summary); a thread follows the file and shows each new gap or simplex iteration
on the phase's rich status line. Nothing here changes what is solved.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn

from daulat.console import err_console

__all__ = ["Stage", "follow_log", "highs_progress", "quiet_stdout", "stage"]

#: How often the live status re-reads HiGHS's log, seconds.
_LOG_POLL_S = 0.25
#: A HiGHS branch-and-bound line: [source] nodes queue leaves explored% bound best gap …
_MIP_LINE = re.compile(r"^\s*[A-Za-z]?\s+(\d+)\s+\d+\s+\d+\s+[\d.]+%\s+(\S+)\s+(\S+)\s+(\S+)")
#: A HiGHS simplex line: iteration objective Pr|Du|Ph1|Ph2: infeasibilities time
_LP_LINE = re.compile(r"^\s*(\d+)\s+(-?[\d.]+e[+-]\d+)\s+(?:Pr|Du|Ph1|Ph2):")


def highs_progress(line: str) -> str | None:
    """Read one line of HiGHS's log; return what the live status should show, or None.

    Branch-and-bound lines give the MIP gap ("gap 0.32 %, 1 nodes"; "gap –" before the
    first incumbent), simplex lines the iteration ("simplex iteration 4,210")."""
    m = _MIP_LINE.match(line)
    if m:
        nodes, _, best, gap = m.groups()
        if gap.endswith("%"):
            text = f"gap {gap[:-1]} %"
        else:  # 'inf' or 'Large': no incumbent yet, or a gap above 10^4 %
            text = "gap – (no plan yet)" if best == "inf" else "gap large"
        return f"{text}, {int(nodes):,} nodes"
    m = _LP_LINE.match(line)
    if m:
        return f"simplex iteration {int(m.group(1)):,}"
    return None


class Stage:
    """One phase's live status on stderr: label, elapsed seconds and a detail (the gap)."""

    def __init__(self, label: str, progress: Progress | None = None,
                 task: TaskID | None = None) -> None:
        self.label = label
        self.progress = progress
        self.task = task
        self.last = ""

    @property
    def live(self) -> bool:
        """Whether anyone sees the status (not quiet)."""
        return self.progress is not None

    def detail(self, text: str) -> None:
        """Show ``text`` next to the label (e.g. the current MIP gap)."""
        self.last = text
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, description=f"{self.label}… {text}")


@contextlib.contextmanager
def stage(label: str, quiet: bool) -> Iterator[Stage]:
    """A phase with a rich live status on stderr (spinner, label, detail, elapsed s);
    on exit one line 'label: 12.3 s' (and the last detail, e.g. the gap)."""
    started = time.perf_counter()
    if quiet:
        yield Stage(label)
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"),
               TextColumn("[dim]{task.elapsed:.0f} s[/]"))
    with Progress(*columns, console=err_console, transient=True) as progress:
        stage = Stage(label, progress, progress.add_task(f"{label}…", total=None))
        yield stage
    tail = f" ({stage.last})" if stage.last else ""
    err_console.print(f"[dim]{label}: {time.perf_counter() - started:.1f} s{tail}[/]",
                      highlight=False)


@contextlib.contextmanager
def follow_log(stage: Stage | None, options: dict[str, Any]) -> Iterator[None]:
    """While HiGHS runs, write its log to a temporary file (never the console) and show
    each new gap or iteration on ``stage``'s live status."""
    if stage is None or not stage.live:
        yield
        return
    fd, path = tempfile.mkstemp(prefix="daulat-highs-", suffix=".log")
    os.close(fd)
    options.update(output_flag=True, log_to_console=False, log_file=path)
    done = threading.Event()

    def follow() -> None:
        pos = 0
        while True:
            finished = done.wait(_LOG_POLL_S)
            with contextlib.suppress(OSError), open(path, "rb") as f:
                f.seek(pos)
                chunk = f.read()
                cut = chunk.rfind(b"\n") + 1  # whole lines only
                pos += cut
                for line in chunk[:cut].decode("utf-8", errors="replace").splitlines():
                    text = highs_progress(line)
                    if text is not None:
                        stage.detail(text)
            if finished:
                return

    reader = threading.Thread(target=follow, name="highs-log", daemon=True)
    reader.start()
    try:
        yield
    finally:
        done.set()
        reader.join()
        with contextlib.suppress(OSError):
            os.unlink(path)


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Silence file-descriptor 1 while HiGHS runs: it prints its banner from C before any
    option applies, and ``--json`` stdout must hold only the summary."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        yield
        return
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
