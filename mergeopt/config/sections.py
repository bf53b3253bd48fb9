"""The sections of a config (``inputs``, ``groups``, ``travel``, ``premises``,
``geography``, ``federations``, ``rules``, ``objective``, ``solver``), each a strict
pydantic model with its own checks, and the value types they share."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from mergeopt._errors import printable


def _printable(text: str) -> str:
    """A code as a config gives it: no control characters (a NUL would cut it short)."""
    if not text.isprintable():
        raise ValueError(f"'{printable(text)}' holds a control character")
    return text


Code = Annotated[str, Field(min_length=1), AfterValidator(_printable)]


def _number(value: object) -> object:
    """A number as YAML gives it; true or false is not one (Python would take it as 1 or 0)."""
    if isinstance(value, bool):
        raise ValueError(f"{str(value).lower()} is not a number")
    return value


#: Numbers of a config: never a boolean (``max_minutes: true`` is not 1 minute).
Int = Annotated[int, BeforeValidator(_number)]


Float = Annotated[float, BeforeValidator(_number)]


#: The longest config name: it names the run directory, with room for ``-sweep``.
NAME_LENGTH = 100


NAME_PATTERN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_.-]{{0,{NAME_LENGTH - 1}}}")


class Strict(BaseModel):
    # no infinite or NaN numbers: nothing in a config means them, and run.json (strict
    # JSON) could not hold them, so such a run could not be opened again
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Columns(Strict):
    """Column names in the practices (and premises) tables, if not the defaults."""

    code: str = "practice_code"
    name: str = "practice_name"
    list_size: str = "list_size"
    lat: str = "lat"
    long: str = "long"
    easting: str = "easting"
    northing: str = "northing"
    current_group: str | None = "pcn_code"
    #: the current network's name, shown on maps beside its code (optional)
    current_group_name: str | None = "pcn_name"
    capacity: str = "premises_capacity"
    floor_area: str = "floor_area_m2"
    hub_eligibility: str = "hub_eligibility"
    list_size_date: str = "list_size_date"


class NhsFiles(Strict):
    """NHS Digital's files as downloaded, from which the practices table is built on the
    fly (as ``mergeopt prepare`` builds it), and the area to select from them."""

    list_sizes: Path
    postcodes: Path
    mapping: Path | None = None
    epraccur: Path | None = None
    epcn_partners: Path | None = None
    epcn_details: Path | None = None
    icb: list[str] = []
    sub_icb: list[str] = []
    pcn: list[str] = []
    practices: list[str] = []

    def files(self) -> dict[str, Path]:
        """The files named, by key."""
        named = {
            "list_sizes": self.list_sizes,
            "postcodes": self.postcodes,
            "mapping": self.mapping,
            "epraccur": self.epraccur,
            "epcn_partners": self.epcn_partners,
            "epcn_details": self.epcn_details,
        }
        return {key: path for key, path in named.items() if path is not None}


class Inputs(Strict):
    """Where the practices are and how their columns are named.

    The practices come from a prepared table (``practices``) or straight from NHS
    Digital's files (``nhs``): exactly one of the two. ``select`` keeps only the
    practices whose column holds one of the listed values, e.g. ``{icb_code: [QOQ]}``:
    one region of a national table (``mergeopt sweep --split-by`` makes one such
    scenario per value).
    """

    practices: Path | None = None
    nhs: NhsFiles | None = None
    premises: Path | None = None
    columns: Columns = Columns()
    location: Literal["auto", "latlong", "bng", "geometry"] = "auto"
    select: dict[str, Annotated[list[str], Field(min_length=1)]] = {}

    @model_validator(mode="after")
    def _one_source(self) -> Inputs:
        if (self.practices is None) == (self.nhs is None):
            raise ValueError(
                "give either practices (a practices table) or nhs (NHS Digital's files)"
            )
        return self

    @property
    def source(self) -> Path:
        """The file practices are read from: the table, or the NHS list-size file."""
        if self.practices is not None:
            return self.practices
        assert self.nhs is not None  # the validator guarantees one of the two
        return self.nhs.list_sizes

    def files(self) -> dict[str, Path]:
        """Every input file of this section, keyed by its config key."""
        found = {"inputs.practices": self.practices, "inputs.premises": self.premises}
        if self.nhs is not None:
            found |= {f"inputs.nhs.{key}": path for key, path in self.nhs.files().items()}
        return {key: path for key, path in found.items() if path is not None}


class CountRange(Strict):
    min: Int | None = Field(default=None, ge=1)
    max: Int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> CountRange:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


def _check_window(low: int, high: int | None, count: int | CountRange | None) -> None:
    """Raise ValueError unless ``low <= high`` and a fixed count is at least 1."""
    if high is not None and low > high:
        raise ValueError(f"min_list_size ({low:,}) is above max_list_size ({high:,})")
    if isinstance(count, int) and count < 1:
        raise ValueError(f"count must be at least 1, not {count}")


def _count_range(count: int | CountRange | None) -> tuple[int | None, int | None]:
    """A count as (min, max), None where open."""
    if count is None:
        return None, None
    if isinstance(count, int):
        return count, count
    return count.min, count.max


class Groups(Strict):
    """List-size bounds and the number of groups.

    ``remote`` says what becomes of a practice that can reach no group (such as an
    island's): ``stop`` (the default: the rules cannot be met), ``alone`` (every practice
    that can reach no group of the minimum list size within the travel limit, counted
    before the solve, stands alone) or a list of the practice codes that stand alone. A
    practice standing alone is a group of its own, below the minimum list size if need be.
    """

    min_list_size: Int = Field(default=0, ge=0)
    max_list_size: Int | None = Field(default=None, gt=0)
    count: Int | CountRange | None = None
    oversize: Literal["stop", "alone"] = "stop"
    remote: Literal["stop", "alone"] | list[Code] = "stop"

    @property
    def remote_practices(self) -> list[str]:
        """The practices ``remote`` names (none for ``stop`` or ``alone``)."""
        return list(self.remote) if isinstance(self.remote, list) else []

    @model_validator(mode="after")
    def _ordered(self) -> Groups:
        _check_window(self.min_list_size, self.max_list_size, self.count)
        return self

    @property
    def count_range(self) -> tuple[int | None, int | None]:
        """The group count as (min, max), None where open."""
        return _count_range(self.count)


class RoadProfile(Strict):
    """Changes to the road network's speed profile (``travel.model: network``); a key left
    out keeps its documented default (docs/travel_model.md)."""

    speeds_kmh: dict[str, Annotated[Float, Field(gt=0)]] = {}
    maxspeed_factor: Float | None = Field(default=None, gt=0)
    offroad_kmh: Float | None = Field(default=None, gt=0)
    trip_minutes: Float | None = Field(default=None, ge=0)
    max_offroad_m: Float | None = Field(default=None, gt=0)

    def changes(self) -> dict[str, Any]:
        """The keys given, as keyword arguments of the speed profile."""
        given = self.model_dump(exclude_defaults=True)
        return {key: value for key, value in given.items() if value is not None}


class Travel(Strict):
    """How travel to a hub is measured and how far it may be."""

    model: Literal["road", "straight_line", "matrix", "network"] = "road"
    matrix: Path | None = None
    network: Path | None = None
    profile: RoadProfile = RoadProfile()
    cache_dir: Path | None = None
    max_minutes: Float | None = Field(default=None, gt=0)
    max_km: Float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> Travel:
        if self.model == "matrix" and self.matrix is None:
            raise ValueError("model 'matrix' needs a 'matrix' file")
        if self.model != "matrix" and self.matrix is not None:
            raise ValueError("a 'matrix' file is only read with model: matrix")
        if self.model == "network" and self.network is None:
            raise ValueError(
                "model 'network' needs a 'network' file (an OpenStreetMap .osm.pbf extract "
                "or an OS Open Roads .gpkg)"
            )
        if self.model != "network" and self.network is not None:
            raise ValueError("a 'network' file is only read with model: network")
        if self.model != "network" and self.profile != RoadProfile():
            raise ValueError("a speed 'profile' only applies with model: network")
        if self.model == "straight_line" and self.max_minutes is not None:
            raise ValueError("straight_line travel is in km: use max_km, not max_minutes")
        return self

    @property
    def unit(self) -> str:
        """The unit of travel costs: 'km' for straight lines, else 'minutes'."""
        return "km" if self.model == "straight_line" else "minutes"

    def files(self) -> dict[str, Path]:
        """Every input file of this section, keyed by its config key."""
        found = {"travel.matrix": self.matrix, "travel.network": self.network}
        return {key: path for key, path in found.items() if path is not None}


class Premises(Strict):
    """Whether a hub's building must be able to serve its whole group."""

    rule: Literal["none", "capacity", "floor_area"] = "none"
    m2_per_patient: Float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> Premises:
        if self.rule == "floor_area" and self.m2_per_patient is None:
            raise ValueError("rule 'floor_area' needs m2_per_patient")
        return self


