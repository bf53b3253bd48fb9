"""The premises table (``inputs.premises``): premises columns joined onto the practices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mergeopt._errors import InputError, describe_rows
from mergeopt.inputs.tables import read_table


def join_premises(
    raw: pd.DataFrame, premises: Path, *, code: str, practices: Path
) -> tuple[pd.DataFrame, np.ndarray]:
    """The practices with the premises table's columns joined on (those the practices
    table lacks), and each practice's row number in the premises file (NaN where it has
    no row for the practice).

    Raises
    ------
    InputError
        A fault of the premises file itself (no code column, a code that is not a
        practice, a code given twice), named as the premises file's.
    """
    table = read_table(premises)
    if code not in table.columns:
        raise InputError(f"{premises}: missing column '{code}' to join on {practices.name}")
    keys = table[code].astype("string").str.strip().str.upper()
    known = set(raw[code].astype("string").str.strip().str.upper()) if code in raw else set()
    unknown = keys[~keys.isin(known)]  # the index: each row's number in the file
    if len(unknown):
        names = ", ".join(str(key) for key in unknown.iloc[:5])
        raise InputError(
            f"{premises}: column '{code}' has practices not in {practices.name} "
            f"({names}) in {describe_rows(unknown.index)}"
        )
    repeated = keys.index[keys.duplicated(keep=False)]
    if len(repeated):
        raise InputError(
            f"{premises}: column '{code}' has duplicated codes in {describe_rows(repeated)}"
        )
    extra = table.drop(columns=[c for c in table.columns if c in raw.columns and c != code])
    extra = extra.assign(**{code: keys.to_numpy(), _ROW: np.asarray(table.index, dtype=float)})
    left = raw.assign(_key=raw[code].astype("string").str.strip().str.upper())
    joined = left.merge(extra.rename(columns={code: "_key"}), on="_key", how="left")
    joined.index = raw.index  # a left join keeps the practices' order: and their row numbers
    rows = joined[_ROW].to_numpy(dtype=float)
    return joined.drop(columns=["_key", _ROW]), rows


#: The column that carries each premises row's number through the join.
_ROW = "__premises_row__"
