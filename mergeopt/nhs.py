"""Build the practices table from the NHS files as downloaded.

Every ICB analyst starts from the same public files. :func:`prepare` reads any combination
of them, joins them on the practice code, keeps the practices of the areas asked for and
reports every practice it could not use; :func:`write_prepared` writes the table and that
report side by side.

The files (each detected from its header; the wrong file gets "this looks like X,
expected Y"):

``list_sizes`` (required)
    NHS Digital "Patients Registered at a GP Practice", ``gp-reg-pat-prac-all.csv``: one
    row per practice with ``NUMBER_OF_PATIENTS``. Both layouts: ``SUB_ICB_LOCATION_CODE``
    (July 2022 on) and ``CCG_CODE`` (before; the CCG code is then taken as the sub-ICB
    code, which is what most CCGs became). The breakdowns by age, sex or LSOA are refused.
``mapping``
    The same publication's ``gp-reg-pat-prac-map.csv``: name, postcode, PCN, sub-ICB,
    ICB. The 2021 layout (``CCG_CODE``, ``STP_CODE``) is read too, STPs standing for the
    ICBs that replaced them.
``epraccur``
    The ODS practice file: no header row, 27 columns (0 code, 1 name, 3 ICB, 9 postcode,
    11 close date, 12 status, 14 commissioner). Gives names and postcodes as a fallback
    and closures (status C closed, D dormant). The prescribing setting (column 25) is not
    used: the list-size publication is the authority on who has registered patients
    (the Oct 2025 mapping holds 13 practices that the Dec 2022 epraccur does not class as
    GP practices).
``epcn_partners``, ``epcn_details``
    The two sheets of the ODS ePCN file, as CSV: practice-to-network links (only links
    with no end date count) and the networks' names.
``postcodes``
    A postcode lookup: NSPL or ONSPD as downloaded (``pcds``/``pcd``/``pcd7``..., ``lat``,
    ``long``, ``oseast1m``/``east1m``, ``osnrth1m``/``north1m``) or any table with a
    postcode column and lat/long and/or easting/northing. Postcodes are matched with
    spaces removed and case ignored. Where it lacks easting/northing they are computed
    from lat/long with pyproj (EPSG:4326 -> EPSG:27700, rounded to the metre as NSPL
    gives them), and the other way round. NSPL's 99.999999 "no grid reference" latitude
    counts as no coordinates.
``premises``
    Any table with a practice code column; its other columns are appended to the
    practices table, joined on the code (empty for a practice it lacks; its rows for
    practices not selected are ignored). Columns of whole numbers become numbers.

CSV files may be UTF-8 (with or without a byte-order mark), Latin-1 or UTF-16 with a
byte-order mark, comma-separated or, as Excel saves them in much of Europe,
semicolon-separated (a header with no comma).

Which practices. The practices of the list-size file and of the mapping. The ODS files
only add detail: epraccur and ePCN list practices closed decades ago. ``icb``,
``sub_icb``, ``pcn`` and ``practices`` select from these; a practice is kept if it
matches any of them (no selector: all). ICB codes may be the 3-character code (``QOQ``)
or the ONS code (``E54000051``), sub-ICB codes the NHS code (``03F``) or the ONS code
(``E38000085``). A code that matches no practice is an error.

Precedence. Name, postcode, PCN, sub-ICB and ICB come from the newest file that gives
them for the practice, by publication date: the ``EXTRACT_DATE`` of the list-size file
and of the mapping, and for the ODS files (which carry no date) the latest date written
in them. On a tie: mapping, list-size file, ePCN, epraccur. A network's code and name come
as a pair from the same file, as do a sub-ICB's or ICB's NHS and ONS codes. An ICB still
unknown is taken from the mapping's sub-ICB -> ICB relation. List sizes come only from
the list-size file; the output says which month in ``list_size_date``.

Which practices cannot be used (the ``excluded`` report; a practice may have several
reasons, joined by "; "):

- closed: in a list-size file older than the mapping but not in the mapping (closed or
  merged since), or closed or dormant in an epraccur newer than every file listing it;
- no list size in the list-size file, or a list size of 0;
- no postcode, a postcode not in the lookup, or one the lookup has no coordinates for.

Errors (:class:`~mergeopt._errors.InputError`, one line naming the file, the column and
the rows; row numbers are line numbers in the file, the header being line 1): a missing
required file, the wrong file (naming the columns it lacks), a header naming a column
twice, a row longer than the header, a list-size file mixing extract dates or giving
sizes that are not whole numbers (or over :data:`MAX_LIST_SIZE`), a practice code that
is not one (a letter and five letters or digits) or appears twice in a file (in ePCN:
twice with no end date), a coordinate of a postcode the practices need that is text,
infinite or outside the UK, such a postcode given twice with different coordinates, a
selected practice in a list-size file at least as new as the mapping but not in it (the
two do not belong together: use the mapping of the same month), a code matching nothing,
selecting by ICB with no file that gives ICBs, no usable practice at all.
"""

from __future__ import annotations

import csv
import difflib
import os
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mergeopt._errors import InputError, describe_rows

__all__ = ["CANONICAL_COLUMNS", "EXCLUDED_COLUMNS", "Prepared", "prepare", "write_prepared"]

CANONICAL_COLUMNS: tuple[str, ...] = (
    "practice_code",
    "practice_name",
    "postcode",
    "list_size",
    "lat",
    "long",
    "easting",
    "northing",
    "pcn_code",
    "pcn_name",
    "sub_icb_code",
    "icb_code",
)
"""The practices table every part of mergeopt reads (as data/hull/practices.csv)."""

EXCLUDED_COLUMNS: tuple[str, ...] = ("practice_code", "practice_name", "reason")

LIST_SIZES, MAPPING, EPRACCUR, EPCN = "list_sizes", "mapping", "epraccur", "epcn_partners"
EPCN_DETAILS, POSTCODES, PREMISES = "epcn_details", "postcodes", "premises"
_BREAKDOWN, _OTHER_ODS = "list_breakdown", "other_ods"

