"""A run's result: assignment and group tables, metrics, and the rules a grouping breaks.

Everything here is computed from an assignment (``hub_of``: the hub position of each
practice), never from what the solver says, so a proposal and today's networks are
scored by the same code, and the solver's objective can be checked against it.

``assignments`` columns: practice_code, practice_name, list_size, group, hub, hub_name,
travel (in the run's unit), distance_km, current_group, moved (its hub is outside its
network today), regrouped (its group companions change), list_size_date (when the list
size was counted, where the table says), region, easting, northing (EPSG:27700 metres).

``groups`` columns: group, hub, hub_name, practices, practice_codes, list_size,
slack_to_min, slack_to_max, premises_capacity, premises_use, mean_travel (patient-weighted),
max_travel, region, oversize_alone, remote_alone (a remote practice standing alone),
list_size_date (its members' dates, ``;``-joined).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from mergeopt._errors import InputError
from mergeopt.config import Config
from mergeopt.engine.instance import objective_value
from mergeopt.engine.outcome import Outcome
from mergeopt.inputs.hashes import input_hashes
from mergeopt.runs.federations import FederationPlan, with_federations
from mergeopt.runs.problem import Problem, count_breaks


@dataclass(frozen=True)
class RunResult:
    """A solved (or evaluated) grouping with its tables and what was proved.

    ``report`` is None for an evaluated existing grouping. ``federations`` holds the
    federation level of a two-level run (config ``federations``); its figures are in
    ``metrics`` too, whose ``objective`` is then both levels'.
    """

    config: Config
    problem: Problem
    hub_of: np.ndarray
    assignments: pd.DataFrame
    groups: pd.DataFrame
    metrics: dict[str, float | int]
    violations: list[str]
    report: Outcome | None
    timings: dict[str, float] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    grouping: str | None = None
    federations: FederationPlan | None = None

    @property
    def status(self) -> str:
        return self.report.status if self.report is not None else "evaluated"

    def status_text(self) -> str:
        """One line saying what was proved, for the screen and run.json."""
        report = self.report
        if report is None:
            broken = len(self.violations)
            return f"existing grouping '{self.grouping}': {broken} rule(s) broken"
        if self.federations is not None:
            return self.federations.status_text()
        return report.status_line()


def result_for(
    config: Config,
    problem: Problem,
    hub_of: np.ndarray,
    report: Outcome | None,
    timings: dict[str, float],
    *,
    grouping: str | None = None,
    labels: list[str] | None = None,
    federations: FederationPlan | None = None,
) -> RunResult:
    """Assemble the tables and figures of a grouping (and of its federations, if any)
    into a :class:`RunResult`."""
    assignments = assignments_table(problem, hub_of, labels=labels)
    groups = groups_table(problem, hub_of, labels=labels)
    figures, broken = metrics(problem, hub_of), violations(problem, hub_of, labels=labels)
    if federations is not None:
        assignments, groups = with_federations(assignments, groups, problem, federations)
        figures |= federations.metrics
        broken += federations.violations
    return RunResult(
        config=config,
        problem=problem,
        hub_of=hub_of,
        assignments=assignments,
        groups=groups,
        metrics=figures,
        violations=broken,
        report=report,
        timings={key: round(value, 4) for key, value in timings.items()},
        inputs=input_hashes(config),
        grouping=grouping,
        federations=federations,
    )


def assignments_table(
    problem: Problem, hub_of: np.ndarray, *, labels: Sequence[str] | None = None
) -> pd.DataFrame:
    """One row per practice, in the practices table's order.

    A group is named after its hub unless ``labels`` (one per practice) name it.
    """
    practices = problem.practices
    codes = np.asarray(problem.codes)
    i = np.arange(len(codes))
    return pd.DataFrame(
        {
            "practice_code": codes,
            "practice_name": practices["name"].to_numpy(),
            "list_size": practices["list_size"].to_numpy(),
            "group": codes[hub_of] if labels is None else np.asarray(labels, dtype=object),
            "hub": codes[hub_of],
            "hub_name": practices["name"].to_numpy()[hub_of],
            "travel": np.round(problem.travel[i, hub_of], 3),
            "distance_km": np.round(problem.km[i, hub_of], 3),
            "current_group": practices["current_group"].to_numpy(),
            "moved": problem.instance.moved()[i, hub_of],
            "regrouped": regrouped(problem.instance.group_id, hub_of),
            "list_size_date": _dates(practices),
            "region": practices["region"].to_numpy(),
            "easting": practices["easting"].to_numpy(),
            "northing": practices["northing"].to_numpy(),
        }
    )


def _dates(practices: pd.DataFrame) -> np.ndarray:
    """Each practice's list-size date; None for a table that does not give it."""
    if "list_size_date" not in practices.columns:
        return np.full(len(practices), None, dtype=object)
    return np.asarray(practices["list_size_date"].to_numpy(), dtype=object)


