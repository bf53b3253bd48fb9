"""Score a grouping of an :class:`~.area.Area` and list every rule it breaks.

A grouping is a mapping practice code -> hub code (the practice whose premises host the
group, named after it). The objective (README.md, ``objective``), all terms minimised:

    travel       * sum over practices of v_i * travel(i, hub of i)
                   (v_i = list size, or 1 when weight_by_list_size is false)
  + moved_patients * list sizes of the practices that move
  + groups       * number of groups
  + max_travel   * the longest travel of any practice to its hub
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from tests.reference.area import Area

Grouping = Mapping[str, str]


def objective(area: Area, hub_of: Grouping) -> float:
    """The objective of a grouping, from README.md's definition."""
    w = area.weights
    travel = [area.travel[(code, hub_of[code])] for code in area.codes]
    per = [area.size[code] if w.by_size else 1 for code in area.codes]
    value = w.travel * sum(p * t for p, t in zip(per, travel, strict=True))
    value += w.moved * sum(area.size[c] for c in area.codes if area.moves(c, hub_of[c]))
    value += w.groups * len(set(hub_of.values()))
    value += w.max_travel * max(travel)
    return value


def members(hub_of: Grouping) -> dict[str, list[str]]:
    """Each hub's group."""
    groups: dict[str, list[str]] = defaultdict(list)
    for code, hub in hub_of.items():
        groups[hub].append(code)
    return dict(groups)


def broken_rules(area: Area, hub_of: Grouping) -> list[str]:
    """Every rule of the config this grouping breaks (empty: it holds them all)."""
    if sorted(hub_of) != sorted(area.codes):
        return ["not every practice is in exactly one group"]
    if any(hub not in area.size for hub in hub_of.values()):
        return ["a hub is not a practice"]
    found: list[str] = []
    groups = members(hub_of)
    for hub, group in groups.items():
        found += _group_rules(area, hub, group, hub_of)
    for code in area.codes:
        hub = hub_of[code]
        if not area.reaches(code, hub):
            found.append(f"{code} cannot reach hub {hub} (travel limit, matrix or nesting)")
        if area.must_host(code) and hub != code:
            found.append(f"{code} must be a hub but is in {hub}'s group")
    count = len(groups)
    if area.count_min is not None and count < area.count_min:
        found.append(f"{count} groups, fewer than {area.count_min}")
    if area.count_max is not None and count > area.count_max:
        found.append(f"{count} groups, more than {area.count_max}")
    found += [f"{a} is not in hub {b}'s group" for a, b in area.fixed if hub_of[a] != b]
    found += [f"{a} and {b} are apart" for a, b in area.must_link if hub_of[a] != hub_of[b]]
    found += [f"{a} and {b} share a group" for a, b in area.cannot_link if hub_of[a] == hub_of[b]]
    return found


def _group_rules(area: Area, hub: str, group: list[str], hub_of: Grouping) -> list[str]:
    found = []
    load = sum(area.size[code] for code in group)
    if hub_of[hub] != hub:
        found.append(f"hub {hub} is not in its own group")
    if not area.may_host(hub):
        found.append(f"{hub} may not host a group (eligibility or forbidden)")
    if area.alone(hub):  # oversize and alone: a group of its own, bounds and premises aside
        if group != [hub]:
            found.append(f"oversize {hub} does not form a group of its own")
        return found
    if load < area.min_size:
        found.append(f"group {hub} has {load} patients, below {area.min_size}")
    if area.max_size is not None and load > area.max_size:
        found.append(f"group {hub} has {load} patients, above {area.max_size}")
    capacity = area.capacity[hub]
    if capacity is not None and load > capacity:
        found.append(f"group {hub} has {load} patients, more than its premises ({capacity})")
    return found
