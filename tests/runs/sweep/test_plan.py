"""Planning a sweep: every combination in order, names, regions split within the selection,
the sweep block validated like the rest."""

from __future__ import annotations

import pytest

from mergeopt._errors import InputError
from mergeopt.config import load_config
from mergeopt.inputs.practices import read_practices
from mergeopt.runs.sweep.plan import plan_sweep
from tests.runs.sweep.helpers import HULL, REGIONS, regions_config


def test_sweep_block_is_validated_like_the_rest(tmp_path):
    config = load_config(
        regions_config(
            tmp_path, sweep="sweep:\n  vary: {groups.count: [1, 2]}\n  split_by: region\n"
        )
    )
    assert config.sweep is not None and config.sweep.vary == {"groups.count": [1, 2]}
    with pytest.raises(InputError, match=r"key 'sweep.bogus': unknown key"):
        load_config(regions_config(tmp_path, sweep="sweep:\n  bogus: 1\n"))
    with pytest.raises(InputError, match=r"vary key 'groups.cont': no such key 'cont'"):
        load_config(regions_config(tmp_path, sweep="sweep:\n  vary: {groups.cont: [1]}\n"))
    with pytest.raises(InputError, match=r"key 'sweep.workers'"):
        load_config(regions_config(tmp_path, sweep="sweep:\n  workers: 0\n"))


def test_plan_is_every_combination_in_order():
    plan = plan_sweep(HULL, vary={"groups.count": [7, 8], "travel.max_minutes": [15, 20]})
    assert [s.name for s in plan] == [
        "count=7+max_minutes=15",
        "count=7+max_minutes=20",
        "count=8+max_minutes=15",
        "count=8+max_minutes=20",
    ]
    last = plan[-1].config
    assert (last.groups.count, last.travel.max_minutes) == (8, 20)
    assert plan[-1].values == {"groups.count": 8, "travel.max_minutes": 20}
    # one solver thread per scenario (the config sets none); the sweep block is dropped
    assert last.solver.threads == 1 and last.sweep is None
    # the config's own settings are kept
    assert last.groups.max_list_size == 50_000 and last.premises.rule == "floor_area"


def test_a_key_given_one_value_is_a_setting_not_part_of_the_names():
    plan = plan_sweep(HULL, vary={"groups.count": [7, 8], "maps": [False]})
    assert [s.name for s in plan] == ["count=7", "count=8"]
    assert [s.config.maps for s in plan] == [False, False]
    assert [s.name for s in plan_sweep(HULL, vary={"maps": [False]})] == ["maps=false"]


def test_split_by_selects_each_region_and_keeps_row_numbers(tmp_path):
    config = load_config(regions_config(tmp_path))
    plan = plan_sweep(config, split_by="region", vary={"groups.count": [1, 2]})
    assert [s.name for s in plan] == [
        "region=MID+count=1",
        "region=MID+count=2",
        "region=NORTH+count=1",
        "region=NORTH+count=2",
        "region=SOUTH+count=1",
        "region=SOUTH+count=2",
    ]
    north = read_practices(plan[2].config)
    assert list(north.index) == ["N1", "N2", "N3", "N4"]
    # a bad row in the selected region is named by its row in the file
    bad = REGIONS.replace("S3,South three,6000", "S3,South three,-5")
    chosen = load_config(regions_config(tmp_path, bad)).with_overrides(
        **{"inputs.select": {"region": ["SOUTH"]}}
    )
    with pytest.raises(InputError, match=r"column 'list_size' must be above 0 in row 12"):
        read_practices(chosen)
    with pytest.raises(InputError, match=r"no practice has region in \['WEST'\]"):
        read_practices(chosen.with_overrides(**{"inputs.select": {"region": ["WEST"]}}))


def test_split_by_column_with_empty_cells_is_refused(tmp_path):
    holes = REGIONS.replace("P2,NORTH\nM1", "P2,\nM1")
    with pytest.raises(InputError, match=r"column 'region' is empty in rows 5"):
        plan_sweep(regions_config(tmp_path, holes), split_by="region")


def test_split_by_within_a_selection_uses_the_one_selection(tmp_path):
    """The regions of a split are taken within ``inputs.select`` exactly as a run selects:
    a column it names that is missing is an error (it was ignored, and every region of the
    file planned), and an empty cell is named by its row in the file."""
    config = load_config(regions_config(tmp_path))
    missing = config.with_overrides(**{"inputs.select": {"zone": ["A"]}})
    with pytest.raises(InputError, match=r"missing column 'zone' named by inputs\.select"):
        plan_sweep(missing, split_by="region")
    holes = REGIONS.replace(
        "M3,Mid three,6500,449000,422500,P4,", "M3,Mid three,6500,449000,422500,,"
    )
    mid = load_config(regions_config(tmp_path, holes)).with_overrides(
        **{"inputs.select": {"region": ["MID"]}}
    )
    with pytest.raises(InputError, match=r"column 'pcn_code' is empty in rows 8:"):
        plan_sweep(mid, split_by="pcn_code")
    nothing = config.with_overrides(**{"inputs.select": {"region": ["WEST"]}})
    with pytest.raises(InputError, match=r"no practice has region in \['WEST'\]"):
        plan_sweep(nothing, split_by="pcn_code")
