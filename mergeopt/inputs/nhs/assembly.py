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
sizes that are not whole numbers (or over
:data:`~mergeopt.inputs.nhs.publications.MAX_LIST_SIZE`), a practice code that
is not one (a letter and five letters or digits) or appears twice in a file (in ePCN:
twice with no end date), a coordinate of a postcode the practices need that is text,
infinite or outside the UK, such a postcode given twice with different coordinates, a
selected practice in a list-size file at least as new as the mapping but not in it (the
two do not belong together: use the mapping of the same month), a code matching nothing,
selecting by ICB with no file that gives ICBs, no usable practice at all.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mergeopt._csv import write_csv
from mergeopt._errors import InputError
from mergeopt._extras import require
from mergeopt.inputs.nhs.exclusions import check_list_against_mapping, exclusion_reasons
from mergeopt.inputs.nhs.files import (
    CODE_NAMES,
    DESCRIPTIONS,
    POSTCODES,
    PREMISES,
    Source,
    first_present,
    first_row,
    kind_of,
    norm,
    practice_codes,
    read_csv,
)
from mergeopt.inputs.nhs.postcodes import display_postcode, read_postcodes
from mergeopt.inputs.nhs.publications import (
    read_epcn,
    read_epraccur,
    read_list_sizes,
    read_mapping,
)
from mergeopt.inputs.nhs.selection import resolve_fields, select_practices

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

EXCLUDED_COLUMNS: tuple[str, ...] = ("practice_code", "practice_name", "list_size", "reason")


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
            sizes = self.excluded["list_size"]
            unknown = int(sizes.isna().sum())
            besides = f", and {unknown:,} with no list size" if unknown else ""
            lines.append(
                f"{len(self.excluded):,} {noun} left out ({int(sizes.sum()):,} patients{besides}):"
            )
            lines.extend(
                f"  {row.practice_code} {row.practice_name}: {row.reason}"
                for row in self.excluded.itertuples()
            )
        return "\n".join(lines)


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
    sizes = read_list_sizes(Path(list_sizes))
    sources = [sizes]
    if mapping is not None:
        sources.append(read_mapping(Path(mapping)))
    if epraccur is not None:
        sources.append(read_epraccur(Path(epraccur)))
    if epcn_partners is not None or epcn_details is not None:
        sources.append(read_epcn(epcn_partners, epcn_details))

    frame = resolve_fields(sources)
    chosen = select_practices(
        frame, sources, icb=icb, sub_icb=sub_icb, pcn=pcn, practices=practices
    )
    frame = frame.loc[chosen]
    check_list_against_mapping(frame, sources)
    lookup = read_postcodes(Path(postcodes), set(frame["postcode_key"]))
    reasons = exclusion_reasons(frame, sources, lookup, Path(postcodes))
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
    if suffix == ".parquet":
        require("pyarrow", purpose=f"{out}: writing a Parquet table")
    report = out.with_name(f"{out.stem}_excluded.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    temps = [p.with_name(f".{p.stem}.{os.getpid()}.tmp{p.suffix}") for p in (out, report)]
    try:
        _write_table(prepared.practices, temps[0], suffix)
        write_csv(prepared.excluded, temps[1])
        for temp, final in zip(temps, (out, report), strict=True):
            os.replace(temp, final)
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)
    return out, report


def _month(date: pd.Timestamp | None) -> str:
    return "" if date is None else f"{date:%Y-%m}"


def _assemble(
    frame: pd.DataFrame,
    reasons: pd.Series,
    lookup: pd.DataFrame,
    sizes: Source,
    premises: Path | None,
) -> Prepared:
    """The practices table and the exclusions report."""
    left_out = reasons != ""
    excluded = pd.DataFrame(
        {
            "practice_code": frame.index[left_out],
            "practice_name": frame.loc[left_out, "practice_name"].to_numpy(),
            "list_size": pd.to_numeric(
                sizes.table["list_size"].reindex(frame.index[left_out]), errors="coerce"
            )
            .round()
            .astype("Int64")
            .array,  # whole patients, blank where none was published (never 8631.0)
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
            "postcode": [display_postcode(p) for p in kept["postcode"]],
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
        write_csv(table, path)
    elif suffix == ".parquet":
        table.to_parquet(path, index=False)
    else:
        import geopandas as gpd

        points = gpd.points_from_xy(table["easting"], table["northing"], crs="EPSG:27700")
        gpd.GeoDataFrame(table, geometry=points).to_file(path, driver="GPKG", layer="practices")


def _read_premises(path: Path) -> pd.DataFrame:
    """The premises table indexed by practice code, its own columns as they are."""
    fields = first_row(path)
    code_column = first_present([norm(f) for f in fields], CODE_NAMES)
    if code_column is None or kind_of(fields) not in {PREMISES, POSTCODES}:
        kind = kind_of(fields)
        looks = f"this looks like {DESCRIPTIONS[kind]}, " if kind else ""
        raise InputError(
            f"{path.name}: {looks}expected {DESCRIPTIONS[PREMISES]}: a column named practice_code"
        )
    raw = read_csv(path, header=True, normalise=False)
    raw["_line"] = raw.index
    original = next(c for c in raw.columns if norm(c) == code_column)
    codes = practice_codes(raw, path, original)
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
