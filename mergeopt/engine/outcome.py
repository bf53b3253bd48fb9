"""What a solve found and proved: one outcome type, and one verdict on it.

The status is one of:

``optimal``      the solver proved no better grouping exists (gap at most 1e-6)
``feasible``     a valid grouping, with the best bound and gap proven for it
``infeasible``   the solver proved no grouping meets every rule
``no_solution``  the solver stopped (time limit) before it found any valid grouping

Every strategy, every region and the whole solve report an :class:`Outcome`; the test of
a proof (:func:`proven`: the gap between a grouping's value and a proven lower bound at
most :data:`PROVEN_GAP`) is written here only, and :func:`found` is the one place a
grouping gets its status from its bound.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

Status = Literal["optimal", "feasible", "infeasible", "no_solution"]
#: The statuses from the weakest claim to the strongest.
STATUS_ORDER: tuple[Status, ...] = ("infeasible", "no_solution", "feasible", "optimal")
#: A relative gap at or below this is proof of optimality (the objective is exact to
#: about one patient-minute in a million).
PROVEN_GAP = 1e-6


@dataclass(frozen=True)
class Outcome:
    """What a solve (of the whole instance, a region, or by one strategy) found and proved.

    Attributes
    ----------
    status : see the module docstring
    hub_of : per practice position, the position of its hub; None without a grouping
    objective : the grouping's value, recomputed from the instance; None without one
    bound : the best proven lower bound on the objective, or None
    gap : relative distance between objective and bound, or None
    stopped_by : why the search stopped, in words (the solver's reason and notes)
    solver : the solver and its version (set on the whole solve's outcome)
    build_seconds, solve_seconds : time building models, and the rest of the solve
    """

    status: Status
    hub_of: np.ndarray | None = None
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    stopped_by: str = ""
    solver: str = ""
    build_seconds: float = 0.0
    solve_seconds: float = 0.0

    def status_line(self) -> str:
        """One line saying what was proved, for the screen and run.json.

        It is made from this outcome's own status, gap and bound, with
        :attr:`stopped_by` as its detail; the detail never claims a proof or a gap
        tolerance that these figures do not show (:func:`solver_ended`).
        """
        if self.status == "optimal":
            return "optimal: the solver proved no better grouping exists"
        if self.status == "infeasible":
            return f"infeasible: no grouping meets every rule; stopped by {self.stopped_by}"
        bound = f"{self.bound:,.1f}" if self.bound is not None else "unknown"
        if self.status == "no_solution":
            return f"no grouping found (bound {bound}); stopped by {self.stopped_by}"
        gap = f"{self.gap:.3%}" if self.gap is not None else "unknown"
        return (
            f"feasible, not proven optimal: within {gap} of the best possible "
            f"(bound {bound}); stopped by {self.stopped_by}"
        )


def gap(objective: float, bound: float) -> float:
    """Relative gap as HiGHS defines it: |objective - bound| / |objective|."""
    if abs(objective - bound) <= 1e-9:
        return 0.0
    return abs(objective - bound) / max(abs(objective), 1e-9)


def proven(objective: float, bound: float | None) -> bool:
    """Whether ``bound`` proves ``objective`` optimal: its gap is at most :data:`PROVEN_GAP`."""
    return bound is not None and gap(objective, bound) <= PROVEN_GAP


def found(
    hub_of: np.ndarray,
    objective: float,
    bound: float | None,
    stopped_by: str,
    *,
    build_seconds: float = 0.0,
) -> Outcome:
    """The outcome of a grouping of value ``objective`` under a proven lower ``bound``:
    ``optimal`` if the bound proves it, else ``feasible``; nothing else decides it.
    """
    status: Status = "optimal" if proven(objective, bound) else "feasible"
    return Outcome(
        status=status,
        hub_of=hub_of,
        objective=objective,
        bound=bound,
        gap=None if bound is None else gap(objective, bound),
        stopped_by=stopped_by,
        build_seconds=build_seconds,
    )


def solver_ended(outcome: Outcome, tolerance: float) -> str:
    """Why a solver that ended its search by itself (its gap tolerance met on the model
    it solved) left ``outcome`` unproven, in words that agree with the outcome's gap.

    The tolerance is said to be reached only when the outcome's own gap is within it;
    otherwise (the grouping's recomputed value is further from the bound than the
    solver's model said) the words claim no tolerance and no proof.

    >>> unproven = Outcome("feasible", objective=356.0, bound=246.0, gap=0.309)
    >>> solver_ended(unproven, 1e-6)
    'solver ended its search short of the gap tolerance 1e-06 for this grouping'
    >>> solver_ended(Outcome("feasible", objective=100.0, bound=99.5, gap=0.005), 0.01)
    'gap tolerance 0.01 reached'
    """
    if outcome.gap is not None and outcome.gap <= tolerance:
        return f"gap tolerance {tolerance:g} reached"
    return f"solver ended its search short of the gap tolerance {tolerance:g} for this grouping"


def weakest(statuses: Iterable[Status]) -> Status:
    """The weakest of ``statuses``: what a plan made of parts can claim (in
    :data:`STATUS_ORDER`)."""
    return min(statuses, key=STATUS_ORDER.index)


def summed_bound(parts: Iterable[Outcome]) -> float | None:
    """The bound of parts solved apart (none sharing a group): their bounds added up,
    None if a part proved none."""
    bounds = [part.bound for part in parts]
    return sum(b for b in bounds if b is not None) if None not in bounds else None


def infeasible(stopped_by: str, *, build_seconds: float = 0.0) -> Outcome:
    """No grouping meets every rule: proven."""
    return Outcome("infeasible", stopped_by=stopped_by, build_seconds=build_seconds)


def no_grouping(bound: float | None, stopped_by: str, *, build_seconds: float = 0.0) -> Outcome:
    """No grouping found (the time limit); ``bound`` is what was proven meanwhile."""
    return Outcome("no_solution", bound=bound, stopped_by=stopped_by, build_seconds=build_seconds)


def round_bound(bound: float, integral: bool) -> float:
    """A proven lower bound, raised to the next whole number when the objective is whole."""
    if not integral or not np.isfinite(bound):
        return bound
    return float(np.ceil(bound - max(1e-5, 1e-8 * abs(bound))))