def groups_table(
    problem: Problem, hub_of: np.ndarray, *, labels: Sequence[str] | None = None
) -> pd.DataFrame:
    """One row per group, largest first."""
    inst = problem.instance
    table = assignments_table(problem, hub_of, labels=labels)
    lower, upper = inst.list_size_bounds()
    oversize = inst.oversize()
    position = {code: k for k, code in enumerate(problem.codes)}
    rows = []
    for hub, members in table.groupby("hub", sort=False):
        j = position[str(hub)]
        size = int(members["list_size"].sum())
        weights = members["list_size"].to_numpy(dtype=float)
        capacity = inst.premises[j]
        rows.append(
            {
                "group": members["group"].iloc[0],
                "hub": hub,
                "hub_name": members["hub_name"].iloc[0],
                "practices": len(members),
                "practice_codes": ";".join(members["practice_code"]),
                "list_size": size,
                "slack_to_min": size - lower,
                "slack_to_max": (upper - size) if upper is not None else None,
                "premises_capacity": float(capacity) if np.isfinite(capacity) else None,
                "premises_use": round(size / capacity, 4) if np.isfinite(capacity) else None,
                "mean_travel": round(float(np.average(members["travel"], weights=weights)), 3),
                "max_travel": float(members["travel"].max()),
                "region": members["region"].iloc[0],
                "oversize_alone": bool(oversize[j] and inst.max_size[j] == inst.size[j]),
                "remote_alone": bool(inst.standing_alone()[j]),
                "list_size_date": ";".join(sorted(set(members["list_size_date"].dropna()))),
            }
        )
    groups = pd.DataFrame(rows)
    return groups.sort_values("list_size", ascending=False, ignore_index=True)


def metrics(problem: Problem, hub_of: np.ndarray) -> dict[str, float | int]:
    """The figures a proposal is judged by, recomputed from the assignment.

    Disruption is counted two ways. A practice is **moved** (``practices_moved``, the
    figure the moved-patients objective weighs) when the hub of its new group is outside
    its network today. It is **regrouped** (``practices_regrouped``) when the other
    practices of its group are not exactly the other practices of its network today:
    two networks merged whole move no hub out of one of them, yet every practice in both
    works with new partners. Both count only practices in a network today (not ``U``).
    """
    inst = problem.instance
    i = np.arange(inst.n)
    travel = problem.travel[i, hub_of]
    size = inst.size
    group_sizes = pd.Series(size).groupby(hub_of).sum()
    moved = inst.moved()[i, hub_of]
    changed = regrouped(inst.group_id, hub_of)
    return {
        "objective": objective_value(inst, hub_of),
        "groups": len(group_sizes),
        "patients": int(size.sum()),
        "patient_weighted_travel": float((size * travel).sum()),
        "mean_travel": float((size * travel).sum() / size.sum()),
        "max_travel": float(travel.max()),
        "smallest_group": int(group_sizes.min()),
        "largest_group": int(group_sizes.max()),
        "practices_moved": int(moved.sum()),
        "patients_moved": int(size[moved].sum()),
        "practices_regrouped": int(changed.sum()),
        "patients_regrouped": int(size[changed].sum()),
    }