class Geography(Strict):
    """The study area and how practice catchments are drawn (for maps and contiguity)."""

    boundary: Path | None = None
    boundary_field: str | None = None
    boundary_values: list[str] = []
    catchments: Literal["voronoi", "lsoa"] = "voronoi"
    lsoa: Path | None = None
    contiguous: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Geography:
        if self.catchments == "lsoa" and self.lsoa is None:
            raise ValueError("catchments 'lsoa' needs an 'lsoa' boundary file")
        if self.boundary_values and self.boundary_field is None:
            raise ValueError("boundary_values needs boundary_field (the column to match)")
        if self.contiguous and self.boundary is None and self.lsoa is None:
            raise ValueError("contiguous groups need a boundary or lsoa file for catchments")
        return self


class FederationPremises(Strict):
    """Whether a federation hub's premises must be able to serve its whole federation
    (space for community specialists and shared staff), as ``premises`` is for networks.

    ``capacity``: patients the premises can serve as a federation hub, in the column
    ``capacity_column`` (of the practices or premises table); ``floor_area``: the floor
    area column (``inputs.columns.floor_area``) divided by ``m2_per_patient``.
    """

    rule: Literal["none", "capacity", "floor_area"] = "none"
    m2_per_patient: Float | None = Field(default=None, gt=0)
    capacity_column: str = "federation_capacity"

    @model_validator(mode="after")
    def _consistent(self) -> FederationPremises:
        if self.rule == "floor_area" and self.m2_per_patient is None:
            raise ValueError("rule 'floor_area' needs m2_per_patient")
        return self


