"""The postcode lookup: coordinates of the practices' postcodes, checked.

Postcodes are matched with spaces removed and case ignored. Where the lookup lacks
easting/northing they are computed from lat/long (and the other way round).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from mergeopt._errors import InputError
from mergeopt.geo.crs import to_bng, to_degrees
from mergeopt.inputs.nhs.files import (
    DESCRIPTIONS,
    EAST_NAMES,
    LAT_NAMES,
    LONG_NAMES,
    NORTH_NAMES,
    POSTCODE_NAMES,
    POSTCODES,
    first_present,
    first_row,
    kind_of,
    missing_columns,
    norm,
    read_csv,
    rows_text,
)

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


def postcode_key(values: pd.Series) -> pd.Series:
    return values.str.upper().str.replace(r"\s+", "", regex=True)


def read_postcodes(path: Path, wanted: set[str]) -> pd.DataFrame:
    """Coordinates of the ``wanted`` postcodes (keys without spaces), indexed by key.

    Columns lat, long, easting, northing (floats, NaN where the lookup has none).
    """
    fields = [norm(f) for f in first_row(path)]
    kind = kind_of(fields)
    if kind != POSTCODES:
        looks = f"this looks like {DESCRIPTIONS[kind]}, " if kind else ""
        raise InputError(
            f"{path.name}: {looks}expected {DESCRIPTIONS[POSTCODES]}"
            f"{missing_columns(POSTCODES, fields)}"
        )
    names = {
        "postcode": first_present(fields, POSTCODE_NAMES),
        "lat": first_present(fields, LAT_NAMES),
        "long": first_present(fields, LONG_NAMES),
        "easting": first_present(fields, EAST_NAMES),
        "northing": first_present(fields, NORTH_NAMES),
    }
    used = {n for n in names.values() if n is not None}
    raw = read_csv(path, header=True, usecols=lambda c: norm(c) in used)
    raw["_line"] = raw.index
    raw["_key"] = postcode_key(raw[str(names["postcode"])])
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
            f"{path.name}: column {column}: not a number ({field}) at "
            f"{rows_text(raw, bad, column)}"
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
                f"{high:g}) at {rows_text(raw, mask, column)}"
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
            f"has different coordinates at {rows_text(raw, mask, column)}"
        )


def _complete_coordinates(lookup: pd.DataFrame) -> pd.DataFrame:
    """Fill easting/northing from lat/long, or lat/long from easting/northing (pyproj)."""
    need_grid = lookup["easting"].isna() & lookup["lat"].notna() & lookup["long"].notna()
    if need_grid.any():
        x, y = to_bng(
            lookup.loc[need_grid, "long"].to_numpy(), lookup.loc[need_grid, "lat"].to_numpy()
        )
        lookup.loc[need_grid, "easting"] = np.round(x)
        lookup.loc[need_grid, "northing"] = np.round(y)
    need_degrees = lookup["lat"].isna() & lookup["easting"].notna() & lookup["northing"].notna()
    if need_degrees.any():
        lon, lat = to_degrees(
            lookup.loc[need_degrees, "easting"].to_numpy(),
            lookup.loc[need_degrees, "northing"].to_numpy(),
        )
        lookup.loc[need_degrees, "long"] = np.round(lon, 6)
        lookup.loc[need_degrees, "lat"] = np.round(lat, 6)
    return lookup


def display_postcode(postcode: str) -> str:
    """Write a postcode the usual way, one space before the last three characters.

    >>> display_postcode("hu92lj"), display_postcode("HU9  2LJ")
    ('HU9 2LJ', 'HU9 2LJ')
    """
    key = re.sub(r"\s+", "", postcode.upper())
    return f"{key[:-3]} {key[-3:]}" if len(key) >= 5 else key
