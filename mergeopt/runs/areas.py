"""A ready config for any area of England (``mergeopt init``).

:func:`init_area` selects an area's practices (by sub-ICB, ICB, PCN or practice code)
from the shipped national table, or from NHS Digital's files as ``mergeopt prepare``
reads them, and writes two files into one folder: the practices table and a commented
config with the national network rule (30,000-50,000 patients, every practice within 20
drive minutes of its hub; a practice above 50,000 a network of its own), the area's own
boundary for catchments and maps, no premises rule, and comments saying what to change.
``mergeopt run`` on that config is the rest of the journey.

The boundary. For a sub-ICB or an ICB, the features of the shipped ONS CCG 2021 layer
(``data/nhs/boundaries/boundaries_ccg21.geojson``, field ``ccg21_code``) that are the
area, matched by the ONS code the NHS mapping gives each sub-ICB. Sub-ICBs are the CCGs
of 2021 where nothing has changed since; where a sub-ICB has a newer code than the
layer, or one of its practices lies outside its 2021 area (by more than the
:data:`~mergeopt.geo.boundaries.EDGE_TOLERANCE` the catchments allow), the part of each
feature holding such practices that lies nearer them than any other practice of the
national table (their Voronoi cells among England's practices) is added, not the whole
feature (a feature holding mostly the area's own practices, as a CCG a sub-ICB took
over under a newer code, comes whole), and the config's comment says which and why. ICBs use the
same layer: the shipped ICB 2022 layer (``boundaries_icb22``) is generalised so far that
its coastline leaves 85 of England's practices outside it. A PCN or a list of practices
has no boundary of its own: the catchments then fill the practices' convex hull plus 2 km.

Nothing is written until everything has been checked, and no existing file is replaced
without ``force``.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import yaml

from mergeopt._errors import InputError
from mergeopt.config import Config
from mergeopt.geo.boundaries import EDGE_TOLERANCE
from mergeopt.inputs.tables import read_table

#: The repository's data folder, where the national tables and layers are kept.
DATA = Path(__file__).resolve().parents[2] / "data"
#: Where an installed wheel carries the same files (``setup.py`` copies them there).
SHIPPED = Path(__file__).resolve().parent / "national"


def national(relative: str) -> Path:
    """A national table or layer (``relative`` under ``data/``): the repository's copy in
    a clone or an editable install, else the one the wheel ships."""
    kept = DATA / relative
    return kept if kept.is_file() else SHIPPED / Path(relative).name


NATIONAL_TABLE = national("england/practices.csv")
MAPPING = national("nhs/gp-reg-pat-prac-map.csv")
CCG_LAYER = national("nhs/boundaries/boundaries_ccg21.geojson")
CCG_FIELD, CCG_NAME = "ccg21_code", "ccg21_name"
#: The national network rule written into every new config.
MIN_LIST_SIZE, MAX_LIST_SIZE, MAX_MINUTES = 30_000, 50_000, 20

_LEVELS = (
    ("sub_icb", "sub_icb_code", "sub-ICB"),
    ("icb", "icb_code", "ICB"),
    ("pcn", "pcn_code", "PCN"),
    ("practice", "practice_code", "practice"),
)


@dataclass(frozen=True)
class Selection:
    """Which practices make the area: any practice matching any code is in it."""

    sub_icb: tuple[str, ...] = ()
    icb: tuple[str, ...] = ()
    pcn: tuple[str, ...] = ()
    practice: tuple[str, ...] = ()

    def codes(self) -> list[tuple[str, str, str, str]]:
        """(level, column, noun, code) for every code given, upper case."""
        return [
            (level, column, noun, code.strip().upper())
            for level, column, noun in _LEVELS
            for code in getattr(self, level)
        ]

    @property
    def slug(self) -> str:
        """A short name for the area, from its codes (``02Y``, ``QOQ``, ``02Y-03F``)."""
        codes = [code for *_, code in self.codes()]
        return "-".join(codes) if len(codes) <= 3 else f"{codes[0]}-and-{len(codes) - 1}-more"


@dataclass(frozen=True)
class Boundary:
    """The study area a config names: a layer, its field and the values that make it."""

    path: Path  # the layer the features were taken from
    field: str
    values: tuple[str, ...]
    note: str  # what the values are, for the config's comment
    #: the features of the layer that make the area, written beside the config
    features: gpd.GeoDataFrame = dataclasses.field(compare=False, repr=False)


#: The file beside the config that holds the area's own boundary features, so the folder
#: moves whole (to another folder or machine) and still runs.
BOUNDARY_FILE = "boundary.geojson"


@dataclass(frozen=True)
class Written:
    """What :func:`init_area` wrote, and the figures to print."""

    folder: Path
    config: Path
    practices: Path
    excluded: Path | None
    count: int
    patients: int
    dates: tuple[str, ...]
    boundary: Boundary | None

    def summary(self) -> str:
        """What was written and what to run next."""
        dates = f" (list sizes of {', '.join(self.dates)})" if self.dates else ""
        where = (
            f"boundary: {self.boundary.note}"
            if self.boundary is not None
            else "no boundary: catchments fill the practices' convex hull plus 2 km"
        )
        excluded = f"; practices left out, and why: {self.excluded}" if self.excluded else ""
        layer = f", {self.folder / BOUNDARY_FILE}" if self.boundary is not None else ""
        return (
            f"{self.count:,} practices, {self.patients:,} patients{dates}\n"
            f"wrote {self.practices}{layer} and {self.config}{excluded}\n"
            f"rule: networks of {MIN_LIST_SIZE:,}-{MAX_LIST_SIZE:,} patients, every practice "
            f"within {MAX_MINUTES} drive minutes of its hub; {where}\n"
            f"next: mergeopt run {self.config}"
        )


def init_area(
    selection: Selection,
    *,
    out: Path | None = None,
    table: Path | None = None,
    nhs: dict[str, Path] | None = None,
    boundary: Path | None = None,
    boundary_field: str | None = None,
    force: bool = False,
) -> Written:
    """Write an area's practices table and a commented config with the national rule.

    Parameters
    ----------
    selection
        The area's codes.
    out
        The folder to write (default ``areas/<codes>``).
    table
        A national practices table to select from (default: the shipped one,
        ``data/england/practices.csv``).
    nhs
        NHS Digital's files as ``mergeopt prepare`` takes them (``list_sizes``,
        ``postcodes``, ``mapping``, ``epraccur``, ``epcn_partners``, ``epcn_details``),
        instead of a table.
    boundary, boundary_field
        A boundary layer and the field that names its areas, instead of the shipped
        CCG 2021 layer: the features holding the area's practices make the study area.
    force
        Replace the files if they exist.

    Raises
    ------
    InputError
        No code given, a code that matches no practice, an area with no practice, a
        boundary layer without the area, or a file that exists (without ``force``).
        Nothing is written.
    """
    if not selection.codes():
        raise InputError("init needs an area: --sub-icb, --icb, --pcn or --practice")
    if (boundary is None) != (boundary_field is None):
        raise InputError("--boundary and --boundary-field go together")
    folder = Path(out) if out is not None else Path("areas") / selection.slug
    config_path, table_path = folder / "pcn.yaml", folder / "practices.csv"
    excluded_path = folder / "practices_excluded.csv" if nhs else None
    _refuse_existing([config_path, table_path, excluded_path], force=force)
    practices, excluded, source = _select(selection, table=table, nhs=nhs)
    area = _boundary(selection, practices, boundary, boundary_field, national=table)
    boundary_path = folder / BOUNDARY_FILE if area is not None else None
    _refuse_existing([boundary_path], force=force)
    text = _config_text(selection, practices, area, folder, source)
    files: list[tuple[Path, _Content]] = [(table_path, practices)]
    if excluded_path is not None and excluded is not None:
        files.append((excluded_path, excluded))
    if boundary_path is not None and area is not None:
        files.append((boundary_path, area.features))
    _write(folder, [*files, (config_path, text)])
    dates = practices.get("list_size_date", pd.Series(dtype=str)).dropna().unique()
    return Written(
        folder=folder,
        config=config_path,
        practices=table_path,
        excluded=excluded_path,
        count=len(practices),
        patients=int(pd.to_numeric(practices["list_size"]).sum()),
        dates=tuple(sorted(str(d) for d in dates if str(d))),
        boundary=area,
    )


def _refuse_existing(paths: Sequence[Path | None], *, force: bool) -> None:
    found = [path for path in paths if path is not None and path.exists()]
    dirs = [path for path in found if path.is_dir()]
    if dirs:
        raise InputError(f"{dirs[0]}: is a folder, not a file; choose another --out")
    if found and not force:
        named = ", ".join(str(path) for path in found)
        raise InputError(f"{named}: file exists; use --force to replace it (nothing written)")


# ---------------------------------------------------------------------------------------
# Which practices


def _select(
    selection: Selection, *, table: Path | None, nhs: dict[str, Path] | None
) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
    """The area's rows, the practices left out (from NHS files) and where they came from."""
    if nhs:
        if table is not None:
            raise InputError("give a practices table or NHS Digital's files, not both")
        from mergeopt.inputs.nhs.assembly import prepare

        prepared = prepare(
            **nhs,
            sub_icb=selection.sub_icb,
            icb=selection.icb,
            pcn=selection.pcn,
            practices=selection.practice,
        )
        return prepared.practices, prepared.excluded, Path(nhs["list_sizes"]).name
    path = Path(table) if table is not None else NATIONAL_TABLE
    if not path.is_file():
        raise InputError(
            f"{path}: no such practices table (the national table ships in the repository's "
            "data/england/ and in the installed package; give --practices, or NHS Digital's "
            "files as for prepare)"
        )
    rows = read_table(path)
    chosen = np.zeros(len(rows), dtype=bool)
    for _, column, noun, code in selection.codes():
        if column not in rows.columns:
            raise InputError(f"{path}: missing column '{column}' to select by {noun}")
        values = rows[column].fillna("").str.strip().str.upper()
        hits = (values == code).to_numpy()
        if not hits.any():
            known = sorted(set(values) - {""})
            close = difflib.get_close_matches(code, known, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise InputError(
                f"{path}: column '{column}': {noun} code {code} matches no practice{hint}"
            )
        chosen |= hits
    return rows.loc[chosen].reset_index(drop=True), None, str(path)


# ---------------------------------------------------------------------------------------
# The boundary


def _boundary(
    selection: Selection,
    practices: pd.DataFrame,
    layer: Path | None,
    field: str | None,
    *,
    national: Path | None = None,
) -> Boundary | None:
    """The study area for the config, or None for a PCN or a list of practices.
    ``national`` is the national table the practices came from (None: the shipped one),
    whose other practices bound the part of a feature added for a practice outside the
    area (:func:`_nearest_part`)."""
    sites = shapely.points(
        pd.to_numeric(practices["easting"]).to_numpy(dtype=float),
        pd.to_numeric(practices["northing"]).to_numpy(dtype=float),
    )
    codes = practices["practice_code"].astype(str).to_numpy()
    if layer is not None:
        assert field is not None
        shapes = _layer(layer, field)
        held = _holders(shapes, field, sites)
        if not len(held):
            raise InputError(
                f"{layer}: no feature holds any of the area's {len(sites)} practices "
                f"(field '{field}'): a boundary layer without the area"
            )
        values = sorted(set(held))
        return _covering(
            layer, field, values, shapes, sites, codes, note=f"{field} {', '.join(values)}"
        )
    if selection.pcn or selection.practice:
        return None
    shapes = _layer(CCG_LAYER, CCG_FIELD, name=CCG_NAME)
    own = _own_codes(selection, practices)
    present = [code for code in own if code in set(shapes[CCG_FIELD])]
    names = dict(zip(shapes[CCG_FIELD], shapes[CCG_NAME], strict=True))
    note = ", ".join(f"{names[c]} ({c})" for c in present)
    missing = sorted(set(own) - set(present))
    if missing:
        note += f"{'; ' if note else ''}{', '.join(missing)} newer than the 2021 layer"
    return _covering(
        CCG_LAYER,
        CCG_FIELD,
        present,
        shapes,
        sites,
        codes,
        note=note,
        names=names,
        others=lambda: _other_sites(national, set(codes)),
    )


def _covering(
    layer: Path,
    field: str,
    values: list[str],
    shapes: gpd.GeoDataFrame,
    sites: np.ndarray,
    codes: np.ndarray,
    *,
    note: str,
    names: dict[str, str] | None = None,
    others: Callable[[], np.ndarray | None] | None = None,
) -> Boundary:
    """The values, with the features holding any practice they leave outside added: of
    each, where ``others`` gives the sites of the country's other practices (read only if
    a practice lies outside), only the part nearer those practices than any other
    (:func:`_nearest_part`), unless they are most of its practices (:func:`_mostly_ours`)."""
    area = shapes.loc[shapes[field].isin(values)].geometry
    union = shapely.union_all(area.to_numpy()) if len(area) else shapely.Polygon()
    outside = (
        shapely.distance(union, sites) > EDGE_TOLERANCE
        if not union.is_empty
        else np.ones(len(sites), dtype=bool)
    )
    if outside.any():
        held = _holders(shapes, field, sites[outside])
        added = sorted(set(held) - set(values))
        if not held.size or len(held) < outside.sum():
            lost = ", ".join(codes[outside][:5])
            raise InputError(
                f"{layer}: practices {lost} lie outside every feature of the layer "
                f"(field '{field}'): a boundary layer without the area"
            )
        stray, held_sites = codes[outside], sites[outside]
        neighbours = others() if others is not None else None
        shapes = shapes.copy()
        parts: list[str] = []
        for code in added:
            row = shapes.index[shapes[field] == code]
            whole = shapely.union_all(shapes.loc[row].geometry.to_numpy())
            mine = held_sites[held == code]
            if neighbours is not None and not _mostly_ours(whole, len(mine), neighbours):
                shapes.loc[row, "geometry"] = _nearest_part(whole, mine, neighbours)
                parts.append(code)
        wholes = [code for code in added if code not in parts]
        if wholes:
            verb = f"hold{'s' if len(wholes) == 1 else ''}"
            listed = _listed(stray[np.isin(held, wholes)])
            note += f"{'; ' if note else ''}and {_labels(wholes, names)}, which {verb} {listed}"
        if parts:
            part = "the part" if len(parts) == 1 else "the parts"
            listed = _listed(stray[np.isin(held, parts)])
            note += (
                f"{'; ' if note else ''}and, of {_labels(parts, names)}, {part} nearest {listed}"
            )
        values = sorted(set(values) | set(added))
    features = shapes.loc[shapes[field].isin(values)].sort_values(field).to_crs("EPSG:4326")
    return Boundary(
        path=layer,
        field=field,
        values=tuple(values),
        note=note,
        features=features.reset_index(drop=True),
    )


def _labels(values: list[str], names: dict[str, str] | None) -> str:
    return ", ".join(f"{(names or {}).get(c, c)} ({c})" for c in values)


def _listed(codes: np.ndarray, most: int = 6) -> str:
    """Practice codes for a note: the first ``most``, and how many more."""
    more = f" and {len(codes) - most} more" if len(codes) > most else ""
    return ", ".join(codes[:most].tolist()) + more


#: Metres around a feature within which the country's other practices bound the part of
#: it nearest the area's practices (:func:`_nearest_part`).
NEIGHBOUR_WINDOW = 20_000.0


def _nearest_part(
    feature: shapely.Geometry, sites: np.ndarray, others: np.ndarray
) -> shapely.Geometry:
    """The part of ``feature`` nearer the area's ``sites`` than any of the country's
    ``others`` practices: their Voronoi cells, clipped to it.

    A practice outside its own area brought in the whole feature holding it: for one
    practice (M83125), sub-ICB 05Q's study area took in all of Shropshire, Telford and
    Wrekin, and ICB QRV's all of North Central London, which the maps coloured as the
    catchment of that practice's group. The whole feature stays if the part is empty.
    """
    window = shapely.envelope(feature).buffer(NEIGHBOUR_WINDOW)
    near = others[shapely.intersects(window, others)]
    points = shapely.multipoints(np.concatenate([sites, near]))
    cells = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=window))
    tree = shapely.STRtree(cells)
    mine = np.unique(tree.query(sites, predicate="intersects")[1])
    part = shapely.intersection(feature, shapely.union_all(cells[mine]))
    return feature if part.is_empty else part


