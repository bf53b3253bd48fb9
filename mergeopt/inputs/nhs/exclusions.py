"""Which selected practices cannot be used, and why (the ``excluded`` report)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mergeopt._errors import InputError
from mergeopt.inputs.nhs.files import (
    EPRACCUR,
    LIST_SIZES,
    MAPPING,
    Source,
    parse_date,
    rows_text,
)
from mergeopt.inputs.nhs.postcodes import display_postcode


def check_list_against_mapping(frame: pd.DataFrame, sources: Sequence[Source]) -> None:
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
            f"{mapping.label} at {rows_text(table, mask, 'practice_code')}; {why}"
        )


def _older(first: Source, second: Source) -> bool:
    return first.date is not None and second.date is not None and first.date < second.date


def exclusion_reasons(
    frame: pd.DataFrame, sources: Sequence[Source], lookup: pd.DataFrame, postcodes: Path
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
            reasons[code].append(
                f"postcode {display_postcode(postcode)} not found in {postcodes.name}"
            )
        elif not place:
            reasons[code].append(
                f"postcode {display_postcode(postcode)} has no coordinates in {postcodes.name}"
            )
    return pd.Series({code: "; ".join(items) for code, items in reasons.items()}, dtype=object)


def _closures(frame: pd.DataFrame, sources: Sequence[Source]) -> list[tuple[str, str]]:
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
        closed = parse_date(str(status.at[code, "close_date"]))
        when = f" on {closed:%Y-%m-%d}" if closed is not None else ""
        state = "closed" if status.at[code, "status"] == "C" else "dormant"
        found.append((code, f"{state}{when} according to {ods.label}"))
    return found
