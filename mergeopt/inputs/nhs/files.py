"""Which NHS file is which, and reading one as expected.

Each file is recognised from its first line (:func:`kind_of`); the wrong file gets
"this looks like X, expected Y". Every file is read as text, one
:class:`Source` per file: the standard fields (:data:`FIELDS`, strings, ``""`` where
unknown) indexed by practice code, with each row's line number in the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from mergeopt._errors import InputError, describe_rows, printable
from mergeopt.inputs import tables

LIST_SIZES, MAPPING, EPRACCUR, EPCN = "list_sizes", "mapping", "epraccur", "epcn_partners"
EPCN_DETAILS, POSTCODES, PREMISES = "epcn_details", "postcodes", "premises"
BREAKDOWN, _OTHER_ODS = "list_breakdown", "other_ods"

DESCRIPTIONS = {
    LIST_SIZES: "the list-size file of 'Patients Registered at a GP Practice' "
    "(gp-reg-pat-prac-all.csv)",
    BREAKDOWN: "a breakdown of 'Patients Registered at a GP Practice' by age, sex or LSOA "
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

FIELDS = (
    "practice_name",
    "postcode",
    "pcn_code",
    "pcn_name",
    "sub_icb_code",
    "sub_icb_ons",
    "icb_code",
    "icb_ons",
)
_PRACTICE_CODE = re.compile(r"^[A-Z][A-Z0-9]{5}$")
_ODS_STATUS = {"A", "C", "D", "P"}
POSTCODE_NAMES = ("PCDS", "PCD", "PCD2", "PCD7", "PCD8", "POSTCODE", "PCD_NOSPACE")
LAT_NAMES = ("LAT", "LATITUDE")
LONG_NAMES = ("LONG", "LON", "LNG", "LONGITUDE")
EAST_NAMES = ("OSEAST1M", "EAST1M", "EASTING", "EASTING_OSGB", "EASTINGS")
NORTH_NAMES = ("OSNRTH1M", "NORTH1M", "NORTHING", "NORTHING_OSGB", "NORTHINGS")
CODE_NAMES = ("PRACTICE_CODE", "PRACTICE CODE", "CODE", "ORGANISATION CODE", "ORG_CODE")


@dataclass(frozen=True)
class Source:
    """One file read into the standard fields, indexed by practice code."""

    role: str
    path: Path
    date: pd.Timestamp | None
    table: pd.DataFrame  # FIELDS as strings ("" unknown) + "_line" (+ role extras)
    ccg_layout: bool = False

    @property
    def label(self) -> str:
        when = f" ({self.date:%b %Y})" if self.date is not None else ""
        return f"{self.path.name}{when}"


def norm(name: object) -> str:
    """A column name stripped of byte-order marks and spacing, upper case."""
    text = str(name).replace("\ufeff", "").replace("ï»¿", "")
    return " ".join(text.split()).upper()


def read_csv(
    path: Path,
    *,
    header: bool,
    nrows: int | None = None,
    usecols: Callable[[str], bool] | None = None,
    normalise: bool = True,
) -> pd.DataFrame:
    """An NHS file's cells as text, by the one tolerant reader
    (:func:`~mergeopt.inputs.tables.read_csv`): UTF-8, UTF-16 or Latin-1, commas,
    semicolons or tabs. Column names are normalised by :func:`norm` unless ``normalise``
    is false; a header naming a column twice (after normalising) is refused. The index is
    each row's line number in the file.
    """
    return tables.read_csv(
        path,
        header=header,
        nrows=nrows,
        usecols=usecols,
        names=norm if normalise else str.strip,
        label=path.name,
        quote_names=False,
    )


def first_row(path: Path) -> list[str]:
    first = read_csv(path, header=False, nrows=1)
    if first.empty:
        raise InputError(f"{path.name}: the file is empty")
    return [str(value) for value in first.iloc[0].tolist()]


def first_present(columns: Iterable[str], names: Sequence[str]) -> str | None:
    present = set(columns)
    return next((name for name in names if name in present), None)


def kind_of(fields: Sequence[str]) -> str | None:
    """Which of the known files a first line belongs to."""
    cols = {norm(f) for f in fields}
    if "NUMBER_OF_PATIENTS" in cols:
        full = "CODE" in cols and bool(cols & {"SUB_ICB_LOCATION_CODE", "CCG_CODE"})
        return LIST_SIZES if full and "LSOA_CODE" not in cols else BREAKDOWN
    if {"PRACTICE_CODE", "PCN_CODE"} <= cols:
        return MAPPING
    if {"PARTNER ORGANISATION CODE", "PCN CODE"} <= cols:
        return EPCN
    if {"PCN CODE", "PCN NAME"} <= cols:
        return EPCN_DETAILS
    has_coordinates = {first_present(cols, LAT_NAMES), first_present(cols, EAST_NAMES)} != {None}
    if first_present(cols, POSTCODE_NAMES) and has_coordinates:
        return POSTCODES
    if len(fields) >= 26 and fields[12].strip() in _ODS_STATUS:
        return EPRACCUR if _PRACTICE_CODE.match(fields[0].strip()) else _OTHER_ODS
    if first_present(cols, CODE_NAMES):
        return PREMISES
    return None


def read_expected(path: Path, role: str) -> pd.DataFrame:
    """Read a file after checking from its first line that it is the one expected."""
    fields = first_row(path)
    kind = kind_of(fields)
    accepted = kind == role or (role == PREMISES and kind in {PREMISES, POSTCODES})
    if not accepted:
        seen = ", ".join(fields[:6]) + (", ..." if len(fields) > 6 else "")
        looks = (
            f"this looks like {DESCRIPTIONS[kind]}"
            if kind is not None
            else f"its first line ({seen}) is not one mergeopt knows"
        )
        raise InputError(
            f"{path.name}: {printable(looks)}, expected {DESCRIPTIONS[role]}"
            f"{missing_columns(role, fields)}"
        )
    frame = read_csv(path, header=role != EPRACCUR)
    frame["_line"] = frame.index
    return frame


def missing_columns(role: str, fields: Sequence[str]) -> str:
    """``: no column CODE`` when a file's header lacks what its role needs (else "")."""
    cols = {norm(f) for f in fields}
    required: dict[str, list[tuple[str, ...]]] = {
        LIST_SIZES: [("CODE",), ("NUMBER_OF_PATIENTS",), ("SUB_ICB_LOCATION_CODE", "CCG_CODE")],
        MAPPING: [("PRACTICE_CODE",), ("PCN_CODE",)],
        EPCN: [("PARTNER ORGANISATION CODE",), ("PCN CODE",)],
        EPCN_DETAILS: [("PCN CODE",), ("PCN NAME",)],
        POSTCODES: [POSTCODE_NAMES, (*LAT_NAMES, *EAST_NAMES)],
    }
    needs = required.get(role, [])
    missing = [" or ".join(names[:2]) for names in needs if not cols & set(names)]
    return f": no column {', '.join(missing)}" if missing else ""


