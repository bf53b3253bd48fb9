"""The engine: numbers in, groupings and proofs out. No geometry, no config.

It owns the :class:`~mergeopt.engine.instance.Instance` and every check on it
(:mod:`~mergeopt.engine.instance`), the numbered formulation and its arrays
(:mod:`~mergeopt.engine.formulation`, its rows gathered by :mod:`~mergeopt.engine.rows`),
the two-level plans of networks grouped into federations
(:mod:`~mergeopt.engine.federation`), the elastic model that explains an infeasible
instance (:mod:`~mergeopt.engine.elastic`), the solvers (:mod:`~mergeopt.engine.solvers`:
HiGHS through highspy, PuLP for CBC and LP/MPS files), the strategies that find and prove
groupings (:mod:`~mergeopt.engine.strategies`), the outcome of a solve
(:mod:`~mergeopt.engine.outcome`), and which strategies run
(:mod:`~mergeopt.engine.portfolio`, whose :func:`solve_instance` is the entry point).

It may import numpy, scipy, PuLP and highspy, and nothing of mergeopt outside this
package: the run layer builds the instance, turns the config's ``solver`` block into
:class:`~mergeopt.engine.options.SolveOptions` once, calls :func:`solve_instance` and
reads the outcome.
"""

from mergeopt.engine.errors import SolverError
from mergeopt.engine.instance import Instance
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.outcome import Outcome
from mergeopt.engine.portfolio import solve_instance

__all__ = ["Instance", "Outcome", "SolveOptions", "SolverError", "solve_instance"]
