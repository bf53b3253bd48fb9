"""Small areas with every rule kind, mostly feasible by construction (hypothesis).

:func:`areas` draws a hidden grouping first (groups, hubs, sites and list sizes), then
derives every rule around it so that the hidden grouping meets them all: list-size
bounds around its groups' sizes, the group count around its count, travel limits just
above its longest trip, premises that serve its hubs, takeovers, forced hubs and
must-links inside its groups, forbidden hubs and cannot-links outside them, nesting
regions that hold whole groups, and an oversize practice alone in its group. The optimum
may be another grouping; the hidden one only proves that one exists.

A share of the draws is then *perturbed*: one rule is tightened past the hidden grouping
(a bound, the count, the travel limit, a link, a forbidden hub, ``oversize: stop``), so
the outcome is open and the infeasible path is exercised too. ``perturbed`` names it.

:func:`write_area` writes a drawn area as a config and CSV tables.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from random import Random
from typing import Any

import yaml
from hypothesis import strategies as st

from tests.reference.area import ROAD_INTERCEPT, ROAD_PER_KM

PERTURBATIONS = ("min", "max", "count", "travel", "link", "forbid_hub", "oversize_stop")


@dataclass
class DrawnArea:
    """A config (as YAML data) and its tables (as CSV rows), with how they were drawn."""

    config: dict[str, Any]
    practices: list[dict[str, str]]
    premises: list[dict[str, str]] | None
    matrix: list[dict[str, str]] | None
    #: a grouping meeting every rule as first drawn (practice -> hub)
    hidden: dict[str, str]
    #: the rule tightened past the hidden grouping, if any
    perturbed: str | None
    #: the rule kinds this config uses
    kinds: set[str] = field(default_factory=set)

    @property
    def n(self) -> int:
        return len(self.practices)


def write_area(area: DrawnArea, folder: Path) -> Path:
    """Write the config and its tables into ``folder``; return the config's path."""
    _write_csv(folder / "practices.csv", area.practices)
    if area.premises is not None:
        _write_csv(folder / "premises.csv", area.premises)
    if area.matrix is not None:
        _write_csv(folder / "matrix.csv", area.matrix)
    path = folder / "area.yaml"
    path.write_text(yaml.safe_dump(area.config, sort_keys=False), encoding="utf-8")
    return path


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@dataclass
class _Hidden:
    """The hidden grouping and the practices' sites and sizes."""

    codes: list[str]
    group: list[int]  # hidden group of each practice
    hubs: list[int]  # hub (practice position) of each hidden group
    xy: list[tuple[int, int]]
    size: list[int]
    oversize: int | None  # the practice alone in its group, above the maximum

    def hub_of(self, i: int) -> int:
        return self.hubs[self.group[i]]

    def members(self, g: int) -> list[int]:
        return [i for i, h in enumerate(self.group) if h == g]

    def load(self, g: int) -> int:
        return sum(self.size[i] for i in self.members(g))

    def ordinary(self) -> list[int]:
        """Hidden groups other than the oversize practice's."""
        skip = None if self.oversize is None else self.group[self.oversize]
        return [g for g in range(len(self.hubs)) if g != skip]