def _mostly_ours(feature: shapely.Geometry, ours: int, others: np.ndarray) -> bool:
    """Whether the area's ``ours`` practices are most of those ``feature`` holds: a CCG
    the area has taken over under a newer code (15M, Derby and Derbyshire, holds 110 of
    its own practices), added whole, not a neighbour holding a few of them."""
    theirs = int(shapely.intersects(feature, others).sum())
    return ours >= theirs


def _other_sites(national: Path | None, own: set[str]) -> np.ndarray | None:
    """The sites of the national table's practices outside the area, or None where
    there is no national table to read (then a feature is added whole)."""
    path = Path(national) if national is not None else NATIONAL_TABLE
    if not path.is_file():
        return None
    rows = read_table(path)
    if not {"practice_code", "easting", "northing"} <= set(rows.columns):
        return None
    rows = rows.loc[~rows["practice_code"].astype(str).isin(own)]
    east = pd.to_numeric(rows["easting"], errors="coerce").to_numpy(dtype=float)
    north = pd.to_numeric(rows["northing"], errors="coerce").to_numpy(dtype=float)
    known = np.isfinite(east) & np.isfinite(north)
    return np.asarray(shapely.points(east[known], north[known]))


def _layer(path: Path, field: str, *, name: str | None = None) -> gpd.GeoDataFrame:
    columns = [field] + ([name] if name else [])
    try:
        shapes = gpd.read_file(path, columns=columns)
    except Exception as exc:  # the reader's own words are the useful part
        reason = next(iter(str(exc).splitlines()), "") or type(exc).__name__
        raise InputError(f"{path}: cannot read the boundary layer ({reason})") from None
    if field not in shapes.columns:
        raise InputError(f"{path}: missing field '{field}' (--boundary-field)")
    if shapes.crs is None:
        raise InputError(f"{path}: the layer has no CRS; save it with one (e.g. EPSG:4326)")
    shapes[field] = shapes[field].astype(str)
    return shapes.to_crs("EPSG:27700")


