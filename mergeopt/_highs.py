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
from typing import TYPE_CHECKING, Any

import numpy as np
import pulp

if TYPE_CHECKING:
    from mergeopt.model import Arrays


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


def highs_from_arrays(arrays: Arrays) -> Any:
    """A :func:`quiet_highs` object holding the model of ``arrays`` (integrality and
    names included); options are the caller's to set."""
    import highspy

    highs = quiet_highs()
    lp = highspy.HighsLp()
    lp.num_col_ = arrays.num_col
    lp.num_row_ = arrays.num_row
    lp.col_cost_ = arrays.col_cost
    lp.col_lower_ = arrays.col_lower
    lp.col_upper_ = arrays.col_upper
    lp.row_lower_ = arrays.row_lower
    lp.row_upper_ = arrays.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = arrays.num_col
    lp.a_matrix_.num_row_ = arrays.num_row
    lp.a_matrix_.start_ = arrays.row_start.astype(np.int32)
    lp.a_matrix_.index_ = arrays.row_index.astype(np.int32)
    lp.a_matrix_.value_ = arrays.row_value
    kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
    lp.integrality_ = [kinds[int(b)] for b in arrays.integer]
    lp.col_names_ = arrays.col_names
    lp.row_names_ = arrays.row_names
    highs.passModel(lp)
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