_DESCRIPTIONS = {
    LIST_SIZES: "the list-size file of 'Patients Registered at a GP Practice' "
    "(gp-reg-pat-prac-all.csv)",
    _BREAKDOWN: "a breakdown of 'Patients Registered at a GP Practice' by age, sex or LSOA "
    "(not gp-reg-pat-prac-all.csv)",
    MAPPING: "the practice mapping file of 'Patients Registered at a GP Practice' "
    "(gp-reg-pat-prac-map.csv)",
    EPRACCUR: "the ODS practice file (epraccur.csv, no header row)",
    _OTHER_ODS: "an ODS file that does not list practices (first code is not a practice code)",
    EPCN: "the ePCN core partner sheet (ePCN_PCN_Core_Partner_Details)",
    EPCN_DETAILS: "the ePCN details sheet (ePCN_PCNDetails)",
    POSTCODES: "a postcode lookup (postcode with lat/long or easting/northing, as NSPL)",
    PREMISES: "a premises table (a practice code column and premises columns)",
}

_FIELDS = (
    "practice_name",
    "postcode",
    "pcn_code",
    "pcn_name",
    "sub_icb_code",
    "sub_icb_ons",
    "icb_code",
    "icb_ons",
)
_FIELD_GROUPS = (
    ("practice_name",),
    ("postcode",),
    ("pcn_code", "pcn_name"),
    ("sub_icb_code", "sub_icb_ons"),
    ("icb_code", "icb_ons"),
)
_TIE_ORDER = {MAPPING: 0, LIST_SIZES: 1, EPCN: 2, EPRACCUR: 3}

_PRACTICE_CODE = re.compile(r"^[A-Z][A-Z0-9]{5}$")
_ODS_STATUS = {"A", "C", "D", "P"}
_POSTCODE_NAMES = ("PCDS", "PCD", "PCD2", "PCD7", "PCD8", "POSTCODE", "PCD_NOSPACE")
_LAT_NAMES = ("LAT", "LATITUDE")
_LONG_NAMES = ("LONG", "LON", "LNG", "LONGITUDE")
_EAST_NAMES = ("OSEAST1M", "EAST1M", "EASTING", "EASTING_OSGB", "EASTINGS")
_NORTH_NAMES = ("OSNRTH1M", "NORTH1M", "NORTHING", "NORTHING_OSGB", "NORTHINGS")
_CODE_NAMES = ("PRACTICE_CODE", "PRACTICE CODE", "CODE", "ORGANISATION CODE", "ORG_CODE")
_EPRACCUR_DATE_COLUMNS = (10, 11, 15, 16)
#: More registered patients than this (England has ~63 million people; the largest list
#: is under 100,000) is a corrupted figure, not a practice.
MAX_LIST_SIZE = 10_000_000
#: Where a practice can be: lat/long and British National Grid metres (the UK's
#: extent); a lookup value outside is a corrupted figure, not a place.
_PLAUSIBLE = {
    "lat": (49.0, 61.0),
    "long": (-9.0, 2.0),
    "easting": (1.0, 700_000.0),
    "northing": (1.0, 1_300_000.0),
}
#: Cells that mean "no value" in a postcode lookup.
_MISSING = {"", "NAN", "NA", "N/A", "#N/A", "NULL", "NONE"}


