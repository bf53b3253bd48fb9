"""One reader per NHS publication: list sizes, practice mapping, epraccur, ePCN.

Each returns a :class:`~mergeopt.inputs.nhs.files.Source`: the standard fields of the
file, indexed by practice code, and the file's publication date.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mergeopt._errors import InputError
from mergeopt.inputs.nhs.files import (
    BREAKDOWN,
    DESCRIPTIONS,
    EPCN,
    EPCN_DETAILS,
    EPRACCUR,
    LIST_SIZES,
    MAPPING,
    Source,
    column_or_empty,
    empty_fields,
    extract_date,
    latest_date,
    practice_codes,
    read_expected,
    require_columns,
    rows_text,
)

_EPRACCUR_DATE_COLUMNS = (10, 11, 15, 16)
#: More registered patients than this (England has ~63 million people; the largest list
#: is under 100,000) is a corrupted figure, not a practice.
MAX_LIST_SIZE = 10_000_000


def read_list_sizes(path: Path) -> Source:
    raw = read_expected(path, LIST_SIZES)
    totals = ["", "ALL"]
    not_total = ~column_or_empty(raw, "SEX").str.upper().isin(totals) | ~column_or_empty(
        raw, "AGE"
    ).str.upper().isin(totals)
    if not_total.any():
        raise InputError(
            f"{path.name}: columns SEX, AGE: {rows_text(raw, not_total, 'AGE')} are "
            f"not totals (ALL): this looks like {DESCRIPTIONS[BREAKDOWN]}, "
            f"expected {DESCRIPTIONS[LIST_SIZES]}"
        )
    date = extract_date(raw, path)
    codes = practice_codes(raw, path, "CODE")
    sizes = pd.to_numeric(raw["NUMBER_OF_PATIENTS"], errors="coerce")
    bad = sizes.isna() | (sizes < 0) | (sizes % 1 != 0)
    if bad.any():
        raise InputError(
            f"{path.name}: column NUMBER_OF_PATIENTS: not a whole number of "
            f"patients at {rows_text(raw, bad, 'NUMBER_OF_PATIENTS')}"
        )
    huge = sizes > MAX_LIST_SIZE
    if huge.any():
        raise InputError(
            f"{path.name}: column NUMBER_OF_PATIENTS: more patients than a practice can "
            f"have (over {MAX_LIST_SIZE:,}) at {rows_text(raw, huge, 'NUMBER_OF_PATIENTS')}"
        )
    ccg = "SUB_ICB_LOCATION_CODE" not in raw.columns
    prefix = "CCG" if ccg else "SUB_ICB_LOCATION"
    table = empty_fields(pd.Index(codes, name="practice_code"))
    table["postcode"] = column_or_empty(raw, "POSTCODE").to_numpy()
    table["sub_icb_code"] = raw[f"{prefix}_CODE"].str.upper().to_numpy()
    table["sub_icb_ons"] = column_or_empty(raw, f"ONS_{prefix}_CODE").str.upper().to_numpy()
    table["list_size"] = sizes.astype("int64").to_numpy()
    table["_line"] = raw["_line"].to_numpy()
    return Source(LIST_SIZES, path, date, table, ccg_layout=ccg)


def read_mapping(path: Path) -> Source:
    raw = read_expected(path, MAPPING)
    date = extract_date(raw, path)
    codes = practice_codes(raw, path, "PRACTICE_CODE")
    new = "SUB_ICB_LOCATION_CODE" in raw.columns
    sub, icb = ("SUB_ICB_LOCATION", "ICB") if new else ("CCG", "STP")
    table = empty_fields(pd.Index(codes, name="practice_code"))
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
        values = column_or_empty(raw, column)
        table[field] = (
            values if field in {"practice_name", "pcn_name"} else values.str.upper()
        ).to_numpy()
    table["_line"] = raw["_line"].to_numpy()
    return Source(MAPPING, path, date, table)


def read_epraccur(path: Path) -> Source:
    raw = read_expected(path, EPRACCUR)
    if raw.shape[1] < 27:  # 27 ODS columns + _line
        raise InputError(
            f"{path.name}: expected the 27 columns of {DESCRIPTIONS[EPRACCUR]}, "
            f"found {raw.shape[1] - 1}"
        )
    codes = practice_codes(raw, path, 0)
    table = empty_fields(pd.Index(codes, name="practice_code"))
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
    date = latest_date(raw[c] for c in _EPRACCUR_DATE_COLUMNS)
    return Source(EPRACCUR, path, date, table)


def read_epcn(partners: Path | None, details: Path | None) -> Source:
    if partners is None:
        raise InputError(
            f"{Path(str(details)).name}: the ePCN details sheet names networks but "
            "links no practice: give the core partner sheet (epcn_partners) too"
        )
    path = Path(partners)
    raw = read_expected(path, EPCN)
    end = "PRACTICE TO PCN RELATIONSHIP END DATE"
    require_columns(raw, path, ["PCN NAME", end])
    current = raw.loc[raw[end] == ""]
    codes = practice_codes(current, path, "PARTNER ORGANISATION CODE")
    table = empty_fields(pd.Index(codes, name="practice_code"))
    table["practice_name"] = column_or_empty(current, "PARTNER NAME").to_numpy()
    table["pcn_code"] = current["PCN CODE"].str.upper().to_numpy()
    table["pcn_name"] = current["PCN NAME"].to_numpy()
    table["sub_icb_code"] = (
        column_or_empty(current, "PRACTICE PARENT SUB ICB LOC CODE").str.upper().to_numpy()
    )
    table["_line"] = current["_line"].to_numpy()
    dated = [raw[c] for c in raw.columns if "DATE" in c]
    if details is not None:
        names = read_expected(Path(details), EPCN_DETAILS)
        dated += [names[c] for c in names.columns if "DATE" in c]
        by_code = dict(zip(names["PCN CODE"].str.upper(), names["PCN NAME"], strict=True))
        known = table["pcn_code"].map(by_code).fillna("")
        table["pcn_name"] = table["pcn_name"].where(known == "", known)
    return Source(EPCN, path, latest_date(dated), table)