def _holders(shapes: gpd.GeoDataFrame, field: str, sites: np.ndarray) -> np.ndarray:
    """The field value of the feature nearest each site, for sites within the tolerance."""
    geometry = shapes.geometry.to_numpy()
    tree = shapely.STRtree(geometry)
    (_, feature), distance = tree.query_nearest(sites, return_distance=True, all_matches=False)
    near = distance <= EDGE_TOLERANCE
    return np.asarray(shapes[field].to_numpy()[feature[near]], dtype=str)


def _own_codes(selection: Selection, practices: pd.DataFrame) -> list[str]:
    """The ONS codes of the sub-ICBs that make the area (an ICB: those of its practices)."""
    mapping = pd.read_csv(
        MAPPING, dtype=str, usecols=["SUB_ICB_LOCATION_CODE", "ONS_SUB_ICB_LOCATION_CODE"]
    )
    ons = dict(
        zip(mapping["SUB_ICB_LOCATION_CODE"], mapping["ONS_SUB_ICB_LOCATION_CODE"], strict=True)
    )
    subs = sorted(set(practices["sub_icb_code"].astype(str)))
    return sorted({ons[s] for s in subs if s in ons})


# ---------------------------------------------------------------------------------------
# Writing


_TEMPLATE = """\
# Networks for {area}:
# {count:,} practice{plural}, {patients:,} patients (list sizes of {dates}),
# written by `mergeopt init {asked}` from {source}.
# The national network rule: networks of 30,000-50,000 patients, every practice within
# 20 drive minutes of its hub. Change any value below, check the inputs with
#   mergeopt validate {config}
# then solve with
#   mergeopt run {config}
# If the rules cannot all be met, `mergeopt explain {config}` ranks the changes
# that would let them, each checked by solving with it.
name: {name}
description: {slug} practices into networks of 30,000-50,000 patients
inputs:
  practices: practices.csv        # this area's practices, one row each
  # premises: premises.csv        # your estates data, joined on practice_code
groups:
  min_list_size: {min_list_size}            # the smallest network (patients)
  max_list_size: {max_list_size}            # the largest network (patients)
  oversize: alone                 # a practice above the maximum is a network of its own
                                  # (here: {oversize})
  # count: 8                      # a fixed number of groups, or {{min: 6, max: 9}}
  # remote: [L82017]              # practices that stand alone (an island's), or alone:
                                  # every practice that can reach no network
travel:
  model: road                     # drive minutes by the road model (see the README)
  max_minutes: {max_minutes}                 # the longest drive from a practice to its hub
# premises:                       # hubs only where the premises can serve the group:
#   rule: floor_area              # needs a floor_area_m2 column (inputs.premises)
#   m2_per_patient: 0.025
# rules:                          # takeovers, forced and forbidden hubs, links:
#   forbidden_hubs: [{example}]      # see the README's config reference
{nest}{geography}maps: true                        # map.png, map.html and groups.gpkg in the run
solver:
  time_limit: 300                 # seconds; run.json says what was proven
"""


