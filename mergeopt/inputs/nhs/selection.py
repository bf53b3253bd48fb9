"""One row per practice, each field from the file that wins; the areas asked for.

Precedence and selection are described in :mod:`mergeopt.inputs.nhs.assembly`.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import pandas as pd

from mergeopt._errors import InputError
from mergeopt.inputs.nhs.files import (
    EPCN,
    EPRACCUR,
    LIST_SIZES,
    MAPPING,
    Source,
    empty_fields,
)
from mergeopt.inputs.nhs.postcodes import postcode_key

_FIELD_GROUPS = (
    ("practice_name",),
    ("postcode",),
    ("pcn_code", "pcn_name"),
    ("sub_icb_code", "sub_icb_ons"),
    ("icb_code", "icb_ons"),
)
_TIE_ORDER = {MAPPING: 0, LIST_SIZES: 1, EPCN: 2, EPRACCUR: 3}


def _by_date(sources: Sequence[Source]) -> list[Source]:
    """Newest first; between equal dates, the tie order of :mod:`.assembly`."""
    ordered = sorted(sources, key=lambda s: _TIE_ORDER[s.role])
    return sorted(ordered, key=lambda s: s.date or pd.Timestamp.min, reverse=True)


def resolve_fields(sources: Sequence[Source]) -> pd.DataFrame:
    """One row per practice of the list-size file or mapping, fields by precedence."""
    spine = [s.table.index for s in sources if s.role in {LIST_SIZES, MAPPING}]
    codes = pd.Index(sorted(set().union(*spine)), name="practice_code")
    frame = empty_fields(codes)
    for group in _FIELD_GROUPS:
        for source in _by_date(sources):
            values = source.table.reindex(codes)[list(group)].fillna("")
            take = (frame[group[0]] == "") & (values[group[0]] != "")
            frame.loc[take, list(group)] = values.loc[take]
    relation = _relation(sources, "sub_icb_code", "icb_code")
    derived = frame["sub_icb_code"].map(relation).fillna("")
    frame["icb_code"] = frame["icb_code"].where(frame["icb_code"] != "", derived)
    frame["postcode_key"] = postcode_key(frame["postcode"])
    return frame


def _relation(sources: Sequence[Source], key: str, value: str) -> dict[str, str]:
    """``key -> value`` where the files give exactly one value for the key."""
    pairs = pd.concat([s.table[[key, value]] for s in sources if s.role in {MAPPING, LIST_SIZES}])
    pairs = pairs.loc[(pairs[key] != "") & (pairs[value] != "")].drop_duplicates()
    single = pairs.loc[~pairs[key].duplicated(keep=False)]
    return dict(zip(single[key], single[value], strict=True))


def select_practices(
    frame: pd.DataFrame,
    sources: Sequence[Source],
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
    frame: pd.DataFrame, sources: Sequence[Source], level: str, codes: Sequence[str], files: str
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


def _missing_level_message(sources: Sequence[Source], level: str, noun: str) -> str:
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
