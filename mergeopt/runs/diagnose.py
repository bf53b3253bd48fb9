"""Why a problem cannot be solved, said in commissioning terms.

:func:`precheck` finds the common impossibilities before any solve, by counting: a
practice too big for any group, practices too far from every eligible hub, too few or
too many patients for the group count, a takeover or a must-link that breaks a rule.
Each finding is a fact naming the practices or the rule; what to change is
:mod:`mergeopt.runs.advice`'s to say, each change checked by solving with it.

:func:`explain` (the elastic model's cheapest relaxation, in one go) remains for the
federation level (:mod:`mergeopt.runs.federation_explain`), until the advice's search
covers federation rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mergeopt.engine.elastic import Elastic, solve_elastic
from mergeopt.runs.problem import Problem


def precheck(problem: Problem) -> list[str]:
    """Reasons the rules cannot all hold; empty when nothing obvious is wrong."""
    no_hub = _no_hub(problem)
    if no_hub:  # every other count would only repeat it
        return no_hub
    findings: list[str] = []
    checks = (
        _oversize,
        _forced_hubs,
        _unreachable,
        _totals,
        _window,
        _fixed_groups,
        _links,
        _regions,
    )
    for check in checks:
        findings += check(problem)
    return findings


def _name(problem: Problem, pos: int) -> str:
    row = problem.practices.iloc[pos]
    return f"{problem.codes[pos]} ({row['name']})"


def _names(problem: Problem, positions: np.ndarray, limit: int = 6) -> str:
    shown = ", ".join(_name(problem, int(p)) for p in positions[:limit])
    return shown + (f" and {len(positions) - limit} more" if len(positions) > limit else "")


def _oversize(problem: Problem) -> list[str]:
    inst = problem.instance
    _, upper = inst.list_size_bounds()
    if inst.oversize_alone or upper is None:
        return []
    size = inst.size
    return [
        f"{_name(problem, int(p))} has {int(size[p]):,} patients, more than the maximum "
        f"list size of {upper:,} (groups.oversize: stop)"
        for p in np.flatnonzero(inst.oversize())
    ]


def _no_hub(problem: Problem) -> list[str]:
    """No practice can host a group at all: say which rules forbid each."""
    inst = problem.instance
    if inst.n == 0 or inst.hubs_usable().any():
        return []
    forbidden = {code.strip().upper() for code in problem.config.rules.forbidden_hubs}
    named = np.array([code in forbidden for code in problem.codes], dtype=bool)
    premises = ~named & inst.can_hub
    never = ~named & ~inst.can_hub
    why = [
        f"{count} {words}"
        for count, words in (
            (int(named.sum()), "are forbidden as hubs (rules.forbidden_hubs)"),
            (int(never.sum()), "may never host one (hub_eligibility: never)"),
            (
                int(premises.sum()),
                f"have premises that serve fewer than {inst.min_size:,.0f} patients or "
                "than their own list",
            ),
        )
        if count
    ]
    return [f"no practice may host a group: of the {inst.n} practices, {'; '.join(why)}"]


def _forced_hubs(problem: Problem) -> list[str]:
    inst = problem.instance
    usable = inst.hubs_usable()
    findings = []
    forbidden = set(problem.config.rules.forbidden_hubs)
    for p in np.flatnonzero(inst.must_hub & ~usable):
        code = problem.codes[p]
        if code in forbidden:
            why = "it is both required and forbidden as a hub"
        elif inst.max_size[p] < inst.size[p]:
            why = f"its premises serve {inst.max_size[p]:,.0f} patients, fewer than its own list"
        else:
            why = (
                f"its premises serve {inst.max_size[p]:,.0f} patients, below the minimum "
                f"list size of {inst.min_size:,.0f}"
            )
        findings.append(f"{_name(problem, int(p))} must be a hub but cannot: {why}")
    return findings


def _unreachable(problem: Problem) -> list[str]:
    inst = problem.instance
    i, _ = inst.arcs()
    reach = np.zeros(inst.n, dtype=bool)
    reach[i] = True
    stranded = np.flatnonzero(~reach)
    if not len(stranded):
        return []
    limits = []
    if inst.max_minutes is not None:
        limits.append(f"{inst.max_minutes:g} minutes")
    if inst.max_km is not None:
        limits.append(f"{inst.max_km:g} km")
    limit = " or ".join(limits) or "the allowed travel"
    nested = f" in the same {inst.nest_by}" if inst.nest_by else ""
    usable = inst.hubs_usable()
    # a travel matrix that gives no time to any hub: the file is incomplete, not far
    untimed = [
        p
        for p in stranded
        if not np.isfinite(inst.cost[p, usable & (np.arange(inst.n) != p)]).any()
    ]
    matrix = problem.config.travel.matrix
    findings = []
    if matrix is not None and untimed:
        findings.append(
            f"practices {_names(problem, np.array(untimed))} have no travel time in "
            f"{matrix.name} to any practice that may host a group: add those pairs"
        )
    far = np.array([p for p in stranded if p not in untimed or matrix is None], dtype=int)
    if len(far):
        findings.append(
            f"practices {_names(problem, far)} are more than {limit} from every eligible "
            f"hub{nested}"
        )
    return findings


def _totals(problem: Problem) -> list[str]:
    inst = problem.instance
    total = float(inst.size.sum())
    lower, upper = inst.list_size_bounds()
    findings = []
    alone = inst.standing_alone()  # remote practices: groups of their own, any size
    wanted = None if inst.count_min is None else inst.count_min - int(alone.sum())
    rest = float(inst.size[~alone].sum())
    if wanted is not None and wanted * lower > rest:
        besides = " besides the practices standing alone" if alone.any() else ""
        findings.append(
            f"{wanted} groups of at least {lower:,} patients need "
            f"{wanted * lower:,} patients; there are {rest:,.0f}{besides}"
        )
    if inst.count_max is not None and upper is not None:
        lone = inst.oversize() if inst.oversize_alone else None
        room = inst.count_max * upper
        need = total
        if lone is not None and lone.any():
            room = (inst.count_max - int(lone.sum())) * upper
            need = total - float(inst.size[lone].sum())
        if room < need:
            findings.append(
                f"at most {inst.count_max} groups of at most {upper:,} patients hold "
                f"{max(room, 0):,} patients; {need:,.0f} need a group"
            )
    usable = int(inst.hubs_usable().sum())
    if inst.count_min is not None and usable < inst.count_min:
        findings.append(
            f"only {usable} practices can host a group (not forbidden, and premises that "
            f"serve at least {lower:,} patients), so {inst.count_min} groups cannot be formed"
        )
    forced = int(inst.must_hub.sum())
    if inst.count_max is not None and forced > inst.count_max:
        findings.append(
            f"{forced} practices must be hubs but at most {inst.count_max} groups are allowed"
        )
    return findings


def _window(problem: Problem) -> list[str]:
    """Regions whose patients no whole number of groups within the list-size bounds can
    hold: k groups hold between k * L and k * U patients, for no k."""
    inst = problem.instance
    lower, upper = inst.list_size_bounds()
    if upper is None or lower <= 0:
        return []
    alone = inst.standing_alone() | (inst.oversize() & (inst.max_size == inst.size))
    rest = problem.practices.loc[~alone]
    column = inst.nest_by
    findings = []
    for region, total in rest.groupby("region", dropna=False)["list_size"].sum().items():
        fewest = math.ceil(total / upper)  # groups needed to hold them all
        if fewest * lower > total:
            where = f"{column} {region}: " if column is not None else ""
            findings.append(
                f"{where}no whole number of groups of {lower:,}-{upper:,} patients holds "
                f"{int(total):,} patients ({fewest - 1} hold at most {(fewest - 1) * upper:,}, "
                f"{fewest} need at least {fewest * lower:,})"
            )
    return findings


def _fixed_groups(problem: Problem) -> list[str]:
    inst = problem.instance
    findings = []
    members: dict[int, set[int]] = {}
    for a, b in inst.fixed:
        members.setdefault(b, {b}).add(a)
        if a != b and not inst.allowed[a, b]:
            findings.append(
                f"the takeover of {_name(problem, a)} by hub {_name(problem, b)} breaks the "
                f"travel or nesting rule ({problem.travel[a, b]:.1f} {inst.travel_unit})"
            )
    hubs_of: dict[int, set[int]] = {}
    for a, b in inst.fixed:
        hubs_of.setdefault(a, set()).add(b)
    for a, hubs in hubs_of.items():
        if len(hubs) > 1:
            findings.append(f"{_name(problem, a)} is fixed into more than one group")
    for hub, group in members.items():
        load = float(inst.size[list(group)].sum())
        if load > inst.max_size[hub]:
            findings.append(
                f"the fixed group of hub {_name(problem, hub)} already has {load:,.0f} "
                f"patients, more than it may hold ({inst.max_size[hub]:,.0f})"
            )
    return findings


def _links(problem: Problem) -> list[str]:
    """Must-linked practices that no hub can take both of (travel limit, nesting)."""
    inst = problem.instance
    i, j = inst.arcs()
    reach = np.zeros((inst.n, inst.n), dtype=bool)
    reach[i, j] = True
    return [
        f"{_name(problem, a)} and {_name(problem, b)} must be in one group, but no practice "
        f"may host them both (rules.must_link)"
        for a, b in inst.must_link
        if a != b and not (reach[a] & reach[b]).any()
    ]


def _regions(problem: Problem) -> list[str]:
    column = problem.instance.nest_by
    lower, _ = problem.instance.list_size_bounds()
    if column is None or lower <= 0:
        return []
    alone = problem.instance.standing_alone()  # a region of remote practices alone is met
    sizes = problem.practices.loc[~alone].groupby("region")["list_size"].sum()
    return [
        f"{column} {region} has only {int(total):,} patients, fewer than the minimum list "
        f"size of {lower:,}"
        for region, total in sizes.items()
        if total < lower
    ]


# ---------------------------------------------------------------------------------------
# The elastic model's relaxation (the federation level's explanation)


@dataclass(frozen=True)
class Explanation:
    """Why the rules cannot all hold, and config changes that would let them.

    ``findings`` are plain-words sentences naming the practices or rules; ``overrides``
    (dotted config keys, as for :meth:`Config.with_overrides`) together make the
    problem feasible when the elastic model found the cheapest way to give.
    """

    findings: list[str]
    overrides: dict[str, Any] = field(default_factory=dict)
    #: ``explain``'s fuller text, where there is one (the network advice's ranked changes)
    detail: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(self.findings)


def explain(problem: Problem) -> Explanation:
    """Explain an infeasible problem: the fewest rules that must give, and by how much.

    Re-solves an elastic version in which every rule may be broken at a price (see
    :func:`mergeopt.engine.elastic.solve_elastic`), then says what it had to break in
    commissioning terms. Quick pre-checks fill in where the elastic model has nothing
    to say (a hub both forced and forbidden).
    """
    findings, overrides = _forced_and_forbidden(problem)
    _, upper = problem.instance.list_size_bounds()
    elastic = solve_elastic(problem.instance, max_list_size=upper)
    if elastic is not None:
        for part in (_loads, _travel, _count, _named_rules):
            more, changes = part(problem, elastic)
            findings += more
            overrides |= changes
    if not findings:
        findings = precheck(problem) or [_generic(problem)]
    return Explanation(findings, overrides)


def _forced_and_forbidden(problem: Problem) -> tuple[list[str], dict[str, Any]]:
    """Hubs a rule requires and another forbids: the elastic model cannot see these."""
    rules = problem.config.rules
    forbidden = {code.strip().upper() for code in rules.forbidden_hubs}
    both = [p for p in np.flatnonzero(problem.instance.must_hub) if problem.codes[p] in forbidden]
    if not both:
        return [], {}
    clash = {problem.codes[p] for p in both}
    findings = [
        f"{_name(problem, int(p))} must be a hub (forced, fixed or oversize) but is also "
        "forbidden as one: take it out of rules.forbidden_hubs"
        for p in both
    ]
    kept = [code for code in rules.forbidden_hubs if code.strip().upper() not in clash]
    return findings, {"rules.forbidden_hubs": kept}


def _loads(problem: Problem, elastic: Elastic) -> tuple[list[str], dict[str, Any]]:
    inst = problem.instance
    load = np.bincount(elastic.hub_of, weights=inst.size, minlength=inst.n)
    findings: list[str] = []
    overrides: dict[str, Any] = {}
    over = [int(j) for j in np.flatnonzero(elastic.over > 0)]
    alone = [j for j in over if _lone_oversize(problem, elastic, j)]
    premises = [int(j) for j in np.flatnonzero(elastic.over_premises > 0)]
    for j in alone:
        findings.append(
            f"{_name(problem, j)} alone has {int(inst.size[j]):,} patients: let it form its "
            f"own group (groups.oversize: alone) or raise the maximum list size to "
            f"{int(inst.size[j]):,}"
        )
        overrides["groups.oversize"] = "alone"
    too_big = [j for j in over if j not in alone]
    if too_big:
        needed = int(np.ceil(max(load[j] for j in too_big)))
        hubs = _names(problem, np.array(too_big))
        findings.append(f"raise the maximum list size to {needed:,} (groups of {hubs})")
        overrides["groups.max_list_size"] = needed
    for j in premises:
        findings.append(
            f"the premises of {_name(problem, j)} serve {inst.max_size[j]:,.0f} patients but "
            f"its group needs {load[j]:,.0f}"
        )
    if premises:
        overrides |= _premises_relief(problem, max(load[j] / inst.max_size[j] for j in premises))
    short = np.flatnonzero(elastic.short > 0)
    if len(short):
        lowest = int(np.floor(min(load[j] for j in short)))
        findings.append(
            f"lower the minimum list size to {lowest:,}: the groups of "
            f"{_names(problem, short)} cannot reach {inst.min_size:,.0f}"
        )
        overrides["groups.min_list_size"] = lowest
    return findings, overrides


def _lone_oversize(problem: Problem, elastic: Elastic, j: int) -> bool:
    _, upper = problem.instance.list_size_bounds()
    members = np.flatnonzero(elastic.hub_of == j)
    return upper is not None and problem.instance.size[j] > upper and list(members) == [j]


def _premises_relief(problem: Problem, ratio: float) -> dict[str, Any]:
    premises = problem.config.premises
    if premises.rule == "floor_area" and premises.m2_per_patient is not None:
        return {"premises.m2_per_patient": np.floor(premises.m2_per_patient / ratio * 1e5) / 1e5}
    return {"premises.rule": "none"}


def _travel(problem: Problem, elastic: Elastic) -> tuple[list[str], dict[str, Any]]:
    far = np.flatnonzero(elastic.far)
    if not len(far):
        return [], {}
    config, inst = problem.config, problem.instance
    hubs = elastic.hub_of[far]
    region = np.asarray(inst.region, dtype=object)
    if inst.nest_by is not None and (region[far] != region[hubs]).any():
        return (
            [
                f"practices {_names(problem, far)} have no eligible hub in their own "
                f"{inst.nest_by}: let groups cross it (drop rules.nest_by)"
            ],
            {"rules.nest_by": None},
        )
    findings, overrides = [], {}
    trips = problem.travel[far, hubs]
    if not np.isfinite(trips).all():  # pairs a travel matrix does not give: unreachable
        matrix = config.travel.matrix.name if config.travel.matrix else "the travel matrix"
        findings.append(
            f"practices {_names(problem, far[~np.isfinite(trips)])} have no travel time in "
            f"{matrix} to any hub they could join: add those pairs to the matrix"
        )
    elif inst.max_minutes is not None:
        needed = float(np.ceil(trips.max() * 10) / 10)
        limit = inst.max_minutes
        overrides["travel.max_minutes"] = needed
        findings.append(
            f"practices {_names(problem, far)} are more than {limit:g} {inst.travel_unit} "
            f"from every hub they could join: raise the travel limit to {needed:g}"
        )
    if inst.max_km is not None:
        needed_km = float(np.ceil(problem.km[far, hubs].max() * 10) / 10)
        overrides["travel.max_km"] = needed_km
        findings.append(
            f"practices {_names(problem, far)} are more than {inst.max_km:g} km from "
            f"every hub they could join: raise travel.max_km to {needed_km:g}"
        )
    return findings, overrides


def _count(problem: Problem, elastic: Elastic) -> tuple[list[str], dict[str, Any]]:
    inst = problem.instance
    lower, _ = inst.list_size_bounds()
    if not (elastic.count_short or elastic.count_over):
        return [], {}
    low = None if inst.count_min is None else inst.count_min - elastic.count_short
    high = None if inst.count_max is None else inst.count_max + elastic.count_over
    total = float(inst.size.sum())
    usable = int(inst.hubs_usable().sum())
    if elastic.count_short and inst.count_min is not None:
        if inst.count_min * lower > total:
            why = (
                f"{inst.count_min} groups of at least {lower:,} need "
                f"{inst.count_min * lower:,} patients; there are {total:,.0f}"
            )
        elif usable < inst.count_min:
            why = (
                f"only {usable} practices can host a group (premises that serve at least "
                f"{lower:,} patients, not forbidden as hubs), so "
                f"{inst.count_min} groups cannot be formed"
            )
        else:
            why = (
                f"{inst.count_min} groups of at least {lower:,} patients "
                "cannot all be formed within the other rules (travel limit, premises, "
                "eligible hubs)"
            )
        change = f"allow {low} groups"
    else:
        why = f"{inst.count_max} groups cannot hold every practice within the other rules"
        change = f"allow {high} groups"
    return [f"{why}: {change}"], {"groups.count": {"min": low, "max": high}}


def _named_rules(problem: Problem, elastic: Elastic) -> tuple[list[str], dict[str, Any]]:
    rules, codes = problem.config.rules, problem.codes
    findings: list[str] = []
    overrides: dict[str, Any] = {}
    inst = problem.instance
    if elastic.fixed:
        broken = {(codes[inst.fixed[k][0]], codes[inst.fixed[k][1]]) for k in elastic.fixed}
        findings += [f"drop the takeover of {a} by hub {b}" for a, b in sorted(broken)]
        overrides["rules.fixed"] = [
            {"hub": g.hub, "practices": [p for p in g.practices if (p, g.hub) not in broken]}
            for g in rules.fixed
            if any((p, g.hub) not in broken for p in g.practices)
        ]
    if elastic.forced:
        forced = [codes[j] for j in np.flatnonzero(inst.must_hub)]
        dropped = {forced[k] for k in elastic.forced}
        findings += [f"{code} cannot be made a hub" for code in sorted(dropped)]
        overrides["rules.forced_hubs"] = [c for c in rules.forced_hubs if c not in dropped]
    for key, pairs, attr, words in (
        ("rules.must_link", rules.must_link, "must", "keep {} and {} together"),
        ("rules.cannot_link", rules.cannot_link, "cannot", "keep {} and {} apart"),
    ):
        dropped_pairs = set(getattr(elastic, attr))
        if dropped_pairs:
            findings += [
                f"it is impossible to {words.format(*pairs[k])}" for k in sorted(dropped_pairs)
            ]
            overrides[key] = [list(p) for k, p in enumerate(pairs) if k not in dropped_pairs]
    return findings, overrides


def _generic(problem: Problem) -> str:
    config, inst = problem.config, problem.instance
    lower, upper = inst.list_size_bounds()
    rules = [f"list sizes {lower:,}-{f'{upper:,}' if upper else 'any'}"]
    low, high = inst.count_min, inst.count_max
    if low is not None or high is not None:
        rules.append(f"group count {low or 1}-{high or 'any'}")
    if inst.max_minutes or inst.max_km:
        rules.append(f"travel limit {inst.max_minutes or inst.max_km:g}")
    if config.premises.rule != "none":
        rules.append(f"premises rule '{config.premises.rule}'")
    if config.rules.fixed or config.rules.must_link or config.rules.cannot_link:
        rules.append("fixed groups and links")
    return (
        "no grouping meets all these rules together: "
        + ", ".join(rules)
        + ": relax one of them (a wider list-size range or travel limit is the usual fix)"
    )