def _config_text(
    selection: Selection,
    practices: pd.DataFrame,
    area: Boundary | None,
    folder: Path,
    source: str,
) -> str:
    """The commented YAML config (checked against the schema before it is written)."""
    sizes = pd.to_numeric(practices["list_size"])
    dates = sorted(set(practices.get("list_size_date", pd.Series(dtype=str)).dropna()))
    oversize = practices.loc[sizes > MAX_LIST_SIZE, "practice_code"].astype(str)
    text = _TEMPLATE.format(
        slug=selection.slug,
        area=_area_name(selection, practices),
        plural="" if len(practices) == 1 else "s",
        count=len(practices),
        patients=int(sizes.sum()),
        dates=", ".join(dates) or "an unknown date",
        asked=" ".join(
            f"--{level.replace('_', '-')} {code}" for level, _, _, code in selection.codes()
        ),
        source=source,
        config=folder / "pcn.yaml",
        name=f"{selection.slug}_pcn",
        min_list_size=MIN_LIST_SIZE,
        max_list_size=MAX_LIST_SIZE,
        oversize=", ".join(oversize) or "none",
        max_minutes=MAX_MINUTES,
        example=str(practices["practice_code"].iloc[0]),
        nest="#   nest_by: sub_icb_code         # keep each network within one sub-ICB\n"
        if selection.icb
        else "",
        geography=_geography(area),
    )
    text = _align(text)
    Config.model_validate(yaml.safe_load(text))  # our own template: must always be valid
    return text


