"""CSV cells that a spreadsheet shows as text, never runs as a formula.

A practice name from an input table such as ``=HYPERLINK("http://...")`` would run as a
formula when a commissioner opens assignments.csv in Excel. Every text cell mergeopt
writes to a CSV that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
written with a ``'`` in front (the OWASP advice for CSV injection); numbers stay numbers.
So that a table mergeopt wrote reads back as it was (a run directory opened again, a
prepared practices table, a travel matrix), :func:`restore` takes the ``'`` off again:
the rule is reversible, since a text that already starts with ``'`` and then one of those
characters gets a second ``'``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

#: What a spreadsheet takes as the start of a formula.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _needs_quote(text: str) -> bool:
    return text.startswith(TRIGGERS) or (text.startswith("'") and _needs_quote(text[1:]))


def quote(value: Any) -> Any:
    """A cell as written: text that would start a formula gets a ``'`` in front.

    >>> quote("=HYPERLINK(1)"), quote("-"), quote("Hull"), quote(-3)
    ("'=HYPERLINK(1)", "'-", 'Hull', -3)
    """
    if isinstance(value, str) and _needs_quote(value):
        return f"'{value}"
    return value


def unquote(value: Any) -> Any:
    """A cell as it was before :func:`quote`.

    >>> unquote("'=HYPERLINK(1)"), unquote("''=x"), unquote("'quoted'")
    ('=HYPERLINK(1)', "'=x", "'quoted'")
    """
    if isinstance(value, str) and value.startswith("'") and _needs_quote(value[1:]):
        return value[1:]
    return value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a table whose text cells (and column names) cannot start a formula."""
    return _each_text_cell(frame, quote)


def restore(frame: pd.DataFrame) -> pd.DataFrame:
    """A table read from a CSV mergeopt wrote, its text cells as they were."""
    return _each_text_cell(frame, unquote)


def _each_text_cell(frame: pd.DataFrame, change: Callable[[Any], Any]) -> pd.DataFrame:
    """``change`` applied to every text cell: once per distinct value (a travel matrix has
    millions of rows but only as many codes as practices)."""
    changed = frame.copy()
    for k in range(changed.shape[1]):  # by position: a column name may repeat
        column = changed.iloc[:, k]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        values = pd.unique(column.to_numpy(dtype=object))
        mapping = {value: change(value) for value in values if isinstance(value, str)}
        mapping = {value: new for value, new in mapping.items() if new != value}
        if mapping:
            changed.isetitem(k, column.replace(mapping).array)
    changed.columns = pd.Index([change(name) for name in changed.columns])
    return changed


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a table as CSV, its text cells safe to open in a spreadsheet."""
    neutralise(frame).to_csv(path, index=False)