def regrouped(group_id: np.ndarray, hub_of: np.ndarray) -> np.ndarray:
    """(n,) bool: practices in a network today whose group companions change.

    ``group_id`` is today's network per practice as an integer, -1 for none;
    ``hub_of`` the hub position of each practice in the proposal.

    >>> regrouped(np.array([0, 0, 1, 1, -1]), np.array([0, 0, 2, 2, 2]))
    array([False, False,  True,  True, False])
    """
    n = len(hub_of)
    if len(group_id) != n:
        return np.zeros(n, dtype=bool)
    today = np.where(group_id >= 0, group_id, -1 - np.arange(n))  # no network: alone
    frame = pd.DataFrame({"today": today, "proposal": hub_of})
    # the same companions exactly when today's network and the proposal's group are the
    # same set of practices: each practice's pair (network, group) is then the only pair
    # either of the two has
    pairs = frame.groupby(["today", "proposal"]).ngroup()
    one_group = pairs.groupby(frame["today"]).transform("nunique") == 1
    one_network = pairs.groupby(frame["proposal"]).transform("nunique") == 1
    changed = ~(one_group & one_network).to_numpy()
    return np.asarray(changed & (group_id >= 0), dtype=bool)


def violations(
    problem: Problem, hub_of: np.ndarray, *, labels: Sequence[str] | None = None
) -> list[str]:
    """Every rule of the config that this grouping breaks, in plain words.

    The one rule checker of a run (``evaluate`` lists these); it finds a rule broken
    exactly when the engine's feasibility test
    (:func:`~mergeopt.engine.instance.broken_rules`) does. Each group is named as the
    groups table names it: by ``labels`` (an existing grouping's, e.g. today's network
    codes; see :func:`group_labels`), else by its hub's code. A practice in no group
    (an existing grouping's blank or ``U``, alone in its own group) is one line however
    many rules its group of one breaks: it is one practice to place, not several faults.
    """
    inst = problem.instance
    codes = problem.codes
    found: list[str] = []
    hubs = sorted(set(hub_of.tolist()))
    load = pd.Series(inst.size).groupby(hub_of).sum()
    for j in hubs:
        name = str(labels[j]) if labels is not None else codes[j]
        if hub_of[j] != j:
            found.append(f"hub {codes[j]} is not in its own group")
        alone = name.startswith("none:")
        broken = _group_breaks(problem, j, float(load[j]), alone=alone)
        if broken and alone:
            who = f"{codes[j]} {str(problem.practices['name'].iloc[j]).title()}"
            words = " and ".join(broken)
            found.append(f"{who} is in no existing group (group {name}): alone, it {words}")
        else:
            found += [f"group {name} {words}" for words in broken]
    for i in range(inst.n):
        j = int(hub_of[i])
        if not inst.allowed[i, j]:
            name = str(labels[j]) if labels is not None else codes[j]
            found.append(
                f"{codes[i]} is {problem.travel[i, j]:.1f} {inst.travel_unit} from its hub "
                f"{codes[j]} (group {name}): {_apart(problem, i, j)}"
            )
    found += _rule_breaks(problem, hub_of, len(hubs))
    found += _split_groups(problem, hub_of, labels)
    return found


def _group_breaks(problem: Problem, j: int, load: float, *, alone: bool = False) -> list[str]:
    """What the group of hub ``j`` breaks, each as words after its name ("has ..."); for
    a practice ``alone`` in its group, as words about the practice."""
    inst = problem.instance
    found = []
    if load < inst.min_size - 1e-9 and not inst.standing_alone()[j]:
        found.append(f"has {load:,.0f} patients, below the minimum {inst.min_size:,.0f} patients")
    if load > inst.max_size[j] + 1e-9:
        found.append(_over(problem, j, load))
    if not inst.can_hub[j]:
        why = _no_hub(problem, j)
        found.append(
            f"may not host a group ({why})"
            if alone
            else f"has a hub ({problem.codes[j]}) that may not host a group ({why})"
        )
    return found


