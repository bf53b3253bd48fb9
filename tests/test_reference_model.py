"""The independent reference model checks itself: its plain model against brute force.

The reference (``tests/reference``) reads a config and its CSV tables itself, scores
groupings by README.md's definitions and solves a plain PuLP model (CBC, with PuLP's
HiGHS interface to confirm); it shares no code with mergeopt. Before it judges
mergeopt, its two halves must agree: on areas of 4 to 7 practices with every rule
kind, the plain model's optimum (or its verdict of infeasible) equals the least
objective over every grouping the reference's own checker accepts.
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings

from tests.reference.area import Area, read_area
from tests.reference.areas import DrawnArea, areas, write_area
from tests.reference.plain import solve_plain
from tests.reference.scoring import broken_rules, objective

REFERENCE = settings(settings.get_profile("mergeopt-reference"))


def close(a: float, b: float, rel: float) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def brute_force(area: Area) -> float | None:
    """The least objective over every grouping the reference's checker accepts (tiny areas
    only): every set of hubs, every assignment of the others to them."""
    best = None
    hosts = [code for code in area.codes if area.may_host(code)]
    for size in range(1, len(hosts) + 1):
        for hubs in itertools.combinations(hosts, size):
            others = [code for code in area.codes if code not in hubs]
            options = [[h for h in hubs if area.reaches(code, h)] for code in others]
            for choice in itertools.product(*options):
                hub_of = dict(zip(others, choice, strict=True)) | {h: h for h in hubs}
                if not broken_rules(area, hub_of):
                    value = objective(area, hub_of)
                    best = value if best is None else min(best, value)
    return best


@settings(REFERENCE, max_examples=40)
@given(drawn=areas(min_practices=4, max_practices=7))
def test_the_reference_model_agrees_with_brute_force(drawn: DrawnArea, tmp_path_factory):
    area = read_area(write_area(drawn, tmp_path_factory.mktemp("tiny")))
    plain = solve_plain(area)
    best = brute_force(area)
    if best is None:
        assert plain.status == "infeasible"
    else:
        assert plain.status == "optimal" and plain.objective is not None
        assert close(plain.objective, best, 1e-9)