def empty_fields(index: pd.Index) -> pd.DataFrame:
    return pd.DataFrame("", index=index, columns=list(FIELDS))


def column_or_empty(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series("", index=frame.index, dtype=object)


def rows_text(frame: pd.DataFrame, mask: pd.Series, column: Any) -> str:
    """``rows 5 (B81008), 9 (B81008)`` for the rows of ``mask``."""
    chosen = frame.loc[mask]
    labels = [
        f"{line} ({printable(value)})" if value != "" else str(line)
        for line, value in zip(chosen["_line"], chosen[column], strict=True)
    ]
    return describe_rows(labels)


def require_columns(frame: pd.DataFrame, path: Path, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{path.name}: missing column(s) {', '.join(missing)}")


def practice_codes(frame: pd.DataFrame, path: Path, column: Any) -> pd.Series:
    """Validated, upper-case practice codes: none empty, none twice."""
    codes: pd.Series = frame[column].str.upper()
    name = column if isinstance(column, str) else f"{column + 1} (no header)"
    empty = codes == ""
    if empty.any():
        raise InputError(
            f"{path.name}: column {name}: practice code is empty at "
            f"{rows_text(frame, empty, column)}"
        )
    malformed = ~empty & ~codes.map(lambda code: bool(_PRACTICE_CODE.fullmatch(code)))
    if malformed.any():
        raise InputError(
            f"{path.name}: column {name}: not a practice code (a letter then 5 letters or "
            f"digits, as B81008) at {rows_text(frame, malformed, column)}"
        )
    twice = codes.duplicated(keep=False)
    if twice.any():
        raise InputError(
            f"{path.name}: column {name}: practice code appears more than once "
            f"at {rows_text(frame, twice, column)}; a practice may have one row"
        )
    return codes


def parse_date(text: str) -> pd.Timestamp | None:
    for pattern in ("%d%b%Y", "%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%d-%b-%Y", "%d-%b-%y"):
        try:
            return pd.Timestamp(datetime.strptime(text.strip(), pattern))
        except ValueError:
            continue
    return None


def extract_date(frame: pd.DataFrame, path: Path) -> pd.Timestamp | None:
    """The one ``EXTRACT_DATE`` of a publication file, if it has the column."""
    if "EXTRACT_DATE" not in frame.columns:
        return None
    counts = frame["EXTRACT_DATE"].value_counts()
    if len(counts) > 1:
        odd = frame["EXTRACT_DATE"] != counts.index[0]
        raise InputError(
            f"{path.name}: column EXTRACT_DATE: the file mixes publications "
            f"({', '.join(map(str, counts.index))}), e.g. at "
            f"{rows_text(frame, odd, 'EXTRACT_DATE')}; use one month's file"
        )
    date = parse_date(str(counts.index[0])) if len(counts) else None
    if len(counts) and date is None:
        raise InputError(
            f"{path.name}: column EXTRACT_DATE: cannot read the date '{counts.index[0]}'"
        )
    return date


def latest_date(values: Iterable[pd.Series]) -> pd.Timestamp | None:
    """The latest YYYYMMDD date in some columns (the ODS files carry no extract date)."""
    dates = [pd.to_datetime(v, format="%Y%m%d", errors="coerce").max() for v in values]
    known = [d for d in dates if not pd.isna(d)]
    return max(known) if known else None