def _no_hub(problem: Problem, j: int) -> str:
    """Why practice ``j`` may not host a group, as the config and table say."""
    config = problem.config
    if problem.codes[j] in set(config.rules.forbidden_hubs):
        return "rules.forbidden_hubs names it"
    if str(problem.practices["hub_eligibility"].iloc[j]) == "never":
        return f"its {config.inputs.columns.hub_eligibility} is 'never'"
    return "the rules"


def _apart(problem: Problem, i: int, j: int) -> str:
    """Why practice ``i`` may not join hub ``j``: only the rules the config sets."""
    config, inst = problem.config, problem.instance
    travel = config.travel
    reasons = []
    if not np.isfinite(problem.travel[i, j]):
        reasons.append("no travel time between them")
    if travel.max_minutes is not None and problem.travel[i, j] > travel.max_minutes + 1e-9:
        reasons.append(f"beyond travel.max_minutes ({travel.max_minutes:g} minutes)")
    if travel.max_km is not None and problem.km[i, j] > travel.max_km + 1e-9:
        reasons.append(f"beyond travel.max_km ({travel.max_km:g} km)")
    region = problem.practices["region"].to_numpy()
    if config.rules.nest_by is not None and region[i] != region[j]:
        reasons.append(
            f"across rules.nest_by {config.rules.nest_by} ({region[i]}, not {region[j]})"
        )
    if not reasons and (inst.standing_alone()[i] or inst.standing_alone()[j]):
        reasons.append("one of them stands alone (groups.oversize or groups.remote)")
    return "; ".join(reasons) or "the rules keep them apart"


def _over(problem: Problem, j: int, load: float) -> str:
    _, upper = problem.instance.list_size_bounds()
    capacity = problem.instance.premises[j]
    if upper is not None and load > upper:
        return f"has {load:,.0f} patients, above the maximum {upper:,} patients"
    return (
        f"has {load:,.0f} patients, more than its hub's premises serve ({capacity:,.0f} patients)"
    )


def _rule_breaks(problem: Problem, hub_of: np.ndarray, count: int) -> list[str]:
    inst = problem.instance
    codes = problem.codes
    found = []
    found += count_breaks(count, inst.count_min, inst.count_max, "groups")
    found += [
        f"{codes[j]} must be a hub but is in {codes[hub_of[j]]}'s group"
        for j in np.flatnonzero(inst.must_hub)
        if hub_of[j] != j
    ]
    found += [
        f"{codes[a]} must join hub {codes[b]}'s group but is in {codes[hub_of[a]]}'s"
        for a, b in inst.fixed
        if hub_of[a] != b
    ]
    found += [
        f"{codes[a]} and {codes[b]} must be in one group but are not"
        for a, b in inst.must_link
        if hub_of[a] != hub_of[b]
    ]
    found += [
        f"{codes[a]} and {codes[b]} must not share a group but do"
        for a, b in inst.cannot_link
        if hub_of[a] == hub_of[b]
    ]
    return found


def _split_groups(
    problem: Problem, hub_of: np.ndarray, labels: Sequence[str] | None = None
) -> list[str]:
    """Groups whose practices' catchments do not all touch, when they must
    (``geography.contiguous``): connected through the adjacency within their group."""
    inst = problem.instance
    if not inst.contiguous:
        return []
    pairs = np.asarray(inst.adjacency, dtype=np.int64).reshape(-1, 2)
    inside = pairs[hub_of[pairs[:, 0]] == hub_of[pairs[:, 1]]]
    graph = coo_matrix(
        (np.ones(len(inside)), (inside[:, 0], inside[:, 1])), shape=(inst.n, inst.n)
    )
    _, piece = connected_components(graph, directed=False)
    pieces = pd.Series(piece).groupby(hub_of).nunique()
    return [
        f"group {labels[hub] if labels is not None else problem.codes[hub]} is in {count} "
        "pieces: its practices' catchments do not all touch (geography.contiguous)"
        for hub, count in zip(pieces.index.tolist(), pieces.tolist(), strict=True)
        if count > 1
    ]