@st.composite
def areas(
    draw: st.DrawFn,
    *,
    min_practices: int = 6,
    max_practices: int = 12,
    perturb: bool = True,
    dear_groups: bool = False,
) -> DrawnArea:
    """A drawn area: see the module docstring. ``dear_groups``: each group costs 5,000,000
    (more than any travel) and there are at least as many as the hidden grouping has, so
    the minimum group count is what holds the optimum's count up; with a maximum list
    size, so that the MIP decides."""
    rng = draw(st.randoms(use_true_random=False))
    hidden = _draw_hidden(draw, rng, min_practices, max_practices)
    kinds: set[str] = set()
    # about a fifth of the draws, every way (hypothesis leans to the first choices, so
    # each way sits among four None)
    ways = [way for kind in PERTURBATIONS for way in (None, None, None, None, kind)]
    perturbed = draw(st.sampled_from(ways)) if perturb else None
    model = draw(st.sampled_from(["road", "straight_line", "matrix"]))
    travel = _travel(hidden, model)
    config: dict[str, Any] = {
        "name": "drawn",
        "inputs": {"practices": "practices.csv"},
        "groups": _groups(draw, hidden, kinds, perturbed),
        "travel": {"model": model},
        "premises": {"rule": "none"},
        "rules": {},
        "maps": False,
        "objective": _objective(draw, kinds),
        "solver": {"time_limit": 60},
    }
    matrix = None
    if model == "matrix":
        kinds.add("matrix")
        config["travel"]["matrix"] = "matrix.csv"
        travel, matrix = _matrix(rng, hidden, travel)
    elif model == "straight_line":
        kinds.add("straight_line")
    config["travel"] |= _limits(draw, hidden, travel, model, kinds, perturbed)
    if dear_groups:  # capacitated, so that the MIP decides (a p-median has its own search)
        config["objective"]["groups"] = 5_000_000.0
        config["groups"]["count"] = {"min": len(hidden.hubs)}
        loads = [hidden.load(g) for g in hidden.ordinary()]
        config["groups"].setdefault(
            "max_list_size", max(loads) + draw(st.sampled_from([0, 3_000]))
        )
        kinds.update({"group_weight", "count", "max_list_size"})
    rows = [
        {
            "practice_code": code,
            "practice_name": f"Practice {code}",
            "list_size": _list_size(draw, hidden.size[i]),
            "easting": str(hidden.xy[i][0]),
            "northing": str(hidden.xy[i][1]),
        }
        for i, code in enumerate(hidden.codes)
    ]
    _current_groups(draw, rng, hidden, rows, kinds)
    _eligibility(draw, rng, hidden, rows, kinds)
    premises = _premises(draw, rng, hidden, rows, config, kinds)
    config["rules"] = _rules(draw, hidden, rows, kinds, perturbed)
    if premises is not None:
        config["inputs"]["premises"] = "premises.csv"
    hub_of = {code: hidden.codes[hidden.hub_of(i)] for i, code in enumerate(hidden.codes)}
    return DrawnArea(config, rows, premises, matrix, hub_of, perturbed, kinds)