#: The column at which the config's comments start.
_COMMENT_COLUMN = 34


def _align(text: str) -> str:
    """Start every trailing comment at one column, so the config reads as a table."""
    lines = []
    for line in text.splitlines():
        cut = line.rfind("  # ", 2)
        left = line[:cut].rstrip() if cut > 0 else ""
        if left.strip():
            line = f"{left:<{_COMMENT_COLUMN - 1}} {line[cut:].lstrip()}"
        lines.append(line)
    return "\n".join(lines) + "\n"


#: Columns of the practices table whose codes NHS Digital's mapping names.
_NAMED_COLUMNS = {
    "sub_icb_code": ("SUB_ICB_LOCATION_CODE", "SUB_ICB_LOCATION_NAME"),
    "icb_code": ("ICB_CODE", "ICB_NAME"),
    "pcn_code": ("PCN_CODE", "PCN_NAME"),
}


def area_names(column: str) -> dict[str, str]:
    """Names of the sub-ICBs, ICBs or PCNs (by the practices table's column) in the shipped
    NHS mapping; empty for any other column, or when the mapping is not shipped."""
    if column not in _NAMED_COLUMNS or not MAPPING.is_file():
        return {}
    code, name = _NAMED_COLUMNS[column]
    mapping = pd.read_csv(MAPPING, dtype=str, usecols=[code, name]).dropna()
    return dict(zip(mapping[code], mapping[name], strict=True))


