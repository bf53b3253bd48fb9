"""What a solve found and proved: the status, the grouping, the bound and the gap.

The status is one of:

``optimal``      the solver proved no better grouping exists (gap below 1e-6)
``feasible``     a valid grouping, with the best bound and gap the solver proved
``infeasible``   the solver proved no grouping meets every rule
``no_solution``  the solver stopped (time limit) before it found any valid grouping
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Status = Literal["optimal", "feasible", "infeasible", "no_solution"]
#: A relative gap at or below this is proof of optimality (the objective is exact to
#: about one patient-minute in a million).
PROVEN_GAP = 1e-6


@dataclass(frozen=True)
class SolveReport:
    """What a solve found and proved.

    ``hub_of`` gives, per practice position, the position of its hub (None unless a
    grouping was found). ``bound`` is the best proven lower bound on the objective and
    ``gap`` the relative distance between objective and bound.
    """

    status: Status
    hub_of: np.ndarray | None
    objective: float | None
    bound: float | None
    gap: float | None
    solver: str
    stopped_by: str
    build_seconds: float
    solve_seconds: float


@dataclass(frozen=True)
class Part:
    """What a solve of one region found: grouping (region positions), bound, timings."""

    status: Status
    hub_of: np.ndarray | None
    bound: float | None
    stopped_by: str
    build_seconds: float


@dataclass(frozen=True)
class Run:
    status: Status
    hub_of: np.ndarray | None
    bound: float | None
    stopped_by: str


def gap(objective: float, bound: float) -> float:
    """Relative gap as HiGHS defines it: |objective - bound| / |objective|."""
    if abs(objective - bound) <= 1e-9:
        return 0.0
    return abs(objective - bound) / max(abs(objective), 1e-9)


def round_bound(bound: float, integral: bool) -> float:
    """A proven lower bound, raised to the next whole number when the objective is whole."""
    if not integral or not np.isfinite(bound):
        return bound
    return float(np.ceil(bound - max(1e-5, 1e-8 * abs(bound))))
