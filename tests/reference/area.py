"""A config and its tables, read into plain Python values (no mergeopt code).

Only the part of the config language the property tests draw is read: a practices CSV
with the default column names (locations as easting/northing), an optional premises CSV,
the road, straight-line or matrix travel models and every rule of README.md's config
reference. Anything else raises :class:`NotImplementedError`, so a test that starts
drawing a new kind of config fails loudly here instead of being checked against a
reference that ignores it.

The definitions, from README.md ("Config reference", "Travel model", "The practices
table") and the design notes:

- travel: ``road`` is ``8.33 + 1.164 * km`` minutes between two sites and 0 for one site
  (km: straight line between easting/northing); ``straight_line`` is the km itself;
  ``matrix`` is the CSV's minutes from origin to destination, a missing pair being
  unreachable and a practice 0 from itself. ``max_minutes`` limits the travel (road or
  matrix) and ``max_km`` the straight-line km, whatever the model;
- a current group of ``U`` (NHS Digital's "unallocated") or empty is no group;
- ``hub_eligibility`` is ``must``, ``may`` (the default, and an empty cell) or ``never``;
- premises: ``capacity`` is the column's patients; ``floor_area`` is floor area divided
  by ``m2_per_patient``, compared exactly (a group of *s* patients fits when
  ``s * m2_per_patient <= floor area``); an empty cell is no limit.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

#: The road model of README.md: minutes = 8.33 + 1.164 x km between two sites.
ROAD_INTERCEPT, ROAD_PER_KM = 8.33, 1.164
#: Current-group values that mean "in no group".
NO_GROUP = ("", "U")

_SUPPORTED = {
    "": {
        "name",
        "description",
        "inputs",
        "groups",
        "travel",
        "premises",
        "rules",
        "geography",
        "maps",
        "objective",
        "solver",
    },
    "inputs": {"practices", "premises", "location"},
    "groups": {"min_list_size", "max_list_size", "count", "oversize"},
    "travel": {"model", "matrix", "max_minutes", "max_km"},
    "premises": {"rule", "m2_per_patient"},
    "rules": {"fixed", "forced_hubs", "forbidden_hubs", "must_link", "cannot_link", "nest_by"},
    "geography": {"contiguous"},
    "objective": {"travel", "weight_by_list_size", "moved_patients", "groups", "max_travel"},
    "solver": {"name", "time_limit", "gap", "threads", "log"},
}


@dataclass(frozen=True)
class Weights:
    """The objective's weights (README.md, ``objective``)."""

    travel: float = 1.0
    by_size: bool = True
    moved: float = 0.0
    groups: float = 0.0
    max_travel: float = 0.0


@dataclass(frozen=True)
class Area:
    """Practices, travel and rules of one config, keyed by practice code."""

    codes: tuple[str, ...]
    size: dict[str, int]
    #: travel from a practice to a hub, for reachable pairs only (a practice to itself: 0)
    travel: dict[tuple[str, str], float]
    km: dict[tuple[str, str], float]
    region: dict[str, str | None]
    current: dict[str, str | None]
    eligibility: dict[str, str]
    #: patients a practice's premises can serve as a hub; None: no premises limit
    capacity: dict[str, Fraction | None]
    min_size: int
    max_size: int | None
    oversize_alone: bool
    count_min: int | None
    count_max: int | None
    max_minutes: float | None
    max_km: float | None
    straight_line: bool
    fixed: tuple[tuple[str, str], ...]
    forced: frozenset[str]
    forbidden: frozenset[str]
    must_link: tuple[tuple[str, str], ...]
    cannot_link: tuple[tuple[str, str], ...]
    nested: bool
    weights: Weights

    def oversize(self, code: str) -> bool:
        """Above the maximum list size on its own."""
        return self.max_size is not None and self.size[code] > self.max_size

    def alone(self, code: str) -> bool:
        """An oversize practice that forms a group of its own (``oversize: alone``)."""
        return self.oversize_alone and self.oversize(code)

    def must_host(self, code: str) -> bool:
        """Must be a hub: eligibility ``must``, a forced hub, a takeover's hub, or an
        oversize practice that forms its own group."""
        return (
            self.eligibility[code] == "must"
            or code in self.forced
            or any(hub == code for _, hub in self.fixed)
            or self.alone(code)
        )

    def may_host(self, code: str) -> bool:
        """May be a hub at all, premises aside.

        A forbidden hub never hosts. ``never`` in the eligibility column stops a practice
        hosting unless a rule of the config requires it as a hub (forced, a takeover's
        hub, or oversize and alone): the config's explicit rule wins over the column's
        default (mergeopt's reading of README.md, which does not say).
        """
        if code in self.forbidden:
            return False
        return self.eligibility[code] != "never" or self.must_host(code)

    def reaches(self, member: str, hub: str) -> bool:
        """Whether ``member`` may belong to ``hub``'s group: travel known and within the
        limits, and the same nesting region. A practice always reaches itself."""
        if member == hub:
            return True
        if (member, hub) not in self.travel:
            return False
        travel = self.travel[(member, hub)]
        if self.max_minutes is not None and not self.straight_line and travel > self.max_minutes:
            return False
        if self.max_km is not None and self.km[(member, hub)] > self.max_km:
            return False
        return not (self.nested and self.region[member] != self.region[hub])

    def moves(self, member: str, hub: str) -> bool:
        """README.md: a practice moves when the hub of its new group is not in its current
        group. A practice in no group never moves."""
        group = self.current[member]
        return group is not None and self.current[hub] != group