@dataclass(frozen=True)
class Prepared:
    """The practices table built from the NHS files, and the practices left out.

    Attributes
    ----------
    practices
        One row per usable practice, sorted by ``practice_code``, index 0..n-1. Columns:
        :data:`CANONICAL_COLUMNS` (``list_size`` and ``easting``/``northing`` integers,
        ``lat``/``long`` floats, the rest strings, ``""`` where no file gives a network
        or ICB), then ``list_size_date`` (``YYYY-MM`` of the list-size file), then the
        premises table's columns if one was given.
    excluded
        One row per selected practice that could not be used, sorted by code: columns
        ``practice_code``, ``practice_name``, ``reason`` (plain English).
    """

    practices: pd.DataFrame
    excluded: pd.DataFrame

    def summary(self) -> str:
        """Say what was kept and list every practice left out, for printing."""
        kept = self.practices
        dates = ", ".join(sorted(set(kept["list_size_date"]))) if len(kept) else "-"
        lines = [
            f"{len(kept):,} practices, {int(kept['list_size'].sum()):,} patients "
            f"(list sizes {dates})"
        ]
        if len(self.excluded):
            noun = "practice" if len(self.excluded) == 1 else "practices"
            lines.append(f"{len(self.excluded):,} {noun} left out:")
            lines.extend(
                f"  {row.practice_code} {row.practice_name}: {row.reason}"
                for row in self.excluded.itertuples()
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class _Source:
    """One file read into the standard fields, indexed by practice code."""

    role: str
    path: Path
    date: pd.Timestamp | None
    table: pd.DataFrame  # _FIELDS as strings ("" unknown) + "_line" (+ role extras)
    ccg_layout: bool = False

    @property
    def label(self) -> str:
        when = f" ({self.date:%b %Y})" if self.date is not None else ""
        return f"{self.path.name}{when}"


def prepare(
    *,
    list_sizes: Path | None = None,
    mapping: Path | None = None,
    epraccur: Path | None = None,
    epcn_partners: Path | None = None,
    epcn_details: Path | None = None,
    postcodes: Path | None = None,
    premises: Path | None = None,
    icb: Sequence[str] = (),
    sub_icb: Sequence[str] = (),
    pcn: Sequence[str] = (),
    practices: Sequence[str] = (),
) -> Prepared:
    """Build the practices table from NHS files as downloaded.

    Parameters
    ----------
    list_sizes
        ``gp-reg-pat-prac-all.csv`` of any month (required).
    mapping
        ``gp-reg-pat-prac-map.csv``: names, networks, sub-ICBs and ICBs.
    epraccur
        The ODS practice file (closures, fallback names and postcodes).
    epcn_partners, epcn_details
        The ePCN sheets as CSV (networks, where no newer mapping gives them).
    postcodes
        A postcode lookup with coordinates (required).
    premises
        A table with a practice code column; its other columns are appended.
    icb, sub_icb, pcn, practices
        Keep the practices matching any of these codes (none given: all).

    Returns
    -------
    Prepared
        The usable practices and the report of those left out, with reasons.

    Raises
    ------
    InputError
        A missing or wrong file, inconsistent files, an unknown code, or no usable
        practice; the message names the file, the column and the rows.

    See the module docstring for the precedence between files.
    """
    if list_sizes is None:
        raise InputError(
            "prepare needs list_sizes (gp-reg-pat-prac-all.csv): no other file gives list sizes"
        )
    if postcodes is None:
        raise InputError(
            "prepare needs postcodes (a postcode lookup such as NSPL): no other "
            "file gives coordinates"
        )
    sizes = _read_list_sizes(Path(list_sizes))
    sources = [sizes]
    if mapping is not None:
        sources.append(_read_mapping(Path(mapping)))
    if epraccur is not None:
        sources.append(_read_epraccur(Path(epraccur)))
    if epcn_partners is not None or epcn_details is not None:
        sources.append(_read_epcn(epcn_partners, epcn_details))

    frame = _resolve(sources)
    chosen = _select(frame, sources, icb=icb, sub_icb=sub_icb, pcn=pcn, practices=practices)
    frame = frame.loc[chosen]
    _check_list_against_mapping(frame, sources)
    lookup = _read_postcodes(Path(postcodes), set(frame["postcode_key"]))
    reasons = _reasons(frame, sources, lookup, Path(postcodes))
    return _assemble(frame, reasons, lookup, sizes, None if premises is None else Path(premises))


def write_prepared(prepared: Prepared, out: Path) -> tuple[Path, Path]:
    """Write the practices table and, beside it, the report of practices left out.

    The table is CSV, Parquet or GeoPackage (points in EPSG:27700) by the suffix of
    ``out``; the report is always CSV, named ``<stem>_excluded.csv``. Both are written
    under temporary names and renamed, so a failure leaves no half-written file.

    Returns
    -------
    tuple of Path
        The table's path and the report's path.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in {".csv", ".parquet", ".gpkg"}:
        raise InputError(
            f"{out}: cannot write a practices table as '{suffix}': use .csv, .parquet or .gpkg"
        )
    report = out.with_name(f"{out.stem}_excluded.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    temps = [p.with_name(f".{p.stem}.{os.getpid()}.tmp{p.suffix}") for p in (out, report)]
    try:
        _write_table(prepared.practices, temps[0], suffix)
        prepared.excluded.to_csv(temps[1], index=False)
        for temp, final in zip(temps, (out, report), strict=True):
            os.replace(temp, final)
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)
    return out, report


# ---------------------------------------------------------------------------------------
# Reading files


def _norm(name: object) -> str:
    """A column name stripped of byte-order marks and spacing, upper case."""
    text = str(name).replace("\ufeff", "").replace("ï»¿", "")
    return " ".join(text.split()).upper()


def _read_csv(
    path: Path,
    *,
    header: bool,
    nrows: int | None = None,
    usecols: Callable[[str], bool] | None = None,
    normalise: bool = True,
) -> pd.DataFrame:
    """Read a CSV as strings, trying UTF-8 (BOM or not), then Latin-1; UTF-16 by its BOM.

    Column names are normalised by :func:`_norm` unless ``normalise`` is false (then
    only a byte-order mark is removed); values are stripped of surrounding spaces. A file
    saved by Excel with semicolons (its header has no comma) is read with semicolons. A
    header naming a column twice (after normalising) is refused.
    """
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    encoding, separator = _sniff(path)
    options: dict[str, Any] = {
        "header": header,
        "nrows": nrows,
        "usecols": usecols,
        "separator": separator,
    }
    try:
        frame = _read_with_encoding(path, encoding, **options)
    except UnicodeDecodeError:
        if encoding != "utf-8-sig":
            raise InputError(
                f"{path.name}: starts as {encoding.upper()} text but is not valid "
                f"{encoding.upper()} (wrong encoding); save it as CSV UTF-8"
            ) from None
        frame = _read_with_encoding(path, "latin-1", **options)
    if not header and len(frame) and len(frame.columns):
        frame.iloc[0, 0] = _strip_bom(frame.iloc[0, 0])
    if header:
        _check_header(path)
        frame.columns = [_norm(c) if normalise else _strip_bom(c).strip() for c in frame.columns]
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    return frame


def _sniff(path: Path) -> tuple[str, str]:
    """The encoding to try first and the separator, from the file's first bytes."""
    with path.open("rb") as file:
        start = file.read(65536)
    encoding = "utf-16" if start.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    first_line = start.decode(encoding, errors="replace").split("\n", 1)[0]
    separator = ";" if ";" in first_line and "," not in first_line else ","
    return encoding, separator


def _check_header(path: Path) -> None:
    """Refuse a header that names a column twice: which of them holds the data is a guess."""
    names = [_norm(name) for name in _first_row(path)]
    counts = pd.Series([n for n in names if n != ""], dtype=object).value_counts()
    repeated = counts[counts > 1]
    if len(repeated):
        said = ", ".join(f"{name} appears {count} times" for name, count in repeated.items())
        raise InputError(
            f"{path.name}: column {_printable(said)} in the header (line 1); keep one of each"
        )


def _read_with_encoding(
    path: Path,
    encoding: str,
    *,
    header: bool,
    nrows: int | None,
    usecols: Callable[[str], bool] | None,
    separator: str,
) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # a row longer than the header would otherwise shift every value of it
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                path,
                sep=separator,
                dtype=str,
                header=0 if header else None,
                index_col=False,
                nrows=nrows,
                usecols=usecols,
                encoding=encoding,
                keep_default_na=False,
                na_filter=False,
                skipinitialspace=True,
            )
    except pd.errors.EmptyDataError:
        raise InputError(f"{path.name}: the file is empty") from None
    except pd.errors.ParserWarning:
        raise InputError(
            f"{path.name}: cannot be read as CSV: line 2 has more fields than the header (line 1)"
        ) from None
    except (pd.errors.ParserError, csv.Error) as error:
        reason = " ".join(str(error).split())
        raise InputError(f"{path.name}: cannot be read as CSV: {reason}") from None


