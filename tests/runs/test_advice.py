"""Advice when the rules cannot all be met: small synthetic areas, one per kind of advice.

Each area is built so that one rule blocks it; the test checks what is ranked first, that
a degenerate change is never first, and that every change offered, applied, solves.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import mergeopt
from mergeopt.config import load_config
from mergeopt.inputs.practices import read_practices
from mergeopt.runs.advice import Advice, Change, advise
from mergeopt.runs.advice.search import Attempt, Search, smallest_index
from mergeopt.runs.advice.together import _holds

#: Sites in British National Grid metres, around a point in Yorkshire.
E0, N0 = 450_000, 450_000
KM = 1000


def area(tmp_path: Path, practices: list[tuple[Any, ...]], **rules: Any) -> Path:
    """A practices table and a config; each practice is (code, x km, y km, list size[, region])."""
    rows = ["practice_code,practice_name,list_size,easting,northing,region"]
    for code, x, y, size, *region in practices:
        rows.append(f"{code},{code} SURGERY,{size},{E0 + x * KM},{N0 + y * KM},{''.join(region)}")
    (tmp_path / "practices.csv").write_text("\n".join(rows) + "\n")
    config: dict[str, Any] = {
        "name": "synthetic",
        "inputs": {"practices": "practices.csv"},
        "groups": {"min_list_size": 30000, "max_list_size": 50000},
        "travel": {"model": "road", "max_minutes": 20},
        "maps": False,
        "solver": {"time_limit": 20},
    }
    for dotted, value in rules.items():
        section, key = dotted.split("__")
        config.setdefault(section, {})[key] = value
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def advice_for(path: Path, **kwargs: Any) -> Advice:
    config = load_config(path)
    return advise(config, read_practices(config), **kwargs)


def assert_each_solves(path: Path, advice: Advice) -> None:
    """Every alternative offered, applied to the config, gives a plan meeting every rule."""
    for region in advice.failing:
        for alternative in [*region.alternatives, region.combined]:
            if alternative is None:
                continue
            result = mergeopt.solve(path, overrides=alternative.overrides)
            assert result.violations == [], alternative.text
    if advice.overrides:
        assert mergeopt.solve(path, overrides=advice.overrides).violations == []


def assert_ranked(advice: Advice) -> None:
    for region in advice.failing:
        flags = [a.degenerate is not None for a in region.alternatives]
        assert flags == sorted(flags), "a degenerate change ranked above a sound one"


CLUSTER = [("A1", 0, 0, 12000), ("A2", 1, 0, 12000), ("A3", 0, 1, 12000)]


def test_travel_the_smallest_whole_minute_that_works_comes_first(tmp_path: Path) -> None:
    # D4 is 12 km from A1: 8.33 + 1.164 * 12 = 22.3 minutes by road
    path = area(tmp_path, [*CLUSTER, ("D4", -12, 0, 10000)])
    advice = advice_for(path)
    (region,) = advice.failing
    first = region.alternatives[0]
    assert first.rule == "travel limit"
    assert first.overrides == {"travel.max_minutes": 23}
    assert "22 minutes proven too short" in first.note
    assert first.plan.groups == 1 and first.degenerate is None
    lowered = next(a for a in region.alternatives if a.rule == "minimum list size")
    assert lowered.overrides == {"groups.min_list_size": 10000}
    assert lowered.degenerate is not None and "half the minimum" in lowered.degenerate
    assert advice.overrides == {"travel.max_minutes": 23}
    assert_ranked(advice)
    assert_each_solves(path, advice)


def test_minimum_too_high_for_the_patients(tmp_path: Path) -> None:
    practices = [(f"B{k}", k * 0.5, 0, 8000) for k in range(5)]  # 40,000 patients
    path = area(tmp_path, practices, groups__min_list_size=45000, groups__max_list_size=60000)
    (region,) = advice_for(path).failing
    first = region.alternatives[0]
    assert first.rule == "minimum list size"
    assert first.overrides == {"groups.min_list_size": 40000}
    assert "40,100 proven too high" in first.note
    assert "5 groups" not in first.plan.describe()
    assert_each_solves(path, advice_for(path))


def test_maximum_too_low_ranks_before_a_degenerate_minimum(tmp_path: Path) -> None:
    practices = [(f"C{k}", k * 0.5, 0, 20000) for k in range(4)]  # two groups of 40,000
    path = area(tmp_path, practices, groups__max_list_size=35000)
    advice = advice_for(path)
    (region,) = advice.failing
    assert region.alternatives[0].overrides == {"groups.max_list_size": 40000}
    lowered = next(a for a in region.alternatives if a.rule == "minimum list size")
    assert lowered.overrides == {"groups.min_list_size": 20000}
    assert lowered.degenerate == "4 of 4 groups are a single practice below the minimum"
    assert region.alternatives[-1] is lowered
    assert_ranked(advice)
    assert_each_solves(path, advice)


def test_group_count_nearest_that_works(tmp_path: Path) -> None:
    practices = [(f"D{k}", k * 0.3, 0, 10000) for k in range(6)]  # at most 3 groups of 20,000
    path = area(tmp_path, practices, groups__min_list_size=20000, groups__count=4)
    advice = advice_for(path)
    (region,) = advice.failing
    first = region.alternatives[0]
    assert first.rule == "group count" and first.overrides == {"groups.count": 3}
    assert first.plan.groups == 3
    assert_ranked(advice)
    assert_each_solves(path, advice)


def test_an_island_practice_is_offered_to_stand_alone_by_name(tmp_path: Path) -> None:
    # I1 is 69 km from A2 (8.33 + 1.164 * 69 = 88.6 minutes): no group within twice the limit
    path = area(tmp_path, [*CLUSTER, ("I1", 70, 0, 2000)])
    advice = advice_for(path)
    (region,) = advice.failing
    assert any("I1 (I1 SURGERY, 2,000)" in reason for reason in region.reasons)
    first = region.alternatives[0]
    assert first.rule == "remote practices"
    assert first.overrides == {"groups.remote": ["I1"]}
    assert first.plan.remote == 1 and first.degenerate is None
    travel = next(a for a in region.alternatives if a.rule == "travel limit")
    assert travel.overrides == {"travel.max_minutes": 89}
    assert_ranked(advice)
    assert_each_solves(path, advice)
    plan = mergeopt.solve(path, overrides=first.overrides)
    lone = plan.groups.set_index("hub").loc["I1"]
    assert bool(lone["remote_alone"]) and lone["list_size"] == 2000


def test_remote_alone_lets_every_practice_that_reaches_no_group_stand_alone(
    tmp_path: Path,
) -> None:
    # I1 reaches no group of 30,000 within 20 minutes; the cluster is a network as before
    path = area(tmp_path, [*CLUSTER, ("I1", 70, 0, 2000)], groups__remote="alone")
    plan = mergeopt.solve(path)
    assert plan.violations == []
    alone = plan.groups.loc[plan.groups["remote_alone"].astype(bool), "hub"]
    assert list(alone) == ["I1"]
    assert plan.groups.set_index("hub").loc["A1":"A3", "list_size"].sum() == 36000
    assert advice_for(path).feasible  # nothing to explain


def test_remote_alone_takes_every_practice_beyond_the_travel_limit(tmp_path: Path) -> None:
    # D4 reaches a group of 30,000 only beyond 20 minutes: with remote: alone it stands
    # alone as well (a named list keeps it in the rules: see the test below)
    path = area(
        tmp_path, [*CLUSTER, ("D4", -12, 0, 10000), ("I1", 70, 0, 2000)], groups__remote="alone"
    )
    plan = mergeopt.solve(path)
    assert plan.violations == []
    alone = plan.groups.loc[plan.groups["remote_alone"].astype(bool), "hub"]
    assert sorted(alone) == ["D4", "I1"]


def test_a_remote_practice_and_a_travel_limit_together(tmp_path: Path) -> None:
    # the island needs to stand alone, and D4 a longer travel limit, for the rest
    path = area(tmp_path, [*CLUSTER, ("D4", -12, 0, 10000), ("I1", 70, 0, 2000)])
    (region,) = advice_for(path).failing
    first = region.alternatives[0]
    assert first.overrides == {"groups.remote": ["I1"], "travel.max_minutes": 23}
    with pytest.raises(mergeopt.InfeasibleError):  # the travel limit alone is not enough
        mergeopt.solve(path, overrides={"travel.max_minutes": 23})
    assert mergeopt.solve(path, overrides=first.overrides).violations == []


def test_conflicting_links_offer_either_link_dropped(tmp_path: Path) -> None:
    practices = [(f"E{k}", k * 0.3, 0, 15000) for k in range(4)]
    path = area(
        tmp_path,
        practices,
        rules__must_link=[["E0", "E1"]],
        rules__cannot_link=[["E1", "E0"]],
    )
    advice = advice_for(path)
    (region,) = advice.failing
    offered = {next(iter(a.overrides)) for a in region.alternatives}
    assert offered == {"rules.must_link", "rules.cannot_link"}
    assert all(a.overrides[next(iter(a.overrides))] == [] for a in region.alternatives)
    assert any("E0 (E0 SURGERY) and E1 (E1 SURGERY)" in a.text for a in region.alternatives)
    assert_each_solves(path, advice)


def test_every_hub_forbidden_allows_the_fewest_hubs(tmp_path: Path) -> None:
    codes = [code for code, *_ in CLUSTER]
    path = area(tmp_path, CLUSTER, rules__forbidden_hubs=codes)
    advice = advice_for(path)
    (region,) = advice.failing
    first = region.alternatives[0]
    assert first.rule == "forbidden hubs"
    kept = first.overrides["rules.forbidden_hubs"]
    assert len(kept) == 2 and set(kept) < set(codes)  # one hub is enough, and needed
    assert not any(a.rule == "travel limit" for a in region.alternatives)  # no help there
    assert_each_solves(path, advice)


def test_two_blockers_need_two_changes_each_one_necessary(tmp_path: Path) -> None:
    # D4 is out of reach (travel) and G5 is above the maximum with oversize: stop
    practices = [*CLUSTER, ("D4", -12, 0, 10000), ("G5", 40, 0, 52000)]
    path = area(tmp_path, practices, groups__oversize="stop")
    advice = advice_for(path)
    (region,) = advice.failing
    combined = region.combined
    assert combined is not None and combined.rule == "together"
    assert combined.overrides["travel.max_minutes"] == 23
    assert combined.overrides["groups.oversize"] == "alone" or "groups.max_list_size" in (
        combined.overrides
    )
    for key in combined.overrides:  # without any one of them, the rules cannot all hold
        rest = {k: v for k, v in combined.overrides.items() if k != key}
        with pytest.raises(mergeopt.InfeasibleError):
            mergeopt.solve(path, overrides=rest)
    assert advice.overrides == combined.overrides
    assert_each_solves(path, advice)


def test_only_the_failing_region_is_explained_and_named(tmp_path: Path) -> None:
    practices = [
        *[(code, x, y, size, "R1") for code, x, y, size in CLUSTER],
        ("F1", 60, 0, 10000, "R2"),
        ("F2", 60.5, 0, 10000, "R2"),  # R2 has 20,000 patients: below the minimum
    ]
    path = area(tmp_path, practices, rules__nest_by="region")
    advice = advice_for(path, names={"R2": "Far Valley"})
    assert advice.column == "region" and advice.regions == 2
    (region,) = advice.failing
    assert region.region == "R2" and region.label == "R2 Far Valley"
    assert region.practices == 2 and region.patients == 20000
    assert region.alternatives[0].overrides == {"groups.min_list_size": 20000}
    assert "R1" not in "\n".join(advice.lines())
    assert "R2 Far Valley" in advice.summary()
    assert_each_solves(path, advice)


def test_many_failing_regions_are_summed_up_by_code_with_the_changes_for_them_all(
    tmp_path: Path,
) -> None:
    """Beyond three failing regions the error line names them by code and gives the
    changes that together let each be met (verified), not every region's reasons."""
    small = {"R2": 20000, "R3": 18000, "R4": 16000, "R5": 22000}  # each below 30,000
    practices = [(code, x, y, size, "R1") for code, x, y, size in CLUSTER]
    for k, (region, patients) in enumerate(small.items(), start=1):
        x = 60 * k
        practices += [
            (f"{region}A", x, 0, patients // 2, region),
            (f"{region}B", x + 0.5, 0, patients // 2, region),
        ]
    path = area(tmp_path, practices, rules__nest_by="region")
    advice = advice_for(path)
    assert [region.region for region in advice.failing] == list(small)
    assert advice.overrides, "one set of changes lets every failing region be met"
    line = advice.summary()
    assert line.startswith(
        "the rules cannot all be met in 4 of 5 regions (region): R2, R3, R4, R5;"
    )
    changes = ", ".join(f"{key}: {value}" for key, value in advice.overrides.items())
    assert f"these changes together let every one of them be met: {changes} (" in line
    assert "SURGERY" not in line and "first change that works" not in line
    alone = replace(advice, overrides={})  # had no one set been found in the time
    firsts = ", ".join(
        f"{region.region} groups.min_list_size: {small[region.region]}"
        for region in advice.failing
    )
    assert [r.best.overrides for r in advice.failing if r.best] == [
        {"groups.min_list_size": patients} for patients in small.values()
    ]
    assert (
        "no one set of changes for them all was found in the time; "
        f"the first change that works in each: {firsts} ("
    ) in alone.summary()
    assert mergeopt.solve(path, overrides=advice.overrides).violations == []
    with pytest.raises(mergeopt.InfeasibleError, match="in 4 of 5 regions") as raised:
        mergeopt.solve(path)
    assert raised.value.overrides == advice.overrides


def test_a_remote_practice_one_region_needs_does_not_block_the_changes_for_all(
    tmp_path: Path,
) -> None:
    """One region needs its island practice to stand alone, the others a lower minimum:
    the changes for them all name the island practice, which is in one region only, and
    still verify in every region (all of England at a 20-minute limit found no set of
    changes for its 25 failing ICBs because of one island practice of ICB QT6)."""
    practices = [(code, x, y, size, "R1") for code, x, y, size in CLUSTER]
    practices += [(f"B{code}", x + 100, y, size, "R3") for code, x, y, size in CLUSTER]
    practices.append(("I1", 200, 0, 5000, "R3"))  # 100 km from the rest of R3
    for k, region in enumerate(("R2", "R4"), start=1):
        practices += [
            (f"{region}A", 60 * k, 50, 10000, region),
            (f"{region}B", 60 * k, 51, 9000, region),
        ]
    path = area(tmp_path, practices, rules__nest_by="region")
    advice = advice_for(path)
    assert [region.region for region in advice.failing] == ["R2", "R3", "R4"]
    assert advice.overrides == {"groups.min_list_size": 19000, "groups.remote": ["I1"]}
    assert mergeopt.solve(path, overrides=advice.overrides).violations == []


def test_a_remote_practice_the_config_names_is_kept_to_its_own_region(tmp_path: Path) -> None:
    """The config lets R3's island practice stand alone; R2 and R4 fail. Each region is
    explained with only its own remote practices (the island's code in R2's config was an
    "unknown practice code" error, not advice)."""
    practices = [(code, x, y, size, "R1") for code, x, y, size in CLUSTER]
    practices += [(f"B{code}", x + 100, y, size, "R3") for code, x, y, size in CLUSTER]
    practices.append(("I1", 200, 0, 5000, "R3"))
    for k, region in enumerate(("R2", "R4"), start=1):
        practices += [
            (f"{region}A", 60 * k, 50, 10000, region),
            (f"{region}B", 60 * k, 51, 9000, region),
        ]
    path = area(tmp_path, practices, rules__nest_by="region", groups__remote=["I1"])
    advice = advice_for(path)
    assert [region.region for region in advice.failing] == ["R2", "R4"]
    assert advice.overrides == {"groups.min_list_size": 19000}
    assert mergeopt.solve(path, overrides=advice.overrides).violations == []


def test_merged_changes_are_checked_first_on_the_grouping_a_region_already_met(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The changes for every failing region relax each one's own, so the grouping that met
    a region's own changes is checked against them without a solve; only when it breaks
    a rule does a solve decide."""
    path = area(tmp_path, [("F1", 0, 0, 10000), ("F2", 0.5, 0, 10000)])  # 20,000 patients
    config = load_config(path)
    search = Search(config, read_practices(config), time.perf_counter() + 60, 10.0)
    own = (Change("groups.min_list_size", 20000),)
    assert search.attempt(own).works and search.held(own) is not None
    solves: list[tuple[Change, ...]] = []

    def attempt(self: Search, changes: tuple[Change, ...]) -> Attempt:
        solves.append(changes)
        return Attempt(works=False, proven=False)

    monkeypatch.setattr(Search, "attempt", attempt)
    looser = (Change("groups.min_list_size", 15000), Change("travel.max_minutes", 30))
    assert _holds(search, looser, own) and solves == []
    stricter = (Change("groups.min_list_size", 25000),)
    assert not _holds(search, stricter, own) and solves == [stricter]


def test_a_config_that_works_has_nothing_to_explain(tmp_path: Path) -> None:
    advice = advice_for(area(tmp_path, CLUSTER))
    assert advice.feasible and advice.failing == [] and advice.overrides == {}


class _Fake:
    """A search whose changes work from index ``first`` on."""

    def __init__(self, first: int) -> None:
        self.first, self.tried = first, []

    def time_left(self) -> float:
        return 60.0

    def attempt(self, changes: tuple[int, ...]) -> Any:
        (k,) = changes
        self.tried.append(k)
        return type("A", (), {"works": k >= self.first, "proven": True})()


@given(count=st.integers(1, 400), data=st.data())
def test_gallop_then_bisect_finds_the_first_that_works(count: int, data: st.DataObject) -> None:
    first = data.draw(st.integers(0, count))  # count: none works
    fake = _Fake(first)
    found = smallest_index(fake, count, lambda k: (k,))  # type: ignore[arg-type]
    if first == count:
        assert found is None
    else:
        assert found == (first, "")
        assert len(set(fake.tried)) <= 2 * count.bit_length() + 2
