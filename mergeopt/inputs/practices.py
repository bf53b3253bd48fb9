"""Reading and validating the practices table (joined with an optional premises table).

Whatever the file format and column names, :func:`read_practices` returns one canonical
table, validated as a whole: every problem found is gathered into one error that names
the file, the column and the rows (spreadsheet numbering for CSV: the header is row 1).

The canonical practices table
-----------------------------
index ``code`` (str, unique), columns:

=================  ========  ==========================================================
name               str       practice name
list_size          int64     registered patients, > 0
easting, northing  float64   site in British National Grid (EPSG:27700), metres
current_group      object    current network/group code, or None (``U``: unallocated)
current_name       object    current network's name (e.g. the ePCN name), or None
region             object    nesting region (``rules.nest_by``), or None when not nested
capacity           float64   patients the premises can serve as a hub; NaN: no limit
hub_eligibility    str       ``must``, ``may`` or ``never``
federation_region  object    federation nesting region (``federations.nest_by``), or None
federation_capacity float64  patients the premises can serve as a federation hub
                             (``federations.premises``); NaN: no limit
federation_hub     str       ``must``, ``may`` or ``never`` host a federation hub
                             (``federations.hub_column``; ``may`` without one)
list_size_date     object    when the list size was counted (``YYYY-MM``, as ``prepare``
                             writes it), or None where the table does not say
=================  ========  ==========================================================
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from mergeopt._errors import InputError, InputWarning, describe_rows
from mergeopt.config import Config
from mergeopt.geo.crs import to_bng
from mergeopt.inputs.nhs.assembly import prepare
from mergeopt.inputs.premises import join_premises
from mergeopt.inputs.tables import read_table

#: The current-group code NHS Digital uses for practices in no network.
UNALLOCATED = "U"
ELIGIBILITY = ("must", "may", "never")
# Generous boxes around Great Britain: a point outside is a typo or a swapped column.
_BNG_BOX = ((0.0, 700_000.0), (0.0, 1_300_000.0))
_LATLONG_BOX = ((49.8, 61.0), (-8.7, 2.0))


class _Problems:
    """Gathers every problem in one table, then raises them as one line.

    Rows are named by the frame's index: each row's number in the file (rows kept by
    ``inputs.select`` keep their numbers), or by ``rows`` when given. With ``premises``
    (the premises table joined on), a problem in a column that came from the premises
    table is that file's, at its rows.
    """

    def __init__(self, path: Path, frame: pd.DataFrame, *, rows: np.ndarray | None = None) -> None:
        self.path, self.items = path, list[str]()
        self.rows = np.asarray(frame.index if rows is None else rows, dtype=float)
        self.premises: _Problems | None = None
        self.premises_columns: set[str] = set()
        self.codes: list[str] = []

    def check(self, column: str, bad: pd.Series | np.ndarray, what: str) -> None:
        mask = np.asarray(bad, dtype=bool)
        if self.premises is not None and column in self.premises_columns:
            self.premises.check_joined(column, mask, what, codes=self.codes)
        elif mask.any():
            rows = [int(row) for row in self.rows[mask]]
            self.items.append(f"column '{column}' {what} in {describe_rows(rows)}")

    def check_joined(self, column: str, mask: np.ndarray, what: str, *, codes: list[str]) -> None:
        """A problem of joined rows: at this table's rows, or for the practices it has
        no row for."""
        missing = mask & np.isnan(self.rows)
        self.check(column, mask & ~missing, what)
        if missing.any():
            _, _, listed = describe_rows([codes[k] for k in np.flatnonzero(missing)]).partition(
                " "
            )
            self.items.append(f"no row for practice(s) {listed} (column '{column}' {what})")

    def add(self, text: str) -> None:
        self.items.append(text)

    def raise_if_any(self) -> None:
        parts = [f"{self.path}: " + "; ".join(self.items)] if self.items else []
        if self.premises is not None and self.premises.items:
            parts.append(f"{self.premises.path}: " + "; ".join(self.premises.items))
        if parts:
            raise InputError("; ".join(parts))


def read_practices(config: Config) -> pd.DataFrame:
    """Read, join and validate the practices named in a config.

    Returns the canonical practices table described in this module's docstring.

    Raises
    ------
    InputError
        One line naming the file, the column(s) and the rows at fault.
    """
    spec = config.inputs
    path = spec.source
    raw = read_source(config)
    _check_own(raw, config)  # the practices table's own faults, before any join
    own = set(raw.columns)
    premises_rows = pd.Series(np.nan, index=raw.index)
    if spec.premises is not None:
        raw, rows = join_premises(raw, spec.premises, code=spec.columns.code, practices=path)
        premises_rows = pd.Series(rows, index=raw.index)
    raw = select_rows(raw, spec.select, path)
    problems = _Problems(path, raw)
    if spec.premises is not None:
        problems.premises = _Problems(
            spec.premises, raw, rows=premises_rows.loc[raw.index].to_numpy()
        )
        problems.premises_columns = set(raw.columns) - own
    codes = _codes(raw, spec.columns.code, problems)
    problems.codes = codes
    table = pd.DataFrame(index=pd.Index(codes, name="code"))
    table["name"] = _text(raw, spec.columns.name, problems, default=codes)
    table["list_size"] = _list_size(raw, spec.columns.list_size, problems)
    easting, northing = _location(raw, config, problems)
    table["easting"], table["northing"] = easting, northing
    table["current_group"] = _optional_text(raw, spec.columns.current_group)
    table["current_name"] = _optional_text(raw, spec.columns.current_group_name)
    table["region"] = _region(raw, config.rules.nest_by, problems)
    table["capacity"] = _capacity(raw, config, problems)
    table["hub_eligibility"] = _eligibility(raw, spec.columns.hub_eligibility, problems)
    federations = config.federations
    table["federation_region"] = [None] * len(table)
    table["federation_capacity"] = np.nan
    table["federation_hub"] = "may"
    if federations is not None:
        hub_column = federations.hub_column
        table["federation_region"] = _region(raw, federations.nest_by, problems, "federations")
        if hub_column is not None and _require(raw, hub_column, problems) is not None:
            table["federation_hub"] = _eligibility(raw, hub_column, problems)
        table["federation_capacity"] = _federation_capacity(raw, config, problems)
    table["list_size_date"] = _optional_text(raw, spec.columns.list_size_date)
    problems.raise_if_any()
    return table


def read_source(config: Config) -> pd.DataFrame:
    """The practices table as given, before validation: the file ``inputs.practices``, or
    the table built from NHS Digital's files (``inputs.nhs``), typed as it was built
    (empty text as None, as a CSV's empty cells). The index is each row's number in the
    file, as :func:`~mergeopt.inputs.tables.read_table` gives it (for NHS files: in the
    table ``mergeopt prepare`` would write).

    Practices the NHS files name but that cannot be used (no list size, postcode not
    found, closed) are reported in a warning, never dropped silently.
    """
    nhs = config.inputs.nhs
    if nhs is None:
        assert config.inputs.practices is not None  # the schema guarantees one source
        return read_table(config.inputs.practices)
    prepared = prepare(
        **nhs.files(), icb=nhs.icb, sub_icb=nhs.sub_icb, pcn=nhs.pcn, practices=nhs.practices
    )
    if len(prepared.excluded):
        reasons = prepared.excluded.groupby("reason")["practice_code"].apply(
            lambda codes: ", ".join(codes)
        )
        listed = "; ".join(f"{reason}: {codes}" for reason, codes in reasons.items())
        warnings.warn(
            f"{nhs.list_sizes.name}: {len(prepared.excluded)} practice(s) left out ({listed})",
            InputWarning,
            stacklevel=2,
        )
    table = prepared.practices.copy()
    text = table.select_dtypes(include="object").columns
    table[text] = table[text].where(table[text] != "", None)
    table.index = pd.RangeIndex(2, len(table) + 2)  # as a CSV: the header is row 1
    return table


def _check_own(raw: pd.DataFrame, config: Config) -> None:
    """The practices table's own faults, named as its own before it meets another table:
    no rows, no code column, codes empty or given twice, a control character in a code
    or a name (a NUL once cut a code short)."""
    path, columns = config.inputs.source, config.inputs.columns
    if len(raw) == 0:
        raise InputError(f"{path}: no rows (a practices table holds one row per practice)")
    problems = _Problems(path, raw)
    _codes(raw, columns.code, problems)
    for column in (columns.code, columns.name):
        if column in raw.columns:
            text = raw[column].astype("string")
            control = text.str.contains(r"[\x00-\x1f\x7f]", regex=True).fillna(False)
            problems.check(column, control, "holds a control character (such as NUL or tab)")
    problems.raise_if_any()


def select_rows(
    raw: pd.DataFrame, select: Mapping[str, Sequence[str]], path: Path
) -> pd.DataFrame:
    """The rows ``inputs.select`` keeps (each keeps its row number, the index).

    Raises
    ------
    InputError
        A column it names is missing, or no row has the values asked for.
    """
    if not select:
        return raw
    keep = np.ones(len(raw), dtype=bool)
    for column, values in select.items():
        if column not in raw.columns:
            raise InputError(
                f"{path}: missing column '{column}' named by inputs.select "
                f"(columns are: {', '.join(map(str, raw.columns))})"
            )
        text = raw[column].astype("string").str.strip()
        keep &= text.isin([str(value).strip() for value in values]).fillna(False).to_numpy()
    if not keep.any():
        wanted = "; ".join(f"{column} in {values}" for column, values in select.items())
        raise InputError(f"{path}: no practice has {wanted} (inputs.select)")
    return raw.loc[keep]


def _require(raw: pd.DataFrame, column: str, problems: _Problems) -> pd.Series | None:
    if column not in raw.columns:
        problems.add(
            f"missing column '{column}' (columns are: {', '.join(map(str, raw.columns))})"
        )
        return None
    return raw[column]


def _codes(raw: pd.DataFrame, column: str, problems: _Problems) -> list[str]:
    values = _require(raw, column, problems)
    if values is None:
        problems.raise_if_any()
        raise AssertionError  # pragma: no cover - raise_if_any raised
    codes = values.astype("string").str.strip().str.upper()
    problems.check(column, codes.isna(), "is empty")
    problems.check(column, codes.duplicated(keep=False) & codes.notna(), "has duplicated codes")
    return [str(code) for code in codes.fillna("")]


def _text(raw: pd.DataFrame, column: str, problems: _Problems, *, default: list[str]) -> list[str]:
    if column not in raw.columns:
        return default
    return [
        str(v) if v is not None and v == v else d
        for v, d in zip(raw[column], default, strict=True)
    ]


def _optional_text(raw: pd.DataFrame, column: str | None) -> list[str | None]:
    if column is None or column not in raw.columns:
        return [None] * len(raw)
    return [None if v is None or v != v or str(v) == "" else str(v) for v in raw[column]]


def _numbers(values: pd.Series) -> pd.Series:
    """Numbers from text, tolerating thousands separators ("12,345")."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float)
    return pd.to_numeric(values.astype("string").str.replace(",", ""), errors="coerce")


def _list_size(raw: pd.DataFrame, column: str, problems: _Problems) -> np.ndarray:
    values = _require(raw, column, problems)
    if values is None:
        return np.zeros(len(raw), dtype=np.int64)
    numbers = _numbers(values)
    missing = values.isna()
    not_number = numbers.isna() & ~missing
    problems.check(column, missing, "is empty")
    problems.check(column, not_number, "is not a number")
    valid = numbers.notna()
    problems.check(column, valid & (numbers <= 0), "must be above 0")
    problems.check(column, valid & (numbers > 0) & (numbers % 1 != 0), "is not a whole number")
    problems.check(column, valid & (numbers > 2_000_000), "is implausibly large")
    return numbers.fillna(0).clip(0, 2_000_000).round().astype(np.int64).to_numpy()


def _location(
    raw: pd.DataFrame, config: Config, problems: _Problems
) -> tuple[np.ndarray, np.ndarray]:
    cols = config.inputs.columns
    kind = config.inputs.location
    if kind == "auto":
        if isinstance(raw, gpd.GeoDataFrame) and raw.geometry.name in raw:
            kind = "geometry"
        elif cols.easting in raw.columns and cols.northing in raw.columns:
            kind = "bng"
        elif cols.lat in raw.columns and cols.long in raw.columns:
            kind = "latlong"
        else:
            problems.add(
                f"no location: give columns '{cols.easting}'/'{cols.northing}' (EPSG:27700), "
                f"'{cols.lat}'/'{cols.long}', or a point geometry"
            )
            return np.zeros(len(raw)), np.zeros(len(raw))
    readers: dict[str, Callable[[], tuple[np.ndarray, np.ndarray]]] = {
        "geometry": lambda: _from_geometry(raw, problems),
        "bng": lambda: _from_pair(raw, (cols.easting, cols.northing), _BNG_BOX, problems),
        "latlong": lambda: _from_latlong(raw, cols.lat, cols.long, problems),
    }
    return readers[kind]()


def _from_pair(
    raw: pd.DataFrame,
    names: tuple[str, str],
    box: tuple[tuple[float, float], tuple[float, float]],
    problems: _Problems,
) -> tuple[np.ndarray, np.ndarray]:
    pair = []
    for column, (low, high) in zip(names, box, strict=True):
        values = _require(raw, column, problems)
        if values is None:
            pair.append(np.full(len(raw), np.nan))
            continue
        numbers = _numbers(values)
        problems.check(column, numbers.isna(), "is missing or not a number")
        outside = numbers.notna() & ((numbers < low) | (numbers > high))
        problems.check(column, outside, f"is outside Great Britain ({low:g} to {high:g})")
        pair.append(numbers.to_numpy(dtype=float))
    return pair[0], pair[1]


def _from_latlong(
    raw: pd.DataFrame, lat: str, long: str, problems: _Problems
) -> tuple[np.ndarray, np.ndarray]:
    lats, longs = _from_pair(raw, (lat, long), _LATLONG_BOX, problems)
    return to_bng(longs, lats)


def _from_geometry(raw: pd.DataFrame, problems: _Problems) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(raw, gpd.GeoDataFrame):  # e.g. a CSV, with inputs.location: geometry
        problems.add(
            "inputs.location is 'geometry' but the table has no geometry: give a GeoPackage "
            "or GeoJSON of points, or location bng or latlong with their columns"
        )
        return np.zeros(len(raw)), np.zeros(len(raw))
    frame = gpd.GeoDataFrame(raw)
    geometry = frame.geometry
    column = str(geometry.name)
    bad = geometry.isna() | geometry.is_empty
    problems.check(column, bad, "is empty")
    problems.check(column, ~bad & (geometry.geom_type != "Point"), "is not a point")
    if frame.crs is None:
        problems.add(f"column '{column}' has no CRS: save the file with one (e.g. EPSG:27700)")
        return np.zeros(len(raw)), np.zeros(len(raw))
    points = geometry.to_crs("EPSG:27700")
    easting = np.where(bad, np.nan, points.x.where(~bad))
    northing = np.where(bad, np.nan, points.y.where(~bad))
    (e_low, e_high), (n_low, n_high) = _BNG_BOX
    outside = ~bad & (
        (easting < e_low) | (easting > e_high) | (northing < n_low) | (northing > n_high)
    )
    problems.check(column, outside, "is outside Great Britain")
    return easting, northing


def _region(
    raw: pd.DataFrame, column: str | None, problems: _Problems, section: str = "rules"
) -> list[str | None]:
    if column is None:
        return [None] * len(raw)
    values = _require(raw, column, problems)
    if values is None:
        return [None] * len(raw)
    problems.check(column, values.isna(), f"is empty (needed for {section}.nest_by)")
    return _optional_text(raw, column)


def _capacity(raw: pd.DataFrame, config: Config, problems: _Problems) -> np.ndarray:
    rule, cols = config.premises.rule, config.inputs.columns
    column = cols.capacity if rule == "capacity" else cols.floor_area
    per_patient = config.premises.m2_per_patient
    return _premises(raw, rule, column, per_patient, cols.hub_eligibility, problems, "premises")


def _federation_capacity(raw: pd.DataFrame, config: Config, problems: _Problems) -> np.ndarray:
    assert config.federations is not None  # called only with a federations block
    premises, cols = config.federations.premises, config.inputs.columns
    column = premises.capacity_column if premises.rule == "capacity" else cols.floor_area
    eligibility = config.federations.hub_column
    return _premises(raw, premises.rule, column, premises.m2_per_patient, eligibility, problems,
                     "federations.premises")  # fmt: skip


def _premises(
    raw: pd.DataFrame,
    rule: str,
    column: str,
    m2_per_patient: float | None,
    eligibility_column: str | None,
    problems: _Problems,
    key: str,
) -> np.ndarray:
    """Patients each practice's premises can serve as a hub under ``rule`` (NaN: no
    limit); a practice that may host (by ``eligibility_column``) must have a value."""
    if rule == "none":
        return np.full(len(raw), np.nan)
    values = _require(raw, column, problems)
    if values is None:
        return np.full(len(raw), np.nan)
    numbers = _numbers(values)
    problems.check(column, values.notna() & numbers.isna(), "is not a number")
    problems.check(column, numbers.notna() & (numbers < 0), "is negative")
    eligibility = _optional_text(raw, eligibility_column)
    may_host = np.array([(e or "may").lower() != "never" for e in eligibility])
    problems.check(
        column,
        values.isna() & may_host,
        f"is empty for a practice that may host a hub ({key} rule '{rule}')",
    )
    capacity = numbers.to_numpy(dtype=float)
    if rule == "floor_area":
        assert m2_per_patient is not None  # the schema guarantees it
        # a group of s patients fits when s * m2_per_patient <= floor area; in floating
        # point 968.8 / 0.025 is 38751.99999999999, so the quotient is floored only after
        # forgiving a millionth of a patient (else 38,752 patients would not fit)
        capacity = np.floor(capacity / m2_per_patient + 1e-6)
    return capacity


def _eligibility(raw: pd.DataFrame, column: str, problems: _Problems) -> list[str]:
    if column not in raw.columns:
        return ["may"] * len(raw)
    values = [(v or "may").strip().lower() for v in _optional_text(raw, column)]
    problems.check(
        column, np.array([v not in ELIGIBILITY for v in values]), "must be must, may or never"
    )
    return values