def group_labels(labels: Sequence[object], codes: Sequence[str]) -> list[str]:
    """Existing group labels, with each ungrouped practice (empty or ``U``) alone.

    >>> group_labels(["P1", None, "U", "P1"], ["A", "B", "C", "D"])
    ['P1', 'none:B', 'none:C', 'P1']
    """
    return [
        f"none:{code}"
        if label is None or label != label or str(label) in ("", "U")
        else str(label)
        for label, code in zip(labels, codes, strict=True)
    ]


def hubs_for_grouping(problem: Problem, labels: Sequence[str]) -> np.ndarray:
    """Hub positions for an existing grouping (e.g. today's networks).

    An existing grouping names groups, not hubs; each group's hub is taken as the
    member that could host it with the least patient-weighted travel (the most
    favourable reading of the status quo), or the best member if none is eligible.
    ``labels`` come from :func:`group_labels`.
    """
    inst = problem.instance
    hub_of = np.empty(inst.n, dtype=np.int64)
    frame = pd.DataFrame({"key": list(labels), "pos": np.arange(inst.n)})
    usable = inst.hubs_usable()
    for _, members in frame.groupby("key", sort=False):
        pos = members["pos"].to_numpy()
        per = inst.size[pos] if inst.travel_by_size else np.ones(len(pos))
        cost = (per[:, None] * np.nan_to_num(inst.cost[np.ix_(pos, pos)], posinf=1e9)).sum(axis=0)
        cost = cost + np.where(usable[pos], 0.0, 1e15)
        hub_of[pos] = pos[int(np.argmin(cost))]
    return hub_of


def compare_runs(first: RunResult, second: RunResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two groupings of the same practices side by side.

    Returns ``(figures, practices)``: the metrics of each with the difference, and one
    row per practice whose group companions differ between the two (its group and
    hub in each).
    """
    figures = pd.DataFrame({"first": first.metrics, "second": second.metrics})
    figures["difference"] = figures["second"] - figures["first"]
    left = first.assignments.set_index("practice_code")
    right = second.assignments.set_index("practice_code")
    shared = left.index.intersection(right.index)
    if len(shared) != len(left) or len(shared) != len(right):
        raise InputError("the two results do not group the same practices")

    def companions(table: pd.DataFrame) -> pd.Series:
        members = {hub: frozenset(group.index) for hub, group in table.groupby("hub")}
        return table["hub"].map(members)

    changed = companions(left).loc[shared] != companions(right).loc[shared]
    practices = pd.DataFrame(
        {
            "practice_name": left.loc[shared, "practice_name"],
            "list_size": left.loc[shared, "list_size"],
            "first_group": left.loc[shared, "group"],
            "first_hub": left.loc[shared, "hub"],
            "second_group": right.loc[shared, "group"],
            "second_hub": right.loc[shared, "hub"],
        }
    )[changed.to_numpy()]
    return figures, practices.reset_index()


def side_by_side(today: RunResult, proposal: RunResult) -> pd.DataFrame:
    """Today's networks (an evaluated grouping) and a proposal, figure by figure.

    Index: the figure in words; columns ``today`` and ``proposal``. Disruption is counted
    against today's networks, so today's is 0.
    """
    compare_runs(today, proposal)  # the same practices, or an error saying not
    unit = proposal.config.travel.unit
    rows = {
        "groups": "groups",
        "rules broken": None,
        f"mean travel ({unit}, patient-weighted)": "mean_travel",
        f"longest travel ({unit})": "max_travel",
        "smallest group (patients)": "smallest_group",
        "largest group (patients)": "largest_group",
        "practices whose hub is outside their network": "practices_moved",
        "practices with new group companions": "practices_regrouped",
        "patients whose practice leaves its network": "patients_moved",
    }

    def figure(result: RunResult, key: str | None) -> float | int:
        return len(result.violations) if key is None else result.metrics[key]

    return pd.DataFrame(
        {
            "today": [figure(today, key) for key in rows.values()],
            "proposal": [figure(proposal, key) for key in rows.values()],
        },
        index=pd.Index(list(rows), name="figure"),
    )