def _printable(text: object) -> str:
    """Text with control characters escaped, so a message stays on one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def _strip_bom(value: object) -> str:
    return str(value).replace("\ufeff", "").replace("ï»¿", "")


def _first_row(path: Path) -> list[str]:
    first = _read_csv(path, header=False, nrows=1)
    if first.empty:
        raise InputError(f"{path.name}: the file is empty")
    return [_strip_bom(v) for v in first.iloc[0].tolist()]


def _find(columns: Iterable[str], names: Sequence[str]) -> str | None:
    present = set(columns)
    return next((name for name in names if name in present), None)


def _kind_of(fields: Sequence[str]) -> str | None:
    """Which of the known files a first line belongs to."""
    cols = {_norm(f) for f in fields}
    if "NUMBER_OF_PATIENTS" in cols:
        full = "CODE" in cols and bool(cols & {"SUB_ICB_LOCATION_CODE", "CCG_CODE"})
        return LIST_SIZES if full and "LSOA_CODE" not in cols else _BREAKDOWN
    if {"PRACTICE_CODE", "PCN_CODE"} <= cols:
        return MAPPING
    if {"PARTNER ORGANISATION CODE", "PCN CODE"} <= cols:
        return EPCN
    if {"PCN CODE", "PCN NAME"} <= cols:
        return EPCN_DETAILS
    has_coordinates = {_find(cols, _LAT_NAMES), _find(cols, _EAST_NAMES)} != {None}
    if _find(cols, _POSTCODE_NAMES) and has_coordinates:
        return POSTCODES
    if len(fields) >= 26 and fields[12].strip() in _ODS_STATUS:
        return EPRACCUR if _PRACTICE_CODE.match(fields[0].strip()) else _OTHER_ODS
    if _find(cols, _CODE_NAMES):
        return PREMISES
    return None


def _read_expected(path: Path, role: str) -> pd.DataFrame:
    """Read a file after checking from its first line that it is the one expected."""
    fields = _first_row(path)
    kind = _kind_of(fields)
    accepted = kind == role or (role == PREMISES and kind in {PREMISES, POSTCODES})
    if not accepted:
        seen = ", ".join(fields[:6]) + (", ..." if len(fields) > 6 else "")
        looks = (
            f"this looks like {_DESCRIPTIONS[kind]}"
            if kind is not None
            else f"its first line ({seen}) is not one mergeopt knows"
        )
        raise InputError(
            f"{path.name}: {_printable(looks)}, expected {_DESCRIPTIONS[role]}"
            f"{_missing_columns(role, fields)}"
        )
    frame = _read_csv(path, header=role != EPRACCUR)
    frame["_line"] = np.arange(len(frame)) + (1 if role == EPRACCUR else 2)
    return frame


def _missing_columns(role: str, fields: Sequence[str]) -> str:
    """``: no column CODE`` when a file's header lacks what its role needs (else "")."""
    cols = {_norm(f) for f in fields}
    required: dict[str, list[tuple[str, ...]]] = {
        LIST_SIZES: [("CODE",), ("NUMBER_OF_PATIENTS",), ("SUB_ICB_LOCATION_CODE", "CCG_CODE")],
        MAPPING: [("PRACTICE_CODE",), ("PCN_CODE",)],
        EPCN: [("PARTNER ORGANISATION CODE",), ("PCN CODE",)],
        EPCN_DETAILS: [("PCN CODE",), ("PCN NAME",)],
        POSTCODES: [_POSTCODE_NAMES, (*_LAT_NAMES, *_EAST_NAMES)],
    }
    needs = required.get(role, [])
    missing = [" or ".join(names[:2]) for names in needs if not cols & set(names)]
    return f": no column {', '.join(missing)}" if missing else ""


def _empty_fields(index: pd.Index) -> pd.DataFrame:
    return pd.DataFrame("", index=index, columns=list(_FIELDS))


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series("", index=frame.index, dtype=object)


def _rows(frame: pd.DataFrame, mask: pd.Series, column: Any) -> str:
    """``rows 5 (B81008), 9 (B81008)`` for the rows of ``mask``."""
    chosen = frame.loc[mask]
    labels = [
        f"{line} ({_printable(value)})" if value != "" else str(line)
        for line, value in zip(chosen["_line"], chosen[column], strict=True)
    ]
    return describe_rows(labels)


