"""A two-level plan in one of the three modes: the entry point of the federation level."""

from __future__ import annotations

import time

import numpy as np

from mergeopt.engine.federation.joint import solve_joint
from mergeopt.engine.federation.plan import FederationRules, Mode, TwoLevelOutcome
from mergeopt.engine.federation.sequential import federate, solve_sequential
from mergeopt.engine.instance import Instance
from mergeopt.engine.options import SolveOptions, in_phase

Vector = np.ndarray


def solve_federations(
    inst: Instance,
    fed: FederationRules,
    options: SolveOptions,
    *,
    mode: Mode,
    networks: Vector | None = None,
) -> TwoLevelOutcome:
    """A two-level plan in one of the three modes.

    ``networks`` (each practice's network hub) is needed for mode ``today`` and
    ignored otherwise.
    """
    if mode == "today":
        if networks is None:
            raise ValueError("mode 'today' federates given networks: pass networks=")
        words = "federations of today's networks"
        return federate(inst, fed, networks, in_phase(options, words, started=time.perf_counter()))
    if mode == "proposed":
        return solve_sequential(inst, fed, options)
    return solve_joint(inst, fed, options)
