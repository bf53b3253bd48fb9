"""Disruption counted two ways: hub outside the network, and new group companions."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from mergeopt.runs.results import regrouped


def companions_change(group_id: list[int], hub_of: list[int]) -> list[bool]:
    """The definition, practice by practice: the other members of its network today
    against the other members of its group in the proposal."""
    n = len(group_id)
    out = []
    for i in range(n):
        if group_id[i] < 0:
            out.append(False)
            continue
        today = {k for k in range(n) if k != i and group_id[k] == group_id[i]}
        proposal = {k for k in range(n) if k != i and hub_of[k] == hub_of[i]}
        out.append(today != proposal)
    return out


@given(st.data())
def test_regrouped_is_the_change_of_companions(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 12))
    group_id = data.draw(st.lists(st.integers(-1, 3), min_size=n, max_size=n))
    hubs = data.draw(st.lists(st.integers(0, n - 1), min_size=n, max_size=n))
    hub_of = [hubs[hubs[i]] if hubs[hubs[i]] == hubs[i] else hubs[i] for i in range(n)]
    found = regrouped(np.array(group_id), np.array(hub_of))
    assert found.tolist() == companions_change(group_id, hub_of)


def test_two_networks_merged_whole_move_no_hub_out_of_half_of_them() -> None:
    # networks {0, 1} and {2, 3} merged around hub 0: 2 and 3 leave their network,
    # but all four have new companions
    group_id = np.array([0, 0, 1, 1])
    assert regrouped(group_id, np.array([0, 0, 0, 0])).tolist() == [True] * 4
    assert regrouped(group_id, np.array([0, 0, 2, 2])).tolist() == [False] * 4
