"""Why a problem cannot be solved, said in commissioning terms.

:func:`precheck` finds the common impossibilities before any solve: a practice too big
for any group, practices too far from every eligible hub, too few or too many patients
for the group count, a takeover that breaks a rule. Each finding names the practices or
the rule and what would have to change.
"""

from __future__ import annotations

import numpy as np

from mergeopt.problem import Problem


def precheck(problem: Problem) -> list[str]:
    """Reasons the rules cannot all hold; empty when nothing obvious is wrong."""
    findings: list[str] = []
    for check in (_oversize, _forced_hubs, _unreachable, _totals, _fixed_groups, _regions):
        findings += check(problem)
    return findings


def _name(problem: Problem, pos: int) -> str:
    row = problem.practices.iloc[pos]
    return f"{problem.codes[pos]} ({row['name']})"


def _names(problem: Problem, positions: np.ndarray, limit: int = 6) -> str:
    shown = ", ".join(_name(problem, int(p)) for p in positions[:limit])
    return shown + (f" and {len(positions) - limit} more" if len(positions) > limit else "")


def _oversize(problem: Problem) -> list[str]:
    groups = problem.config.groups
    if groups.oversize == "alone" or groups.max_list_size is None:
        return []
    size = problem.instance.size
    return [
        f"{_name(problem, int(p))} has {int(size[p]):,} patients, more than the maximum "
        f"list size of {groups.max_list_size:,}: raise groups.max_list_size to at least "
        f"{int(size[p]):,}, or set groups.oversize: alone to let it form its own group"
        for p in np.flatnonzero(problem.oversize)
    ]


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
    if problem.config.travel.max_minutes is not None:
        limits.append(f"{problem.config.travel.max_minutes:g} minutes")
    if problem.config.travel.max_km is not None:
        limits.append(f"{problem.config.travel.max_km:g} km")
    limit = " or ".join(limits) or "the allowed travel"
    nested = f" in the same {problem.config.rules.nest_by}" if problem.config.rules.nest_by else ""
    return [
        f"practices {_names(problem, stranded)} are more than {limit} from every eligible "
        f"hub{nested}: raise the travel limit or allow more practices to host a hub"
    ]


def _totals(problem: Problem) -> list[str]:
    inst = problem.instance
    total = float(inst.size.sum())
    lower, upper = problem.config.groups.min_list_size, problem.config.groups.max_list_size
    findings = []
    if inst.count_min is not None and inst.count_min * lower > total:
        findings.append(
            f"{inst.count_min} groups of at least {lower:,} patients need "
            f"{inst.count_min * lower:,} patients; there are {total:,.0f}: lower the group "
            f"count or groups.min_list_size"
        )
    if inst.count_max is not None and upper is not None:
        lone = problem.oversize if problem.config.groups.oversize == "alone" else None
        room = inst.count_max * upper
        need = total
        if lone is not None and lone.any():
            room = (inst.count_max - int(lone.sum())) * upper
            need = total - float(inst.size[lone].sum())
        if room < need:
            findings.append(
                f"at most {inst.count_max} groups of at most {upper:,} patients hold "
                f"{max(room, 0):,} patients; {need:,.0f} need a group: raise the group count "
                f"or groups.max_list_size"
            )
    forced = int(inst.must_hub.sum())
    if inst.count_max is not None and forced > inst.count_max:
        findings.append(
            f"{forced} practices must be hubs but at most {inst.count_max} groups are allowed"
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
                f"travel or nesting rule ({problem.travel[a, b]:.1f} {problem.config.travel.unit})"
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


def _regions(problem: Problem) -> list[str]:
    column = problem.config.rules.nest_by
    lower = problem.config.groups.min_list_size
    if column is None or lower <= 0:
        return []
    sizes = problem.practices.groupby("region")["list_size"].sum()
    return [
        f"{column} {region} has only {int(total):,} patients, fewer than the minimum list "
        f"size of {lower:,}: it cannot form a group of its own"
        for region, total in sizes.items()
        if total < lower
    ]


def explain_infeasible(problem: Problem) -> str:
    """A plain-words message for a model the solver proved infeasible."""
    findings = precheck(problem)
    if findings:
        return "; ".join(findings)
    config = problem.config
    upper = config.groups.max_list_size
    rules = [f"list sizes {config.groups.min_list_size:,}-{f'{upper:,}' if upper else 'any'}"]
    low, high = config.groups.count_range
    if low is not None or high is not None:
        rules.append(f"group count {low or 1}-{high or 'any'}")
    if config.travel.max_minutes or config.travel.max_km:
        rules.append(f"travel limit {config.travel.max_minutes or config.travel.max_km:g}")
    if config.premises.rule != "none":
        rules.append(f"premises rule '{config.premises.rule}'")
    if config.rules.fixed or config.rules.must_link or config.rules.cannot_link:
        rules.append("fixed groups and links")
    return (
        "no grouping meets all these rules together: "
        + ", ".join(rules)
        + ": relax one of them (a wider list-size range or travel limit is the usual fix)"
    )