def read_area(config_path: Path) -> Area:
    """Read a config and the tables it names into an :class:`Area`."""
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    _check_supported(config)
    base = config_path.parent
    inputs = config["inputs"]
    rows = _read_csv(base / inputs["practices"])
    if inputs.get("premises"):
        rows = _join(rows, _read_csv(base / inputs["premises"]))
    if inputs.get("location", "auto") not in ("auto", "bng"):
        raise NotImplementedError("only easting/northing locations")
    codes = tuple(_code(row["practice_code"]) for row in rows)
    by_code = dict(zip(codes, rows, strict=True))
    groups = config.get("groups") or {}
    travel_cfg = config.get("travel") or {}
    rules = config.get("rules") or {}
    premises = config.get("premises") or {}
    if (config.get("geography") or {}).get("contiguous"):
        raise NotImplementedError("contiguity is not part of the reference")
    km = _km(codes, by_code)
    model = travel_cfg.get("model", "road")
    travel = _travel(model, codes, km, base / str(travel_cfg.get("matrix", "")))
    count = groups.get("count")
    count_min, count_max = (count, count) if isinstance(count, int) else (None, None)
    if isinstance(count, dict):
        count_min, count_max = count.get("min"), count.get("max")
    nest_by = rules.get("nest_by")
    objective = config.get("objective") or {}
    return Area(
        codes=codes,
        size={code: int(_number(by_code[code]["list_size"])) for code in codes},
        travel=travel,
        km=km,
        region={code: by_code[code].get(nest_by) if nest_by else None for code in codes},
        current={code: _group(by_code[code].get("pcn_code")) for code in codes},
        eligibility={
            code: (by_code[code].get("hub_eligibility") or "may").strip().lower() for code in codes
        },
        capacity={code: _capacity(premises, by_code[code]) for code in codes},
        min_size=int(groups.get("min_list_size", 0)),
        max_size=groups.get("max_list_size"),
        oversize_alone=groups.get("oversize", "stop") == "alone",
        count_min=count_min,
        count_max=count_max,
        max_minutes=travel_cfg.get("max_minutes"),
        max_km=travel_cfg.get("max_km"),
        straight_line=model == "straight_line",
        fixed=tuple(
            (_code(member), _code(group["hub"]))
            for group in rules.get("fixed", [])
            for member in group["practices"]
        ),
        forced=frozenset(_code(c) for c in rules.get("forced_hubs", [])),
        forbidden=frozenset(_code(c) for c in rules.get("forbidden_hubs", [])),
        must_link=tuple((_code(a), _code(b)) for a, b in rules.get("must_link", [])),
        cannot_link=tuple((_code(a), _code(b)) for a, b in rules.get("cannot_link", [])),
        nested=nest_by is not None,
        weights=Weights(
            travel=float(objective.get("travel", 1.0)),
            by_size=bool(objective.get("weight_by_list_size", True)),
            moved=float(objective.get("moved_patients", 0.0)),
            groups=float(objective.get("groups", 0.0)),
            max_travel=float(objective.get("max_travel", 0.0)),
        ),
    )


def _check_supported(config: dict[str, Any]) -> None:
    for key, value in config.items():
        if key not in _SUPPORTED[""]:
            raise NotImplementedError(f"config key '{key}'")
        if isinstance(value, dict):
            unknown = set(value) - _SUPPORTED.get(key, set())
            if unknown:
                raise NotImplementedError(f"config keys {sorted(unknown)} in '{key}'")


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


def _join(practices: list[dict[str, str]], premises: list[dict[str, str]]) -> list[dict[str, str]]:
    """Premises columns joined onto the practices on the practice code."""
    extra = {_code(row["practice_code"]): row for row in premises}
    return [row | extra.get(_code(row["practice_code"]), {}) for row in practices]


def _code(text: str) -> str:
    return str(text).strip().upper()


def _number(text: str) -> Fraction:
    """A number as written (thousands separators allowed), exactly."""
    return Fraction(text.replace(",", ""))


def _group(text: str | None) -> str | None:
    return None if text is None or text.strip() in NO_GROUP else text.strip()


def _capacity(premises: dict[str, Any], row: dict[str, str]) -> Fraction | None:
    rule = premises.get("rule", "none")
    if rule == "none":
        return None
    text = row.get("premises_capacity" if rule == "capacity" else "floor_area_m2") or ""
    if not text:
        return None
    if rule == "capacity":
        return _number(text)
    # m2_per_patient as written in the YAML (its shortest decimal form), exactly
    return _number(text) / Fraction(str(premises["m2_per_patient"]))


def _km(codes: tuple[str, ...], rows: dict[str, dict[str, str]]) -> dict[tuple[str, str], float]:
    where = {c: (float(rows[c]["easting"]), float(rows[c]["northing"])) for c in codes}
    return {
        (a, b): math.hypot(where[a][0] - where[b][0], where[a][1] - where[b][1]) / 1000.0
        for a in codes
        for b in codes
    }


def _travel(
    model: str, codes: tuple[str, ...], km: dict[tuple[str, str], float], matrix: Path
) -> dict[tuple[str, str], float]:
    if model == "straight_line":
        return dict(km)
    if model == "road":
        return {
            pair: 0.0 if distance == 0 else ROAD_INTERCEPT + ROAD_PER_KM * distance
            for pair, distance in km.items()
        }
    if model != "matrix":
        raise NotImplementedError(f"travel model '{model}'")
    travel = {(code, code): 0.0 for code in codes}
    for row in _read_csv(matrix):
        origin, destination = row["origin"].strip(), row["destination"].strip()
        if origin != destination:
            travel[(origin, destination)] = float(row["minutes"])
    return travel
