"""The one error the engine raises of its own: the solver itself failed."""

from __future__ import annotations


class SolverError(RuntimeError):
    """The solver itself failed (its own status says so): not a time limit, not rules
    that cannot be met. The run layer reports it as :class:`mergeopt._errors.SolverError`
    (exit code 5)."""