def _area_name(selection: Selection, practices: pd.DataFrame) -> str:
    """The area's codes with the names NHS Digital gives them, where it has one."""
    names = area_names("sub_icb_code") | area_names("icb_code")
    if "pcn_name" in practices.columns:
        names |= dict(
            zip(practices["pcn_code"].astype(str), practices["pcn_name"].astype(str), strict=True)
        )
    parts = [
        f"{code} ({names[code]})" if code in names else code for *_, code in selection.codes()
    ]
    return ", ".join(parts[:3]) + (f" and {len(parts) - 3} more" if len(parts) > 3 else "")


def _geography(area: Boundary | None) -> str:
    if area is None:
        return (
            "geography:                       # no boundary of its own: the catchments fill\n"
            "  catchments: voronoi            # the practices' convex hull plus 2 km\n"
            "  # boundary: my_area.geojson    # or name a layer, its field and values\n"
        )
    note = "".join(f"  # {line}\n" for line in _wrap(f"from {area.path.name}: {area.note}"))
    return (
        "geography:                       # the study area, for catchments and maps\n"
        f"  boundary: {BOUNDARY_FILE}        # the area's own features, beside this config\n"
        f"  boundary_field: {area.field}\n"
        f"  boundary_values: [{', '.join(area.values)}]\n"
        f"{note}"
        "  catchments: voronoi            # or lsoa, with the area's LSOA layer (lsoa: ...)\n"
    )


def _wrap(text: str, width: int = 86) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


#: What init writes: a config's text, a table, or the boundary's features.
_Content: TypeAlias = str | pd.DataFrame | gpd.GeoDataFrame


def _write(folder: Path, files: list[tuple[Path, _Content]]) -> None:
    """Write every file under a temporary name, then rename them all into place."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{folder}: cannot create the folder ({exc.strerror})") from None
    staged = [(path.with_name(f".{path.name}.{os.getpid()}.tmp"), path) for path, _ in files]
    try:
        for (temp, _), (_, content) in zip(staged, files, strict=True):
            if isinstance(content, str):
                temp.write_text(content, encoding="utf-8")
            elif isinstance(content, gpd.GeoDataFrame):
                content.to_file(temp, driver="GeoJSON")
            else:
                content.to_csv(temp, index=False)
        for temp, path in staged:
            os.replace(temp, path)
    except OSError as exc:
        raise InputError(f"{folder}: cannot write ({exc.strerror})") from None
    except pyogrio.errors.DataSourceError as exc:  # the GeoJSON writer's own failure
        reason = next(iter(str(exc).splitlines()), "")
        raise InputError(f"{folder}: cannot write {BOUNDARY_FILE} ({reason})") from None
    finally:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