def _draw_hidden(draw: st.DrawFn, rng: Random, low: int, high: int) -> _Hidden:
    n = draw(st.integers(low, high))
    oversize = draw(st.sampled_from([False, False, False, True]))
    ordinary = n - 1 if oversize else n
    count = draw(st.integers(1, max(1, min(4, ordinary // 2))))
    labels = list(range(count)) + [rng.randrange(count) for _ in range(ordinary - count)]
    rng.shuffle(labels)
    if oversize:
        labels.insert(rng.randrange(n), count)
        count += 1
    hubs = [rng.choice([i for i, g in enumerate(labels) if g == k]) for k in range(count)]
    centres = [(440_000 + rng.randrange(25_000), 420_000 + rng.randrange(25_000)) for _ in hubs]
    spread = draw(st.sampled_from([1_500, 4_000, 8_000]))
    xy = [
        (
            centres[g][0] + rng.randrange(-spread, spread),
            centres[g][1] + rng.randrange(-spread, spread),
        )
        for g in labels
    ]
    if draw(st.booleans()):  # two practices in one building: 0 km, 0 minutes
        a, b = rng.sample(range(n), 2)
        xy[a] = xy[b]
    size = [rng.randrange(1_500, 15_000) for _ in range(n)]
    codes = [f"{rng.choice('ABCLMY')}{81_000 + k}" for k in range(n)]
    found = _Hidden(codes, labels, hubs, xy, size, labels.index(count - 1) if oversize else None)
    return found


def _km(hidden: _Hidden, i: int, j: int) -> float:
    (ax, ay), (bx, by) = hidden.xy[i], hidden.xy[j]
    return math.hypot(ax - bx, ay - by) / 1000.0


def _travel(hidden: _Hidden, model: str) -> list[list[float]]:
    n = len(hidden.codes)
    km = [[_km(hidden, i, j) for j in range(n)] for i in range(n)]
    if model == "straight_line":
        return km
    return [[0.0 if d == 0 else ROAD_INTERCEPT + ROAD_PER_KM * d for d in row] for row in km]


def _matrix(
    rng: Random, hidden: _Hidden, road: list[list[float]]
) -> tuple[list[list[float]], list[dict[str, str]]]:
    """A user's matrix: the road minutes with noise (asymmetric), some pairs missing
    (never a hidden grouping's trip), a few diagonal rows (ignored)."""
    n = len(hidden.codes)
    missing = rng.choice([0.0, 0.1, 0.3])
    travel = [[math.inf] * n for _ in range(n)]
    rows = []
    for i in range(n):
        travel[i][i] = 0.0
        for j in range(n):
            if i == j:
                if rng.random() < 0.2:
                    rows.append(_matrix_row(hidden, i, j, "0"))
                continue
            if j != hidden.hub_of(i) and rng.random() < missing:
                continue
            minutes = round(road[i][j] * rng.uniform(0.8, 1.3), 2)
            travel[i][j] = float(f"{minutes:.2f}")
            rows.append(_matrix_row(hidden, i, j, f"{minutes:.2f}"))
    rng.shuffle(rows)
    return travel, rows


def _matrix_row(hidden: _Hidden, i: int, j: int, minutes: str) -> dict[str, str]:
    return {"origin": hidden.codes[i], "destination": hidden.codes[j], "minutes": minutes}


def _groups(
    draw: st.DrawFn, hidden: _Hidden, kinds: set[str], perturbed: str | None
) -> dict[str, Any]:
    loads = [hidden.load(g) for g in hidden.ordinary()]
    groups: dict[str, Any] = {}
    upper = None
    if hidden.oversize is not None or draw(st.booleans()):
        upper = max(loads) + draw(st.sampled_from([0, 0, 500, 3_000, 20_000]))
        if perturbed == "max":
            upper = max(1, max(loads) - draw(st.integers(1, 3_000)))
        groups["max_list_size"] = upper
        kinds.add("max_list_size")
    if hidden.oversize is not None:
        hidden.size[hidden.oversize] = max(upper or 0, *loads) + draw(st.integers(1, 5_000))
        groups["oversize"] = "stop" if perturbed == "oversize_stop" else "alone"
        kinds.add("oversize")
    if draw(st.booleans()) or perturbed == "min":
        lower = draw(st.sampled_from([min(loads), min(loads) // 2, min(loads) - 100]))
        if perturbed == "min":
            lower = min(loads) + draw(st.integers(1, 3_000))
        groups["min_list_size"] = max(0, min(lower, upper if upper is not None else lower))
        kinds.add("min_list_size")
    count = len(hidden.hubs)
    shape = draw(st.sampled_from(["none", "exact", "min", "max", "range"]))
    if perturbed == "count":
        groups["count"] = max(1, count + draw(st.sampled_from([-1, 1])))
    elif shape == "exact":
        groups["count"] = count
    elif shape != "none":
        low, high = max(1, count - draw(st.integers(0, 2))), count + draw(st.integers(0, 2))
        groups["count"] = {
            key: value
            for key, value in (("min", low), ("max", high))
            if key in shape or shape == "range"
        }
    if "count" in groups:
        kinds.add("count")
    return groups


def _limits(
    draw: st.DrawFn,
    hidden: _Hidden,
    travel: list[list[float]],
    model: str,
    kinds: set[str],
    perturbed: str | None,
) -> dict[str, float]:
    """Travel limits just above the hidden grouping's longest trip (or, perturbed, just
    below it), never within 1e-6 of any trip, so no rounding decides a trip."""
    n = len(hidden.codes)
    which = draw(st.sampled_from(["none", "minutes", "km", "both"]))
    if model == "straight_line" and which in ("minutes", "both"):
        which = "km"
    if perturbed == "travel" and which == "none":
        which = "km"
    km = [[_km(hidden, i, j) for j in range(n)] for i in range(n)]
    limits: dict[str, float] = {}
    for key, table in (("max_minutes", travel), ("max_km", km)):
        if which not in (key[4:], "both"):
            continue
        longest = max(table[i][hidden.hub_of(i)] for i in range(n))
        values = sorted({v for row in table for v in row if math.isfinite(v)})
        limit = round(longest + draw(st.sampled_from([1e-3, 1e-3, 0.5, 3.0])), 6)
        if perturbed == "travel":
            limit = round(longest - draw(st.sampled_from([1e-3, 0.5])), 6)
        while any(abs(v - limit) < 1e-6 for v in values):
            limit = round(limit + 1e-3, 6)
        if limit > 0:
            limits[key] = limit
            kinds.add(key)
    return limits


def _objective(draw: st.DrawFn, kinds: set[str]) -> dict[str, Any]:
    objective: dict[str, Any] = {
        "travel": draw(st.sampled_from([1.0, 1.0, 1.0, 0.5, 2.5])),
        "weight_by_list_size": draw(st.sampled_from([True, True, True, False])),
        "moved_patients": draw(st.sampled_from([0.0, 0.0, 1.0, 7.5])),
        "groups": draw(st.sampled_from([0.0, 0.0, 40.0, 60_000.0])),
        "max_travel": draw(st.sampled_from([0.0, 0.0, 25.0, 8_000.0])),
    }
    names = {"moved_patients": "moved_weight", "groups": "group_weight"}
    for key in ("moved_patients", "groups", "max_travel"):
        if objective[key]:
            kinds.add(names.get(key, f"{key}_weight"))
    if not objective["weight_by_list_size"]:
        kinds.add("practices_unweighted")
    return objective


def _list_size(draw: st.DrawFn, size: int) -> str:
    return f"{size:,}" if draw(st.sampled_from([False, False, False, True])) else str(size)


def _current_groups(
    draw: st.DrawFn, rng: Random, hidden: _Hidden, rows: list[dict[str, str]], kinds: set[str]
) -> None:
    """Today's networks: mostly the hidden groups, some practices elsewhere or in none."""
    if not draw(st.sampled_from([False, True, True])):
        return
    churn = draw(st.sampled_from([0.0, 0.3, 0.7]))
    labels = [f"U{90_000 + g}" for g in range(len(hidden.hubs) + 1)]
    for i, row in enumerate(rows):
        roll = rng.random()
        if roll < 0.1:
            row["pcn_code"] = rng.choice(["U", ""])
        elif roll < 0.1 + churn:
            row["pcn_code"] = rng.choice(labels)
        else:
            row["pcn_code"] = labels[hidden.group[i]]
    kinds.add("current_groups")


def _eligibility(
    draw: st.DrawFn, rng: Random, hidden: _Hidden, rows: list[dict[str, str]], kinds: set[str]
) -> None:
    if not draw(st.booleans()):
        return
    hubs = set(hidden.hubs)
    for i, row in enumerate(rows):
        if i == hidden.oversize:  # alone even if never: a group of its own
            row["hub_eligibility"] = rng.choice(["may", "never", "must"])
        elif i in hubs:
            row["hub_eligibility"] = rng.choice(["may", "must", "", "May"])
        else:
            row["hub_eligibility"] = rng.choice(["may", "never", "never", "", "Never"])
    kinds.add("hub_eligibility")


def _premises(
    draw: st.DrawFn,
    rng: Random,
    hidden: _Hidden,
    rows: list[dict[str, str]],
    config: dict[str, Any],
    kinds: set[str],
) -> list[dict[str, str]] | None:
    """Premises that serve the hidden hubs' groups (some exactly), others at random:
    some below the minimum or their own list size (they cannot host)."""
    rule = draw(st.sampled_from(["none", "capacity", "floor_area"]))
    if rule == "none":
        return None
    hubs = {h: g for g, h in enumerate(hidden.hubs)}
    biggest = max(hidden.load(g) for g in hidden.ordinary())
    capacity: list[int | None] = []
    for i in range(len(rows)):
        if i in hubs and i != hidden.oversize:
            capacity.append(hidden.load(hubs[i]) + rng.choice([0, 0, 1, 250, 5_000]))
        elif rows[i].get("hub_eligibility", "").lower() == "never" and rng.random() < 0.5:
            capacity.append(None)  # may be left empty where the practice may not host
        else:
            capacity.append(rng.randrange(0, 2 * biggest))
    m2 = draw(st.sampled_from([0.025, 0.07, 0.1, 0.03]))
    column = "premises_capacity" if rule == "capacity" else "floor_area_m2"
    values = [
        "" if c is None else str(c) if rule == "capacity" else str(Decimal(c) * Decimal(str(m2)))
        for c in capacity
    ]
    config["premises"] = {"rule": rule} | ({"m2_per_patient": m2} if rule == "floor_area" else {})
    kinds.add(f"premises_{rule}")
    if draw(st.booleans()):  # in the practices table
        for row, value in zip(rows, values, strict=True):
            row[column] = value
        return None
    kinds.add("premises_table")
    table = [
        {"practice_code": row["practice_code"], column: v}
        for row, v in zip(rows, values, strict=True)
    ]
    rng.shuffle(table)
    return table


def _rules(
    draw: st.DrawFn,
    hidden: _Hidden,
    rows: list[dict[str, str]],
    kinds: set[str],
    perturbed: str | None,
) -> dict[str, Any]:
    codes = hidden.codes
    n = len(codes)
    hubs = set(hidden.hubs)
    plain = [i for i in range(n) if i not in hubs]  # members that are not hubs
    rules: dict[str, Any] = {}
    taken = draw(st.lists(st.sampled_from(plain), unique=True, max_size=2)) if plain else []
    if taken:
        fixed: dict[str, list[str]] = {}
        for i in taken:
            fixed.setdefault(codes[hidden.hub_of(i)], []).append(codes[i])
        rules["fixed"] = [{"hub": hub, "practices": members} for hub, members in fixed.items()]
    forced = draw(st.lists(st.sampled_from(sorted(hubs)), unique=True, max_size=2))
    if forced:
        rules["forced_hubs"] = [codes[i] for i in forced]
    forbidden = draw(st.lists(st.sampled_from(plain), unique=True, max_size=2)) if plain else []
    if perturbed == "forbid_hub":
        forbidden.append(draw(st.sampled_from(sorted(hubs))))
    if forbidden:
        rules["forbidden_hubs"] = [codes[i] for i in forbidden]
    together = [
        (a, b) for a in range(n) for b in range(a + 1, n) if hidden.group[a] == hidden.group[b]
    ]
    apart = [
        (a, b) for a in range(n) for b in range(a + 1, n) if hidden.group[a] != hidden.group[b]
    ]
    must = draw(st.lists(st.sampled_from(together), unique=True, max_size=2)) if together else []
    cannot = draw(st.lists(st.sampled_from(apart), unique=True, max_size=2)) if apart else []
    if perturbed == "link" and together:
        cannot.append(draw(st.sampled_from(together)))
    if must:
        rules["must_link"] = [[codes[a], codes[b]] for a, b in must]
    if cannot:
        rules["cannot_link"] = [[codes[a], codes[b]] for a, b in cannot]
    if draw(st.booleans()):
        region = [draw(st.sampled_from(["QOQ", "QHM"])) for _ in hidden.hubs]
        for i, row in enumerate(rows):
            row["icb_code"] = region[hidden.group[i]]
        rules["nest_by"] = "icb_code"
    names = {"fixed": "fixed", "forced_hubs": "forced_hub", "forbidden_hubs": "forbidden_hub"}
    kinds.update(names.get(key, key) for key in rules)
    return rules
