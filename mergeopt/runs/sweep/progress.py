"""The progress of a sweep: a bar on a terminal, a line per scenario off one."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from mergeopt.runs.sweep.table import SOLVED, Row


class Tracker:
    """Rows as scenarios finish, shown as a progress bar (or a line each off a terminal)."""

    def __init__(self, total: int, *, reused: int, enabled: bool, title: str) -> None:
        self.rows: dict[str, Row] = {}
        self.total, self.reused, self.enabled = total, reused, enabled
        self.failed = 0
        self.console = Console(stderr=True)
        self.bar: Progress | None = None
        self.task_id: Any = None
        if enabled and self.console.is_terminal:
            self.bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("done, {task.fields[running]} running, {task.fields[failed]} failed"),
                TimeElapsedColumn(),
                TextColumn("elapsed,"),
                TimeRemainingColumn(),
                TextColumn("left"),
                console=self.console,
            )
            self.task_id = self.bar.add_task(
                title, total=total, completed=reused, running=0, failed=0
            )
        if enabled and reused:
            self.console.print(
                f"{reused} of {total} scenario(s) already finished with the same config and "
                "inputs: not solved again (--force to redo)",
                highlight=False,
            )

    def __enter__(self) -> Tracker:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def running(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task_id, running=count)

    def finished(self, name: str, row: Row) -> None:
        self.rows[name] = row
        self.failed += row["status"] == "failed"
        if self.bar is not None:
            self.bar.update(self.task_id, advance=1, failed=self.failed)
        if self.enabled:
            count = self.reused + len(self.rows)
            line = f"[{count}/{self.total}] {name}: {_describe(row)}"
            style = "red" if row["status"] == "failed" else None
            self.console.print(line, highlight=False, style=style, soft_wrap=True)


def _describe(row: Mapping[str, Any]) -> str:
    """One line for a comparison row: figures if solved, else why not."""
    status = str(row["status"])
    if status in SOLVED:
        unit = row.get("travel_unit") or ""
        gap = "" if status == "optimal" else f" (gap {_number_or(row.get('gap'), '{:.2%}')})"
        return (
            f"{status}{gap}, {row['groups']} groups, objective {row['objective']:,.1f}, "
            f"mean travel {row['mean_travel']:.2f} {unit}, max {row['max_travel']:.2f}"
        )
    return f"{status}: {row.get('status_text') or ''}"


def _number_or(value: Any, pattern: str, missing: str = "unknown") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    return pattern.format(value)
