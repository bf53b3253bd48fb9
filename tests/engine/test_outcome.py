"""What a solve reports: bounds rounded to whole numbers, the gap."""

from __future__ import annotations

from mergeopt.engine.outcome import round_bound


def test_whole_number_objectives_round_the_bound_up():
    assert round_bound(981.2, True) == 982.0
    assert round_bound(981.0000001, True) == 981.0  # solver noise is not a whole unit
    assert round_bound(981.2, False) == 981.2
