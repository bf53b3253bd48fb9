"""A HiGHS object that prints nothing: no banner, no log unless asked.

``highspy.Highs()`` prints "Running HiGHS ... Copyright ..." to standard output as it is
made (its Python ``__init__`` enables callbacks before ``output_flag`` can be set). The
compiled class underneath, ``highspy._core._Highs``, has every method mergeopt calls and
prints nothing; where a highspy version lacks it, the Python class is made with standard
output (file descriptor 1, where the C++ library writes) sent to ``os.devnull``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pulp


def quiet_highs() -> Any:
    """A new HiGHS object with ``output_flag`` off and nothing printed."""
    import highspy

    core = getattr(getattr(highspy, "_core", None), "_Highs", None)
    highs: Any = None
    if core is not None:
        try:
            highs = core()
        except Exception:  # a highspy whose compiled class cannot be made directly
            highs = None
    if highs is None:
        highs = _silenced(highspy.Highs)
    highs.setOptionValue("output_flag", False)
    return highs


def reset_thread_pool() -> None:
    """Let the next solve in this thread size HiGHS's thread pool afresh."""
    import highspy

    core = getattr(getattr(highspy, "_core", None), "_Highs", highspy.Highs)
    reset = getattr(core, "resetThreadScheduler", None) or getattr(
        core, "resetGlobalScheduler", None
    )
    if reset is not None:
        reset(True)


def _silenced(make: Any) -> Any:
    """``make()`` with file descriptor 1 sent to ``os.devnull`` meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            return make()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


class QuietHiGHS(pulp.HiGHS):  # type: ignore[misc]
    """PuLP's HiGHS interface, solving on a :func:`quiet_highs` object (no banner)."""

    def createAndConfigureSolver(self, lp: pulp.LpProblem) -> None:
        lp.solverModel = quiet_highs()
        if self.callbackTuple:
            lp.solverModel.setCallback(*self.callbackTuple)
        for kind in self.callbacksToActivate or ():
            lp.solverModel.startCallback(kind)
        if self.msg:
            lp.solverModel.setOptionValue("output_flag", True)
        if self.gapRel is not None:
            lp.solverModel.setOptionValue("mip_rel_gap", self.gapRel)
        if self.gapAbs is not None:
            lp.solverModel.setOptionValue("mip_abs_gap", self.gapAbs)
        if self.threads is not None:
            lp.solverModel.setOptionValue("threads", self.threads)
        if self.timeLimit is not None:
            lp.solverModel.setOptionValue("time_limit", float(self.timeLimit))
        for key, value in self.optionsDict.items():
            lp.solverModel.setOptionValue(key, value)
