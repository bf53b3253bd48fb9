"""The instance and the checks on it."""

from __future__ import annotations

from mergeopt.engine.instance import integral_objective
from tests.engine.cases import line_instance


def test_whole_number_objectives_are_recognised():
    whole = line_instance([0, 1, 3], [1, 2, 1], travel_by_size=False)
    assert integral_objective(whole)
    assert not integral_objective(line_instance([0, 1.5, 3], [1, 2, 1]))
