"""Reading tables from disk: CSV (tolerantly, one reader for every table), Parquet,
GeoPackage, GeoJSON.

Every CSV mergeopt reads (practices, premises, NHS Digital's files, postcode lookups,
travel matrices) goes through :func:`read_csv`, so a file Excel saved with semicolons or
as "Unicode text" is read wherever it is given. Cells are read as text, so codes keep
their leading zeros; each caller turns the text into typed columns and says which rows
it could not read.
"""

from __future__ import annotations

import codecs
import csv
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from mergeopt._csv import restore
from mergeopt._errors import InputError, printable
from mergeopt._extras import require

#: What a byte-order mark looks like once decoded, rightly or as Latin-1.
_BOMS = ("\ufeff", "ï»¿")
#: The separators Excel and scripts write, in the order they are looked for.
_SEPARATORS = (",", ";", "\t")


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV, Parquet, GeoPackage or GeoJSON file as it is.

    CSVs are read as text by :func:`read_csv`, empty cells as None, the ``'`` mergeopt
    puts before text that would start a spreadsheet formula taken off. The index is each
    row's number in the file as a user counts it: for a CSV as a spreadsheet shows it
    (the header is row 1), for the other formats from 1.
    """
    if not path.exists():
        raise InputError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        # a table mergeopt wrote (prepare's) reads back as it was: see mergeopt._csv
        frame = restore(read_csv(path))
        return frame.where(frame != "", None)
    try:
        if suffix == ".parquet":
            require("pyarrow", purpose=f"{path}: reading a Parquet table")
            table: pd.DataFrame = pd.read_parquet(path)
        elif suffix in (".gpkg", ".geojson", ".json", ".shp"):
            table = gpd.read_file(path)
        else:
            raise InputError(
                f"{path}: unsupported format '{suffix}' (use .csv, .parquet, .gpkg or .geojson)"
            )
    except InputError:
        raise
    except Exception as exc:  # a reader's own message is the most useful one here
        raise InputError(f"{path}: cannot read ({str(exc).splitlines()[0]})") from None
    table.index = pd.RangeIndex(1, len(table) + 1)
    return table


def read_csv(
    path: Path,
    *,
    header: bool = True,
    nrows: int | None = None,
    usecols: Callable[[str], bool] | None = None,
    names: Callable[[str], str] = str.strip,
    label: str | None = None,
    what: str = "file",
    quote_names: bool = True,
) -> pd.DataFrame:
    """Every cell of a CSV file as text, however Excel or a script saved it.

    Encodings: UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark
    (Excel's "Unicode text"), else Latin-1 (older Excel exports). Separators: commas, or
    semicolons or tabs where the first line has no comma. CRLF line endings and quoted
    cells (with separators or line breaks inside) are read as such.

    Parameters
    ----------
    path
        The file.
    header
        Whether the first line names the columns.
    nrows
        Read only this many rows (after the header).
    usecols
        Read only the columns whose name (as written) it accepts.
    names
        How column names are written in the result (default: stripped of spaces); a
        byte-order mark is always removed. Two names alike after it are refused.
    label
        How messages name the file (default: its path).
    what
        What the file is, for "not found" (default "file").
    quote_names
        Whether messages quote column names (``column 'minutes'``) or not (``column CODE``).

    Returns
    -------
    pandas.DataFrame
        Cells as ``str``, stripped of surrounding spaces, ``""`` where empty. Rows with
        every cell empty (a spreadsheet's blank rows) are left out; the index is each
        row's number as a spreadsheet shows it (with a header, the header is row 1).

    Raises
    ------
    InputError
        One line naming the file: not found, empty, not text in its encoding, a column
        named twice, a row longer than the header, or a CSV the parser cannot read.
    """
    shown = label if label is not None else str(path)
    if not path.is_file():
        raise InputError(f"{shown}: {what} not found")
    encoding, separator, blank = _sniff(path, shown)
    try:
        return _read(path, encoding, separator, blank, shown, header, nrows, usecols, names,
                     quote_names)  # fmt: skip
    except UnicodeDecodeError:
        if encoding != "utf-8-sig":
            raise InputError(
                f"{shown}: cannot be read as CSV: it starts as {encoding.upper()} text but "
                f"is not valid {encoding.upper()} (wrong encoding); save it as CSV UTF-8"
            ) from None
        return _read(path, "latin-1", separator, blank, shown, header, nrows, usecols, names,
                     quote_names)  # fmt: skip


#: How a file in Excel's own formats starts (xlsx: a zip archive; xls: an OLE file).
_WORKBOOK = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


def _sniff(path: Path, shown: str) -> tuple[str, str, int]:
    """The encoding to try first, the separator, and how many blank lines lead the file.

    Raises
    ------
    InputError
        The file is an Excel workbook (or another zip file), not CSV text.
    """
    with path.open("rb") as file:
        start = file.read(65536)
    if start.startswith(_WORKBOOK):
        raise InputError(
            f"{shown}: is an Excel workbook (or a zip file), not CSV text: open it in Excel "
            "and save it as 'CSV UTF-8'"
        )
    utf16 = start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    encoding = "utf-16" if utf16 else "utf-8-sig"
    lines = start.decode(encoding, errors="replace").splitlines()
    blank = next((k for k, line in enumerate(lines) if line.strip()), 0)
    first_line = lines[blank] if lines else ""
    separator = next((s for s in _SEPARATORS if s in first_line), ",")
    return encoding, separator, blank


def _read(
    path: Path,
    encoding: str,
    separator: str,
    blank: int,
    shown: str,
    header: bool,
    nrows: int | None,
    usecols: Callable[[str], bool] | None,
    names: Callable[[str], str],
    quote_names: bool,
) -> pd.DataFrame:
    options: dict[str, Any] = {
        # pandas' fast reader ends a cell at a NUL byte; the Python one keeps it (for the
        # caller to refuse: a NUL once cut a practice code short)
        "engine": "python" if encoding != "utf-16" and _holds_nul(path) else "c",
        "sep": separator,
        "encoding": encoding,
        "skiprows": blank,
        "dtype": str,
        "index_col": False,
        "keep_default_na": False,
        "na_filter": False,
        "skipinitialspace": True,
        "skip_blank_lines": False,
    }
    written: list[str] = []
    if header:
        first = _parse(path, shown, blank, header=None, nrows=1, **options)
        written = [_strip_bom(name) for name in first.iloc[0].tolist()] if len(first) else []
        _refuse_repeats([names(name) for name in written], shown, quote_names)
    frame = _parse(
        path, shown, blank, header=0 if header else None, nrows=nrows, usecols=usecols, **options
    )
    if header:
        raw = written if usecols is None else [_strip_bom(c) for c in frame.columns]
        frame.columns = [names(_strip_bom(name)) for name in raw]
    elif len(frame) and len(frame.columns):
        frame.iloc[0, 0] = _strip_bom(frame.iloc[0, 0])
    # the Python reader gives None, not "", for the cells of a blank or short row
    stripped = pd.DataFrame(frame.fillna("").apply(lambda column: column.str.strip()))
    first_row = blank + (2 if header else 1)
    stripped.index = pd.RangeIndex(first_row, first_row + len(stripped))
    blank_rows = (stripped == "").all(axis=1)
    return stripped.loc[~blank_rows]


def _holds_nul(path: Path) -> bool:
    """Whether a file holds a NUL byte anywhere (read in pieces: files may be large)."""
    with path.open("rb") as file:
        return any(b"\0" in piece for piece in iter(lambda: file.read(1 << 20), b""))


def _parse(
    path: Path, shown: str, blank: int, *, header: int | None, **options: Any
) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # a row longer than the header would otherwise shift every value of it
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame: pd.DataFrame = pd.read_csv(path, header=header, **options)
            return frame
    except pd.errors.EmptyDataError:
        raise InputError(f"{shown}: the file is empty") from None
    except pd.errors.ParserWarning:
        raise InputError(
            f"{shown}: cannot be read as CSV: line {blank + 2} has more fields than the "
            f"header (line {blank + 1})"
        ) from None
    except (pd.errors.ParserError, csv.Error) as error:
        reason = " ".join(str(error).split())
        raise InputError(f"{shown}: cannot be read as CSV: {reason}") from None


def _refuse_repeats(names: list[str], shown: str, quote: bool) -> None:
    """A header naming a column twice: which of them holds the data would be a guess."""
    counts = pd.Series([n for n in names if n != ""], dtype=object).value_counts()
    repeated = counts[counts > 1]
    if len(repeated):
        said = ", ".join(
            f"{_quoted(name) if quote else printable(name)} appears {count} times"
            for name, count in repeated.items()
        )
        raise InputError(f"{shown}: column {said} in the header (row 1); keep one of each")


def _quoted(name: object) -> str:
    return f"'{printable(name)}'"


def _strip_bom(value: object) -> str:
    text = str(value)
    for mark in _BOMS:
        text = text.replace(mark, "")
    return text