class Federations(Strict):
    """The second level: networks grouped whole into federations (primary care homes).

    ``mode``: ``today`` groups today's networks (the current-group column), ``proposed``
    solves the networks first and then groups them, ``joint`` chooses both levels in one
    model. Travel limits run from each network's hub to its federation's hub; a
    federation hub is the hub of one of its networks. ``nest_by`` names a column whose
    values no federation (and so no network) may cross. ``hub_column`` names an optional
    column saying which practices may host a federation hub (``must``, ``may`` or
    ``never``; empty is ``may``).
    """

    mode: Literal["today", "proposed", "joint"] = "joint"
    min_list_size: Int = Field(default=0, ge=0)
    max_list_size: Int | None = Field(default=None, gt=0)
    count: Int | CountRange | None = None
    max_minutes: Float | None = Field(default=None, gt=0)
    max_km: Float | None = Field(default=None, gt=0)
    nest_by: str | None = None
    premises: FederationPremises = FederationPremises()
    hub_column: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Federations:
        _check_window(self.min_list_size, self.max_list_size, self.count)
        return self

    @property
    def count_range(self) -> tuple[int | None, int | None]:
        """The federation count as (min, max), None where open."""
        return _count_range(self.count)


class FixedGroup(Strict):
    """A takeover: these practices must join the group whose hub is `hub`."""

    hub: Code
    practices: list[Code] = Field(min_length=1)


class Rules(Strict):
    """Fixed assignments, forced and forbidden hubs, links and nesting."""

    fixed: list[FixedGroup] = []
    forced_hubs: list[Code] = []
    forbidden_hubs: list[Code] = []
    must_link: list[tuple[Code, Code]] = []
    cannot_link: list[tuple[Code, Code]] = []
    nest_by: str | None = None

    @field_validator("must_link", "cannot_link")
    @classmethod
    def _two_practices(cls, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        # a practice linked with itself says nothing (and once crashed the solver)
        for first, second in pairs:
            if first == second:
                raise ValueError(
                    f"links practice {printable(first)} with itself: a link joins two practices"
                )
        return pairs


class Objective(Strict):
    """Weights of the objective terms (all minimised)."""

    travel: Float = Field(default=1.0, ge=0)
    weight_by_list_size: bool = True
    moved_patients: Float = Field(default=0.0, ge=0)
    groups: Float = Field(default=0.0, ge=0)
    max_travel: Float = Field(default=0.0, ge=0)
    federation_travel: Float = Field(default=1.0, ge=0)
    federations: Float = Field(default=0.0, ge=0)


class Solver(Strict):
    """Which MIP solver to use and when to stop."""

    name: Literal["highs", "cbc"] = "highs"
    time_limit: Float = Field(default=300.0, gt=0)
    gap: Float = Field(default=1e-6, ge=0, lt=1)
    threads: Int | None = Field(default=None, ge=1)
    log: bool = False
    seed: Int = Field(default=0, ge=0)
