"""Errors mergeopt raises, each with the exit code the command line gives it.

Every error a user can cause carries a one-line message naming the file, the column
or key, and the offending rows, so the command line can print it as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


class MergeoptError(Exception):
    """Base class: a problem mergeopt can explain in one line."""

    exit_code = 1


class InputError(MergeoptError, ValueError):
    """The config or an input table is wrong (exit code 2); nothing was solved or written."""

    exit_code = 2


class OutputError(InputError):
    """A destination cannot be written (exit code 2): not a folder mergeopt may replace,
    a path too long for the file system, a read-only folder or a full disk. Nothing was
    written and whatever was there before is intact."""


class InfeasibleError(MergeoptError):
    """The rules cannot all be met (exit code 3); the message says which rule or practice.

    ``overrides`` holds config changes (dotted keys) that together would let them be met,
    where the explanation found them.
    """

    exit_code = 3

    def __init__(self, message: str, *, overrides: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.overrides = overrides or {}


class NoSolutionError(MergeoptError):
    """The solver found no grouping within its time limit (exit code 4)."""

    exit_code = 4


def describe_rows(labels: Iterable[object], *, limit: int = 5) -> str:
    """Name a few offending rows, e.g. ``rows 3, 7 (+2 more)``.

    >>> describe_rows([3, 7, 9, 12], limit=2)
    'rows 3, 7 (+2 more)'
    """
    items: Sequence[object] = list(labels)
    shown = ", ".join(str(item) for item in items[:limit])
    more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
    noun = "row" if len(items) == 1 else "rows"
    return f"{noun} {shown}{more}"


def printable(text: object) -> str:
    """Text with control characters escaped, so a message stays on one line.

    >>> printable("a\\tb")
    'a\\\\tb'
    """
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


class SolverError(MergeoptError):
    """The solver itself failed (exit code 5): not a time limit, not infeasible rules.

    Raised by the run layer for the engine's :class:`mergeopt.engine.errors.SolverError`.
    """

    exit_code = 5


class InputWarning(UserWarning):
    """Something about the inputs a user should know that does not stop the run
    (practices the NHS files name but that could not be used, and why)."""
