"""A model's rows, gathered family by family and packed into CSR.

Both models built as arrays gather their rows here: the network model of
:mod:`mergeopt.engine.formulation` and the joint two-level model of
:mod:`mergeopt.engine.federation`. A row family is added at once, its entries given as
(local row, column, value); :meth:`Rows.pack` numbers the rows in the order they were
added and sorts the entries by row, keeping their order within a row.
"""

from __future__ import annotations

import numpy as np

#: Arrays of every shape here: names, bounds, entries.
Vector = np.ndarray

#: Entries of some rows: (local row, column, value), one element each per entry.
Entries = tuple[Vector, Vector, Vector]


class Rows:
    """Rows gathered family by family, then packed into CSR."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.lower: list[Vector] = []
        self.upper: list[Vector] = []
        self.rows: list[Vector] = []
        self.cols: list[Vector] = []
        self.vals: list[Vector] = []

    def add(
        self,
        names: list[str],
        lower: float | Vector,
        upper: float | Vector,
        entries: Entries | None = None,
    ) -> None:
        """Rows ``names`` with entries (local row, column, value)."""
        count = len(names)
        first = len(self.names)
        self.names += names
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (count,)))
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (count,)))
        empty = np.zeros(0, dtype=np.int64)
        row, col, val = entries if entries is not None else (empty, empty, empty)
        self.rows.append(np.asarray(row, dtype=np.int64) + first)
        self.cols.append(np.asarray(col, dtype=np.int64))
        self.vals.append(np.asarray(val, dtype=float))

    def add_linked(
        self,
        names: list[str],
        lower: float | Vector,
        upper: float | Vector,
        members: Entries,
        link: Vector,
        factor: float | Vector,
    ) -> None:
        """Rows ``names``, row *k* holding the entries of ``members`` in it less ``factor``
        (one for every row, or one each) times its own column ``link[k]``: the shape of
        every "members within a bound times an indicator" family (e.g. ``x - y <= 0``)."""
        count = len(names)
        factors = np.broadcast_to(np.asarray(factor, dtype=float), (count,))
        self.add(names, lower, upper, stack(members, (np.arange(count), link, -factors)))

    def add_count(
        self, names: tuple[str, str], columns: Vector, low: float | None, high: float | None
    ) -> None:
        """At least ``low`` and at most ``high`` of ``columns`` chosen: the rows ``names``
        (the lower, the upper); a bound that is None adds no row."""
        entries = (np.zeros(len(columns), np.int64), columns, np.ones(len(columns)))
        if low is not None:
            self.add([names[0]], float(low), np.inf, entries)
        if high is not None:
            self.add([names[1]], -np.inf, float(high), entries)

    def add_implied_count(
        self, names: tuple[str, str], columns: Vector, low: int, high: int | None
    ) -> None:
        """Count rows implied by list sizes (:meth:`add_count`), only those that cut: at
        least ``low`` where that is more than one, at most ``high`` where that is fewer
        than all ``columns``."""
        cuts_high = high if high is not None and high < len(columns) else None
        self.add_count(names, columns, low if low > 1 else None, cuts_high)

    def pack(self) -> tuple[list[str], Vector, Vector, Vector, Vector, Vector]:
        """Names, lower and upper bounds, and the CSR row starts, columns and values."""
        row = np.concatenate(self.rows) if self.rows else np.zeros(0, np.int64)
        col = np.concatenate(self.cols) if self.cols else np.zeros(0, np.int64)
        val = np.concatenate(self.vals) if self.vals else np.zeros(0)
        order = np.argsort(row, kind="stable")
        start = np.zeros(len(self.names) + 1, dtype=np.int64)
        np.cumsum(np.bincount(row, minlength=len(self.names)), out=start[1:])
        lower = np.concatenate(self.lower) if self.lower else np.zeros(0)
        upper = np.concatenate(self.upper) if self.upper else np.zeros(0)
        return self.names, lower, upper, start, col[order], val[order]


def fewest_holding(caps: Vector, total: float) -> int | None:
    """How many of the largest ``caps`` it takes to hold ``total``; None if all cannot."""
    fits = np.cumsum(np.sort(caps)[::-1]) >= total * (1 - 1e-9)
    return int(np.argmax(fits)) + 1 if fits.any() else None


def stack(*parts: Entries) -> Entries:
    """The entries of ``parts``, one after another."""
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
    )


def one_row(*pairs: float) -> Entries:
    """Entries of a single row from (column, value, column, value, ...)."""
    cols = np.asarray(pairs[0::2], dtype=np.int64)
    return np.zeros(len(cols), np.int64), cols, np.asarray(pairs[1::2], dtype=float)