def _require(frame: pd.DataFrame, path: Path, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{path.name}: missing column(s) {', '.join(missing)}")


def _practice_codes(frame: pd.DataFrame, path: Path, column: Any) -> pd.Series:
    """Validated, upper-case practice codes: none empty, none twice."""
    codes: pd.Series = frame[column].str.upper()
    name = column if isinstance(column, str) else f"{column + 1} (no header)"
    empty = codes == ""
    if empty.any():
        raise InputError(
            f"{path.name}: column {name}: practice code is empty at {_rows(frame, empty, column)}"
        )
    malformed = ~empty & ~codes.map(lambda code: bool(_PRACTICE_CODE.fullmatch(code)))
    if malformed.any():
        raise InputError(
            f"{path.name}: column {name}: not a practice code (a letter then 5 letters or "
            f"digits, as B81008) at {_rows(frame, malformed, column)}"
        )
    twice = codes.duplicated(keep=False)
    if twice.any():
        raise InputError(
            f"{path.name}: column {name}: practice code appears more than once "
            f"at {_rows(frame, twice, column)}; a practice may have one row"
        )
    return codes


def _parse_date(text: str) -> pd.Timestamp | None:
    for pattern in ("%d%b%Y", "%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%d-%b-%Y", "%d-%b-%y"):
        try:
            return pd.Timestamp(datetime.strptime(text.strip(), pattern))
        except ValueError:
            continue
    return None


def _extract_date(frame: pd.DataFrame, path: Path) -> pd.Timestamp | None:
    """The one ``EXTRACT_DATE`` of a publication file, if it has the column."""
    if "EXTRACT_DATE" not in frame.columns:
        return None
    counts = frame["EXTRACT_DATE"].value_counts()
    if len(counts) > 1:
        odd = frame["EXTRACT_DATE"] != counts.index[0]
        raise InputError(
            f"{path.name}: column EXTRACT_DATE: the file mixes publications "
            f"({', '.join(map(str, counts.index))}), e.g. at "
            f"{_rows(frame, odd, 'EXTRACT_DATE')}; use one month's file"
        )
    date = _parse_date(str(counts.index[0])) if len(counts) else None
    if len(counts) and date is None:
        raise InputError(
            f"{path.name}: column EXTRACT_DATE: cannot read the date '{counts.index[0]}'"
        )
    return date


def _latest_date(values: Iterable[pd.Series]) -> pd.Timestamp | None:
    """The latest YYYYMMDD date in some columns (the ODS files carry no extract date)."""
    dates = [pd.to_datetime(v, format="%Y%m%d", errors="coerce").max() for v in values]
    known = [d for d in dates if not pd.isna(d)]
    return max(known) if known else None


def _read_list_sizes(path: Path) -> _Source:
    raw = _read_expected(path, LIST_SIZES)
    totals = ["", "ALL"]
    not_total = ~_column(raw, "SEX").str.upper().isin(totals) | ~_column(
        raw, "AGE"
    ).str.upper().isin(totals)
    if not_total.any():
        raise InputError(
            f"{path.name}: columns SEX, AGE: {_rows(raw, not_total, 'AGE')} are "
            f"not totals (ALL): this looks like {_DESCRIPTIONS[_BREAKDOWN]}, "
            f"expected {_DESCRIPTIONS[LIST_SIZES]}"
        )
    date = _extract_date(raw, path)
    codes = _practice_codes(raw, path, "CODE")
    sizes = pd.to_numeric(raw["NUMBER_OF_PATIENTS"], errors="coerce")
    bad = sizes.isna() | (sizes < 0) | (sizes % 1 != 0)
    if bad.any():
        raise InputError(
            f"{path.name}: column NUMBER_OF_PATIENTS: not a whole number of "
            f"patients at {_rows(raw, bad, 'NUMBER_OF_PATIENTS')}"
        )
    huge = sizes > MAX_LIST_SIZE
    if huge.any():
        raise InputError(
            f"{path.name}: column NUMBER_OF_PATIENTS: more patients than a practice can "
            f"have (over {MAX_LIST_SIZE:,}) at {_rows(raw, huge, 'NUMBER_OF_PATIENTS')}"
        )
    ccg = "SUB_ICB_LOCATION_CODE" not in raw.columns
    prefix = "CCG" if ccg else "SUB_ICB_LOCATION"
    table = _empty_fields(pd.Index(codes, name="practice_code"))
    table["postcode"] = _column(raw, "POSTCODE").to_numpy()
    table["sub_icb_code"] = raw[f"{prefix}_CODE"].str.upper().to_numpy()
    table["sub_icb_ons"] = _column(raw, f"ONS_{prefix}_CODE").str.upper().to_numpy()
    table["list_size"] = sizes.astype("int64").to_numpy()
    table["_line"] = raw["_line"].to_numpy()
    return _Source(LIST_SIZES, path, date, table, ccg_layout=ccg)


def _read_mapping(path: Path) -> _Source:
    raw = _read_expected(path, MAPPING)
    date = _extract_date(raw, path)
    codes = _practice_codes(raw, path, "PRACTICE_CODE")
    new = "SUB_ICB_LOCATION_CODE" in raw.columns
    sub, icb = ("SUB_ICB_LOCATION", "ICB") if new else ("CCG", "STP")
    table = _empty_fields(pd.Index(codes, name="practice_code"))
    sources = {
        "practice_name": "PRACTICE_NAME",
        "postcode": "PRACTICE_POSTCODE",
        "pcn_code": "PCN_CODE",
        "pcn_name": "PCN_NAME",
        "sub_icb_code": f"{sub}_CODE",
        "sub_icb_ons": f"ONS_{sub}_CODE",
        "icb_code": f"{icb}_CODE",
        "icb_ons": f"ONS_{icb}_CODE",
    }
    for field, column in sources.items():
        values = _column(raw, column)
        table[field] = (
            values if field in {"practice_name", "pcn_name"} else values.str.upper()
        ).to_numpy()
    table["_line"] = raw["_line"].to_numpy()
    return _Source(MAPPING, path, date, table)


def _read_epraccur(path: Path) -> _Source:
    raw = _read_expected(path, EPRACCUR)
    if raw.shape[1] < 27:  # 27 ODS columns + _line
        raise InputError(
            f"{path.name}: expected the 27 columns of {_DESCRIPTIONS[EPRACCUR]}, "
            f"found {raw.shape[1] - 1}"
        )
    codes = _practice_codes(raw, path, 0)
    table = _empty_fields(pd.Index(codes, name="practice_code"))
    for field, column in {
        "practice_name": 1,
        "postcode": 9,
        "icb_code": 3,
        "sub_icb_code": 14,
    }.items():
        table[field] = raw[column].to_numpy()
    table["status"] = raw[12].str.upper().to_numpy()
    table["close_date"] = raw[11].to_numpy()
    table["_line"] = raw["_line"].to_numpy()
    date = _latest_date(raw[c] for c in _EPRACCUR_DATE_COLUMNS)
    return _Source(EPRACCUR, path, date, table)


def _read_epcn(partners: Path | None, details: Path | None) -> _Source:
    if partners is None:
        raise InputError(
            f"{Path(str(details)).name}: the ePCN details sheet names networks but "
            "links no practice: give the core partner sheet (epcn_partners) too"
        )
    path = Path(partners)
    raw = _read_expected(path, EPCN)
    end = "PRACTICE TO PCN RELATIONSHIP END DATE"
    _require(raw, path, ["PCN NAME", end])
    current = raw.loc[raw[end] == ""]
    codes = _practice_codes(current, path, "PARTNER ORGANISATION CODE")
    table = _empty_fields(pd.Index(codes, name="practice_code"))
    table["practice_name"] = _column(current, "PARTNER NAME").to_numpy()
    table["pcn_code"] = current["PCN CODE"].str.upper().to_numpy()
    table["pcn_name"] = current["PCN NAME"].to_numpy()
    table["sub_icb_code"] = (
        _column(current, "PRACTICE PARENT SUB ICB LOC CODE").str.upper().to_numpy()
    )
    table["_line"] = current["_line"].to_numpy()
    dated = [raw[c] for c in raw.columns if "DATE" in c]
    if details is not None:
        names = _read_expected(Path(details), EPCN_DETAILS)
        dated += [names[c] for c in names.columns if "DATE" in c]
        by_code = dict(zip(names["PCN CODE"].str.upper(), names["PCN NAME"], strict=True))
        known = table["pcn_code"].map(by_code).fillna("")
        table["pcn_name"] = table["pcn_name"].where(known == "", known)
    return _Source(EPCN, path, _latest_date(dated), table)


def _postcode_key(values: pd.Series) -> pd.Series:
    return values.str.upper().str.replace(r"\s+", "", regex=True)


def _read_postcodes(path: Path, wanted: set[str]) -> pd.DataFrame:
    """Coordinates of the ``wanted`` postcodes (keys without spaces), indexed by key.

    Columns lat, long, easting, northing (floats, NaN where the lookup has none).
    """
    fields = [_norm(f) for f in _first_row(path)]
    kind = _kind_of(fields)
    if kind != POSTCODES:
        looks = f"this looks like {_DESCRIPTIONS[kind]}, " if kind else ""
        raise InputError(
            f"{path.name}: {looks}expected {_DESCRIPTIONS[POSTCODES]}"
            f"{_missing_columns(POSTCODES, fields)}"
        )
    names = {
        "postcode": _find(fields, _POSTCODE_NAMES),
        "lat": _find(fields, _LAT_NAMES),
        "long": _find(fields, _LONG_NAMES),
        "easting": _find(fields, _EAST_NAMES),
        "northing": _find(fields, _NORTH_NAMES),
    }
    used = {n for n in names.values() if n is not None}
    raw = _read_csv(path, header=True, usecols=lambda c: _norm(c) in used)
    raw["_line"] = np.arange(len(raw)) + 2
    raw["_key"] = _postcode_key(raw[str(names["postcode"])])
    raw = raw.loc[raw["_key"].isin(wanted)]
    lookup = pd.DataFrame(index=pd.Index(raw["_key"], name="postcode_key"))
    for field in ("lat", "long", "easting", "northing"):
        column = names[field]
        lookup[field] = _coordinates(raw, path, column, field) if column else np.nan
    lookup.loc[lookup["lat"].abs() > 90, ["lat", "long"]] = np.nan  # NSPL's 99.999999
    _check_plausible(lookup, raw, path, names)
    for pair in (["lat", "long"], ["easting", "northing"]):  # half a place is no place
        lookup.loc[lookup[pair].isna().any(axis=1), pair] = np.nan
    _check_unique_postcodes(lookup, raw, path, str(names["postcode"]))
    lookup = lookup.loc[~lookup.index.duplicated()]
    return _complete_coordinates(lookup)


def _coordinates(raw: pd.DataFrame, path: Path, column: str, field: str) -> np.ndarray:
    """One coordinate column as floats, NaN where empty; text or inf is an error."""
    text = raw[column]
    values = pd.to_numeric(text, errors="coerce")
    bad = ~text.str.upper().isin(_MISSING) & ~np.isfinite(values)
    if bad.any():
        raise InputError(
            f"{path.name}: column {column}: not a number ({field}) at {_rows(raw, bad, column)}"
        )
    return np.asarray(values, dtype=float)


def _check_plausible(
    lookup: pd.DataFrame, raw: pd.DataFrame, path: Path, names: dict[str, str | None]
) -> None:
    """Refuse coordinates that are numbers but no place in the UK (0, swapped, huge)."""
    for field, (low, high) in _PLAUSIBLE.items():
        values = lookup[field].to_numpy()
        outside = ~np.isnan(values) & ((values < low) | (values > high))
        if outside.any():
            column = str(names[field])
            mask = pd.Series(outside, index=raw.index)
            raise InputError(
                f"{path.name}: column {column}: {field} outside the UK ({low:g} to "
                f"{high:g}) at {_rows(raw, mask, column)}"
            )


def _check_unique_postcodes(
    lookup: pd.DataFrame, raw: pd.DataFrame, path: Path, column: str
) -> None:
    twice = lookup.index.duplicated(keep=False)
    if not twice.any():
        return
    distinct = lookup.loc[twice].reset_index().drop_duplicates()
    clash = distinct["postcode_key"].duplicated(keep=False)
    if clash.any():
        keys = set(distinct.loc[clash, "postcode_key"])
        mask = raw["_key"].isin(keys)
        raise InputError(
            f"{path.name}: column {column}: the same postcode (spaces removed) "
            f"has different coordinates at {_rows(raw, mask, column)}"
        )


def _complete_coordinates(lookup: pd.DataFrame) -> pd.DataFrame:
    """Fill easting/northing from lat/long, or lat/long from easting/northing (pyproj)."""
    from pyproj import Transformer

    need_grid = lookup["easting"].isna() & lookup["lat"].notna() & lookup["long"].notna()
    if need_grid.any():
        forward = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
        x, y = forward.transform(
            lookup.loc[need_grid, "long"].to_numpy(), lookup.loc[need_grid, "lat"].to_numpy()
        )
        lookup.loc[need_grid, "easting"] = np.round(x)
        lookup.loc[need_grid, "northing"] = np.round(y)
    need_degrees = lookup["lat"].isna() & lookup["easting"].notna() & lookup["northing"].notna()
    if need_degrees.any():
        inverse = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
        lon, lat = inverse.transform(
            lookup.loc[need_degrees, "easting"].to_numpy(),
            lookup.loc[need_degrees, "northing"].to_numpy(),
        )
        lookup.loc[need_degrees, "long"] = np.round(lon, 6)
        lookup.loc[need_degrees, "lat"] = np.round(lat, 6)
    return lookup


def _read_premises(path: Path) -> pd.DataFrame:
    """The premises table indexed by practice code, its own columns as they are."""
    fields = _first_row(path)
    code_column = _find([_norm(f) for f in fields], _CODE_NAMES)
    if code_column is None or _kind_of(fields) not in {PREMISES, POSTCODES}:
        kind = _kind_of(fields)
        looks = f"this looks like {_DESCRIPTIONS[kind]}, " if kind else ""
        raise InputError(
            f"{path.name}: {looks}expected {_DESCRIPTIONS[PREMISES]}: a column named practice_code"
        )
    raw = _read_csv(path, header=True, normalise=False)
    raw["_line"] = np.arange(len(raw)) + 2
    original = next(c for c in raw.columns if _norm(c) == code_column)
    codes = _practice_codes(raw, path, original)
    table = raw.drop(columns=[original, "_line"])
    table.index = pd.Index(codes, name="practice_code")
    clash = [c for c in table.columns if c in CANONICAL_COLUMNS or c == "list_size_date"]
    if clash:
        raise InputError(
            f"{path.name}: column(s) {', '.join(clash)} would replace the "
            "practices table's own: rename or drop them"
        )
    for column in table.columns:
        numbers = pd.to_numeric(table[column], errors="coerce")
        if numbers.notna().sum() == (table[column] != "").sum() and numbers.notna().any():
            table[column] = numbers
    return table


# ---------------------------------------------------------------------------------------
# Joining, selecting, excluding


def _by_date(sources: Sequence[_Source]) -> list[_Source]:
    """Newest first; the tie order of the module docstring between equal dates."""
    ordered = sorted(sources, key=lambda s: _TIE_ORDER[s.role])
    return sorted(ordered, key=lambda s: s.date or pd.Timestamp.min, reverse=True)


def _resolve(sources: Sequence[_Source]) -> pd.DataFrame:
    """One row per practice of the list-size file or mapping, fields by precedence."""
    spine = [s.table.index for s in sources if s.role in {LIST_SIZES, MAPPING}]
    codes = pd.Index(sorted(set().union(*spine)), name="practice_code")
    frame = _empty_fields(codes)
    for group in _FIELD_GROUPS:
        for source in _by_date(sources):
            values = source.table.reindex(codes)[list(group)].fillna("")
            take = (frame[group[0]] == "") & (values[group[0]] != "")
            frame.loc[take, list(group)] = values.loc[take]
    relation = _relation(sources, "sub_icb_code", "icb_code")
    derived = frame["sub_icb_code"].map(relation).fillna("")
    frame["icb_code"] = frame["icb_code"].where(frame["icb_code"] != "", derived)
    frame["postcode_key"] = _postcode_key(frame["postcode"])
    return frame


def _relation(sources: Sequence[_Source], key: str, value: str) -> dict[str, str]:
    """``key -> value`` where the files give exactly one value for the key."""
    pairs = pd.concat([s.table[[key, value]] for s in sources if s.role in {MAPPING, LIST_SIZES}])
    pairs = pairs.loc[(pairs[key] != "") & (pairs[value] != "")].drop_duplicates()
    single = pairs.loc[~pairs[key].duplicated(keep=False)]
    return dict(zip(single[key], single[value], strict=True))


def _select(
    frame: pd.DataFrame,
    sources: Sequence[_Source],
    *,
    icb: Sequence[str],
    sub_icb: Sequence[str],
    pcn: Sequence[str],
    practices: Sequence[str],
) -> pd.Series:
    """Rows matching any selector (all rows when none is given)."""
    if not (icb or sub_icb or pcn or practices):
        return pd.Series(True, index=frame.index)
    files = ", ".join(s.path.name for s in sources if s.role in {LIST_SIZES, MAPPING})
    chosen = pd.Series(False, index=frame.index)
    chosen |= _match(frame, sources, "icb", icb, files)
    chosen |= _match(frame, sources, "sub_icb", sub_icb, files)
    chosen |= _match(frame, sources, "pcn", pcn, files)
    wanted = [c.strip().upper() for c in practices]
    unknown = [c for c in wanted if c not in frame.index]
    if unknown:
        raise InputError(
            f"{files}: practice code(s) {', '.join(unknown)} match no practice "
            "in the list-size file or mapping"
        )
    chosen |= frame.index.isin(wanted)
    return chosen


def _match(
    frame: pd.DataFrame, sources: Sequence[_Source], level: str, codes: Sequence[str], files: str
) -> pd.Series:
    """Rows in any of the ``codes`` of one level (icb, sub_icb, pcn)."""
    chosen = pd.Series(False, index=frame.index)
    if not codes:
        return chosen
    column = f"{level}_code"
    noun = {"icb": "ICB", "sub_icb": "sub-ICB", "pcn": "PCN"}[level]
    if (frame[column] == "").all():
        raise InputError(_missing_level_message(sources, level, noun))
    ons = _relation(sources, f"{level}_ons", column) if level != "pcn" else {}
    for given in codes:
        code = given.strip().upper()
        if code.startswith("E") and len(code) == 9 and level != "pcn":
            if not ons:
                raise InputError(
                    f"{files}: {noun} code {given} is an ONS code and no file "
                    f"given has ONS {noun} codes: give the mapping file "
                    "(gp-reg-pat-prac-map.csv) or use the NHS code"
                )
            code = ons.get(code, code)
        hits = frame[column] == code
        if not hits.any():
            known = sorted(set(frame[column]) - {""})
            close = difflib.get_close_matches(code, known, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise InputError(
                f"{files}: {noun} code {given} matches no practice{hint}; "
                f"{len(known)} {noun} codes are known, e.g. {', '.join(known[:5])}"
            )
        chosen |= hits
    return chosen


def _missing_level_message(sources: Sequence[_Source], level: str, noun: str) -> str:
    sizes = next(s for s in sources if s.role == LIST_SIZES)
    if level == "pcn":
        return (
            f"{sizes.path.name}: selecting by PCN needs the mapping file "
            "(gp-reg-pat-prac-map.csv) or the ePCN partner sheet: no file given has a "
            "PCN column"
        )
    layout = "CCG_CODE layout, 2021" if sizes.ccg_layout else "SUB_ICB_LOCATION_CODE layout"
    return (
        f"{sizes.path.name}: selecting by {noun} needs the mapping file "
        f"(gp-reg-pat-prac-map.csv): the list-size file ({layout}) has no {noun} column"
    )


def _check_list_against_mapping(frame: pd.DataFrame, sources: Sequence[_Source]) -> None:
    """Refuse selected practices in a list-size file not older than the mapping but not in it."""
    sizes = next(s for s in sources if s.role == LIST_SIZES)
    mapping = next((s for s in sources if s.role == MAPPING), None)
    if mapping is None or _older(sizes, mapping):
        return
    stray = frame.index[
        frame.index.isin(sizes.table.index) & ~frame.index.isin(mapping.table.index)
    ]
    if len(stray):
        table = sizes.table.loc[stray].reset_index()
        mask = pd.Series(True, index=table.index)
        same = sizes.date == mapping.date
        why = (
            "the two files do not belong together" if same else "use the mapping of the same month"
        )
        raise InputError(
            f"{sizes.label}: column CODE: practices not in the mapping "
            f"{mapping.label} at {_rows(table, mask, 'practice_code')}; {why}"
        )


def _older(first: _Source, second: _Source) -> bool:
    return first.date is not None and second.date is not None and first.date < second.date


def _month(date: pd.Timestamp | None) -> str:
    return "" if date is None else f"{date:%Y-%m}"


def _reasons(
    frame: pd.DataFrame, sources: Sequence[_Source], lookup: pd.DataFrame, postcodes: Path
) -> pd.Series:
    """Why each practice cannot be used ("" when it can)."""
    reasons: dict[str, list[str]] = {code: [] for code in frame.index}
    for code, reason in _closures(frame, sources):
        reasons[code].append(reason)
    sizes = next(s for s in sources if s.role == LIST_SIZES)
    listed = sizes.table["list_size"].reindex(frame.index)
    for code in frame.index[listed.isna()]:
        reasons[code].append(f"no list size in {sizes.label}")
    for code in frame.index[listed == 0]:
        reasons[code].append(f"0 registered patients in {sizes.label}")
    found = lookup.reindex(frame["postcode_key"])
    has_place = (found["easting"].notna() & found["lat"].notna()).to_numpy()
    in_lookup = frame["postcode_key"].isin(lookup.index).to_numpy()
    for code, postcode, place, known in zip(
        frame.index, frame["postcode"], has_place, in_lookup, strict=True
    ):
        if postcode == "":
            reasons[code].append("no postcode in the files given")
        elif not known:
            reasons[code].append(f"postcode {_display(postcode)} not found in {postcodes.name}")
        elif not place:
            reasons[code].append(
                f"postcode {_display(postcode)} has no coordinates in {postcodes.name}"
            )
    return pd.Series({code: "; ".join(items) for code, items in reasons.items()}, dtype=object)


def _closures(frame: pd.DataFrame, sources: Sequence[_Source]) -> list[tuple[str, str]]:
    """(code, reason) for practices the files say have closed."""
    found: list[tuple[str, str]] = []
    sizes = next(s for s in sources if s.role == LIST_SIZES)
    mapping = next((s for s in sources if s.role == MAPPING), None)
    if mapping is not None and _older(sizes, mapping):
        gone = frame.index.isin(sizes.table.index) & ~frame.index.isin(mapping.table.index)
        found += [
            (code, f"closed or merged: in {sizes.label} but not in {mapping.label}")
            for code in frame.index[gone]
        ]
    ods = next((s for s in sources if s.role == EPRACCUR), None)
    if ods is None:
        return found
    status = ods.table.reindex(frame.index)
    listed_by = [s for s in sources if s.role in {LIST_SIZES, MAPPING}]
    for code in frame.index[status["status"].isin(["C", "D"])]:
        newest = [s.date for s in listed_by if code in s.table.index]
        if ods.date is None or any(d is None or d >= ods.date for d in newest):
            continue  # a newer publication still lists it
        closed = _parse_date(str(status.at[code, "close_date"]))
        when = f" on {closed:%Y-%m-%d}" if closed is not None else ""
        state = "closed" if status.at[code, "status"] == "C" else "dormant"
        found.append((code, f"{state}{when} according to {ods.label}"))
    return found


def _display(postcode: str) -> str:
    """Write a postcode the usual way, one space before the last three characters.

    >>> _display("hu92lj"), _display("HU9  2LJ")
    ('HU9 2LJ', 'HU9 2LJ')
    """
    key = re.sub(r"\s+", "", postcode.upper())
    return f"{key[:-3]} {key[-3:]}" if len(key) >= 5 else key


def _assemble(
    frame: pd.DataFrame,
    reasons: pd.Series,
    lookup: pd.DataFrame,
    sizes: _Source,
    premises: Path | None,
) -> Prepared:
    """The practices table and the exclusions report."""
    left_out = reasons != ""
    excluded = pd.DataFrame(
        {
            "practice_code": frame.index[left_out],
            "practice_name": frame.loc[left_out, "practice_name"].to_numpy(),
            "reason": reasons[left_out].to_numpy(),
        }
    )
    kept = frame.loc[~left_out]
    if kept.empty:
        sample = "; ".join(
            f"{row.practice_code}: {row.reason}" for row in excluded.head(3).itertuples()
        )
        raise InputError(
            f"{sizes.path.name}: none of the {len(frame)} selected practices can "
            f"be used ({sample})"
        )
    place = lookup.reindex(kept["postcode_key"])
    table = pd.DataFrame(
        {
            "practice_code": kept.index,
            "practice_name": kept["practice_name"].to_numpy(),
            "postcode": [_display(p) for p in kept["postcode"]],
            "list_size": sizes.table["list_size"].reindex(kept.index).astype("int64").to_numpy(),
            "lat": place["lat"].to_numpy(),
            "long": place["long"].to_numpy(),
            "easting": place["easting"].round().astype("int64").to_numpy(),
            "northing": place["northing"].round().astype("int64").to_numpy(),
            **{
                c: kept[c].to_numpy() for c in ("pcn_code", "pcn_name", "sub_icb_code", "icb_code")
            },
            "list_size_date": _month(sizes.date),
        }
    )
    if premises is not None:
        extra = _read_premises(premises)
        table = table.join(extra, on="practice_code")
    return Prepared(
        practices=table.reset_index(drop=True), excluded=excluded.reset_index(drop=True)
    )


def _write_table(table: pd.DataFrame, path: Path, suffix: str) -> None:
    if suffix == ".csv":
        table.to_csv(path, index=False)
    elif suffix == ".parquet":
        table.to_parquet(path, index=False)
    else:
        import geopandas as gpd

        points = gpd.points_from_xy(table["easting"], table["northing"], crs="EPSG:27700")
        gpd.GeoDataFrame(table, geometry=points).to_file(path, driver="GPKG", layer="practices")
