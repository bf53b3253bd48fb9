"""Hostile input shared by the reliability tests of several modules: nasty cell values,
how spreadsheets save a table and how tables get spoiled, and the tally of how each
case ended (conftest.py prints it at the end of a run)."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

import numpy as np
from hypothesis import strategies as st

TALLY: Counter[str] = Counter()

#: A clean practices table (header and first row) for the corrupted-table tests.
HEADER = ["practice_code", "practice_name", "list_size", "easting", "northing", "pcn_code"]
GOOD_ROW = ["A1", "Alpha", "12000", "510000", "430000", "N1"]


NASTY = [
    "",
    "NaN",
    "nan",
    "inf",
    "-1",
    "0",
    "1e308",
    "9" * 40,
    "12,0,00",
    "  ",
    "☃",
    "'",
    '"',
    "NULL",
    "#N/A",
    "=1+1",
    "0x10",
    "1.5",
    "-0",
    "\t",
    "B81008",
]


#: How Excel and friends write a CSV: separator, line ending, quoting, encoding.
EXCEL_STYLES = st.fixed_dictionaries(
    {
        "sep": st.sampled_from([",", ",", ";"]),
        "crlf": st.booleans(),
        "quote_all": st.booleans(),
        "encoding": st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"]),
    }
)


CELL_VALUES = st.sampled_from([*NASTY, "1e309", "-1e308", "12.5", "1,234", "+5", "é"]) | st.text(
    max_size=6
)


def serialise(header: list[str] | None, rows: list[list[str]], style: dict) -> bytes:
    """Write a table as a spreadsheet program would (falling back to UTF-8 if it must)."""
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=style["sep"],
        lineterminator="\r\n" if style["crlf"] else "\n",
        quoting=csv.QUOTE_ALL if style["quote_all"] else csv.QUOTE_MINIMAL,
    )
    writer.writerows([header, *rows] if header is not None else rows)
    try:
        return buffer.getvalue().encode(style["encoding"])
    except UnicodeEncodeError:
        return buffer.getvalue().encode("utf-8")


def corrupt(
    draw: st.DrawFn, header: list[str] | None, rows: list[list[str]], names: list[str]
) -> list[str]:
    """Spoil a table in place as real files get spoiled; return what was done."""
    done = []
    for _ in range(draw(st.integers(1, 3))):
        op = draw(
            st.sampled_from(
                [
                    "cell",
                    "cell",
                    "thousands",
                    "header",
                    "drop",
                    "dup_row",
                    "short",
                    "long",
                    "blank",
                ]
            )
        )
        r = draw(st.integers(0, len(rows) - 1))
        row = rows[r]
        width = len(header) if header is not None else max(len(x) for x in rows)
        c = draw(st.integers(0, width - 1))
        if op == "cell" and c < len(row):
            row[c] = draw(CELL_VALUES)
        elif op == "thousands" and c < len(row) and row[c].isdigit():
            row[c] = f"{int(row[c]):,}"
        elif op == "header" and header is not None:
            name = draw(st.sampled_from(names))
            header[c] = draw(st.sampled_from([name, name.lower(), f" {name} "]))
        elif op == "drop" and width > 1:
            for line in [header, *rows] if header is not None else rows:
                if line is not None and c < len(line):
                    del line[c]
        elif op == "dup_row":
            rows.append(list(row))
        elif op == "short" and row:
            rows[r] = row[: draw(st.integers(0, len(row) - 1))]
        elif op == "long":
            row.append(draw(st.sampled_from(NASTY)))
        elif op == "blank":
            rows.insert(r, [])
        else:
            continue
        done.append(f"{op} row {r} column {c}")
    return done


def check_error(message: str, name: str, what: str) -> None:
    """One line, naming the file and where in it (or why the whole file is unusable)."""
    assert "\n" not in message and "\r" not in message, message
    assert name in message, message
    assert re.search(r"column|row|line|empty|encoding|looks like|can be used", message), message
    TALLY[f"{what}: clear one-line error"] += 1


def check_table(table) -> None:
    """Every invariant of a practices table that was read."""
    assert table.index.is_unique
    assert (table["list_size"] > 0).all()
    assert np.isfinite(table[["easting", "northing"]].to_numpy()).all()
    assert table["hub_eligibility"].isin(["must", "may", "never"]).all()
