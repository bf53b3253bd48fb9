"""The config: YAML validated by its schema, one-line errors naming the file and the key,
overrides re-validated, and paths resolved against the config's folder and checked."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mergeopt._errors import InputError
from mergeopt.config import Config, load_config
from mergeopt.inputs.practices import read_practices
from tests.builders import write_config
from tests.hostile import GOOD_ROW, HEADER, TALLY, check_table

ROOT = Path(__file__).resolve().parents[1]


def test_paths_resolve_relative_to_the_config(tmp_path, monkeypatch):
    path = write_config(tmp_path, "")
    monkeypatch.chdir("/")
    assert load_config(path).inputs.practices == tmp_path / "practices.csv"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("colour: blue\n", r"config.yaml: key 'colour': unknown key"),
        (
            "groups:\n  min_list_size: 50000\n  max_list_size: 30000\n",
            r"key 'groups': min_list_size \(50,000\) is above max_list_size \(30,000\)",
        ),
        (
            "groups:\n  count: {min: 9, max: 6}\n",
            r"key 'groups.count.*min \(9\) is above max \(6\)",
        ),
        ("travel:\n  max_minutes: -5\n", r"key 'travel.max_minutes'"),
        ("solver:\n  name: gurobi\n", r"key 'solver.name'"),
        ("groups: [1, 2\n", r"config.yaml: line \d+ is not valid YAML"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, text, match):
    with pytest.raises(InputError, match=match):
        load_config(write_config(tmp_path, text))


def test_missing_config_file(tmp_path):
    with pytest.raises(InputError, match=r"nope.yaml: cannot read config"):
        load_config(tmp_path / "nope.yaml")


def test_overrides_are_validated():
    config = Config.model_validate({"name": "t", "inputs": {"practices": "p.csv"}})
    with pytest.raises(InputError, match=r"key 'groups.colour': no such key"):
        config.with_overrides(**{"groups.colour": 1})
    with pytest.raises(InputError, match=r"key 'groups.count'"):
        config.with_overrides(**{"groups.count": "many"})


def test_config_paths_are_checked_and_named_by_key(tmp_path):
    path = write_config(tmp_path, "")
    path.write_text(path.read_text().replace("practices.csv", "missing.csv"))
    with pytest.raises(
        InputError, match=r"config.yaml: key 'inputs.practices': no such file .*missing.csv"
    ):
        load_config(path)


def test_a_config_names_one_source_of_practices(tmp_path: Path) -> None:
    from mergeopt.config import load_config

    text = (ROOT / "configs/hull_pcn_from_nhs_files.yaml").read_text()
    both = text.replace("inputs:\n", f"inputs:\n  practices: {ROOT / 'data/hull/practices.csv'}\n")
    path = tmp_path / "both.yaml"
    path.write_text(both.replace("../data", str(ROOT / "data")))
    with pytest.raises(InputError, match=r"both.yaml.*inputs.*either practices .* or nhs"):
        load_config(path)


yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats()
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


numbers = (
    st.floats() | st.integers(-5, 10**7) | st.sampled_from([0, 1e-9, 1e300, math.inf, math.nan])
)


counts = st.integers(-1, 12) | st.fixed_dictionaries(
    {}, optional={"min": st.integers(-1, 12) | st.none(), "max": st.integers(-1, 12)}
)


codes = st.lists(st.sampled_from(["A1", "a1 ", "ZZ9", ""]), max_size=3)


#: Keys of README.md's config reference that take a value alone (no file), by section,
#: each with values of its own kind (in range or not), so that most fuzzed configs load
#: and what loads is checked.
CONFIG_KEYS = {
    ("groups", "min_list_size"): numbers | st.booleans(),
    ("groups", "max_list_size"): numbers | st.booleans(),
    ("groups", "count"): counts | st.booleans(),
    ("groups", "oversize"): st.sampled_from(["alone", "stop", "ALONE", "drop"]),
    ("groups", "remote"): st.sampled_from(["alone", "stop", "Alone", "all"]) | codes,
    ("travel", "model"): st.sampled_from(["road", "straight_line", "Road", "osrm"]),
    ("travel", "max_minutes"): numbers,
    ("travel", "max_km"): numbers,
    ("premises", "rule"): st.sampled_from(["none", "capacity", "floor_area", "area"]),
    ("premises", "m2_per_patient"): numbers,
    ("rules", "fixed"): st.lists(
        st.fixed_dictionaries({"hub": st.just("A1"), "practices": codes})
    ),
    ("rules", "forced_hubs"): codes,
    ("rules", "forbidden_hubs"): codes,
    ("rules", "must_link"): st.lists(st.tuples(st.just("A1"), st.sampled_from(["A1", "B2"]))),
    ("rules", "cannot_link"): st.lists(st.lists(st.just("A1"), max_size=3)),
    ("rules", "nest_by"): st.sampled_from(["pcn_code", "icb_code", ""]) | st.none(),
    ("objective", "travel"): numbers,
    ("objective", "weight_by_list_size"): st.booleans() | st.sampled_from(["yes", 0, 2]),
    ("objective", "moved_patients"): numbers,
    ("objective", "groups"): numbers,
    ("objective", "max_travel"): numbers,
    ("solver", "name"): st.sampled_from(["highs", "cbc", "gurobi"]),
    ("solver", "time_limit"): numbers,
    ("solver", "gap"): numbers,
    ("solver", "threads"): numbers,
    ("solver", "log"): st.booleans(),
    ("inputs", "location"): st.sampled_from(["auto", "bng", "latlong", "geometry", "utm"]),
    ("inputs", "columns"): st.fixed_dictionaries({}, optional={"name": st.just("pcn_code")}),
    ("inputs", "select"): st.dictionaries(
        st.sampled_from(["pcn_code", "nope"]), codes, max_size=1
    ),
}


@st.composite
def config_entries(draw: st.DrawFn) -> tuple[str, str, object]:
    """A section, a key and a value: mostly a real key with a value of its kind; at
    times an unknown key, or any YAML value."""
    if draw(st.integers(0, 9)) == 0:
        section = draw(st.sampled_from(["groups", "solver", "rules", "zzz"]))
        return section, draw(st.sampled_from(["name", "x", "counts"])), draw(yaml_values)
    section, key = draw(st.sampled_from(sorted(CONFIG_KEYS)))
    values = CONFIG_KEYS[(section, key)]
    return section, key, draw(values if draw(st.integers(0, 4)) else yaml_values)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entry=config_entries())
def test_fuzzed_configs_fail_clearly_or_load(tmp_path, entry):
    section, key, value = entry
    (tmp_path / "practices.csv").write_text(",".join(HEADER) + "\n" + ",".join(GOOD_ROW) + "\n")
    data = {"name": "t", "inputs": {"practices": "practices.csv"}}
    data.setdefault(section, {})
    if isinstance(data[section], dict):
        data[section][key] = value
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    TALLY["fuzzed configs tried"] += 1
    try:
        config = load_config(path)
        table = read_practices(config)
    except InputError as exc:
        message = str(exc)
        assert "\n" not in message
        assert "c.yaml" in message or "practices.csv" in message
        TALLY["fuzzed configs: clear one-line error"] += 1
    else:
        _loaded_as_given(config, section, key, value, tmp_path)
        check_table(table)
        TALLY["fuzzed configs: loaded, as given, and read back from run.json's form"] += 1


def _loaded_as_given(config, section: str, key: str, value: object, folder: Path) -> None:
    """A config that loads holds the key it was given, with the value given (a scalar,
    equal as a number where the schema makes it one), and reads back as the same config
    from the strict JSON that run.json and a sweep's workers hold."""
    dumped = config.model_dump(mode="json")
    assert section in dumped and isinstance(dumped[section], dict) and key in dumped[section]
    loaded = getattr(getattr(config, section), key)
    if value is None or isinstance(value, (bool, int, float)) or isinstance(loaded, str):
        assert loaded == value  # "yes" for a yes/no key is read as yes: not compared
    text = json.dumps(dumped, allow_nan=False)  # raises for a value JSON cannot hold
    again = folder / "again.yaml"
    again.write_text(text)
    assert load_config(again).model_dump() == config.model_dump()


def test_yaml_is_loaded_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text(
        "name: !!python/object/apply:os.system ['echo pwned']\ninputs: {practices: p.csv}\n"
    )
    TALLY["unsafe YAML tried"] += 1
    with pytest.raises(InputError, match=r"evil\.yaml: line 1 is not valid YAML"):
        load_config(path)
    TALLY["unsafe YAML: refused"] += 1


def test_a_config_rebuilt_from_data_knows_its_source(tmp_path):
    """As a run directory or a sweep task holds a config: the data and the file it came
    from; '<config>' (unknown) stays unknown."""
    from mergeopt.config import Config

    config = load_config(write_config(tmp_path, ""))
    data = config.model_dump(mode="json")
    again = Config.from_data(data, source=config.source)
    assert again == config and again.source == config.source
    assert Config.from_data(data, source="<config>").source == "<config>"
    assert Config.from_data(data).source == "<config>"


def test_every_schema_problem_at_once_with_did_you_mean(tmp_path):
    from mergeopt._errors import InputError
    from mergeopt.config import load_config

    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: x\n"
        "inputs: {practices: p.csv}\n"
        "groups: {min_lst_size: 30000, cont: 8}\n"
        "travel: {max_minutes: -3}\n"
        "solvr: {time_limit: 5}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        load_config(path)
    text = str(caught.value)
    assert "\n" not in text and "more problem" not in text
    assert "key 'groups.min_lst_size': unknown key (did you mean 'min_list_size'?)" in text
    assert "key 'groups.cont': unknown key (did you mean 'count'?)" in text
    assert "key 'solvr': unknown key (did you mean 'solver'?)" in text
    assert "key 'travel.max_minutes'" in text


def test_a_key_far_from_any_gets_no_guess():
    from mergeopt.config import config_key_problem

    assert config_key_problem("groups.zzzz") == "no such key 'zzzz' in 'groups'"


def test_schema_describes_every_field_and_accepts_the_shipped_configs():
    import jsonschema
    from typer.testing import CliRunner

    from mergeopt.cli import app
    from mergeopt.schema import undescribed

    printed = CliRunner().invoke(app, ["schema"])
    assert printed.exit_code == 0
    schema = json.loads(printed.stdout)
    assert undescribed(schema) == []
    for config in sorted((ROOT / "configs").glob("*.yaml")):
        jsonschema.validate(yaml.safe_load(config.read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "inputs": {"practices": "p.csv"}, "grops": {}}, schema)


def test_the_england_config_names_every_practice_that_can_reach_no_group():
    """The England config's comment lists, by ICB, the practices that reach no group of
    the minimum list size within the travel limit (what makes those ICBs infeasible);
    a new practices table or travel model that changes them must change the comment."""
    import re

    import numpy as np

    from mergeopt.runs.advice.search import isolated
    from mergeopt.runs.problem import prepare_problem

    path = ROOT / "configs/england_pcn.yaml"
    named: dict[str, set[str]] = {}
    icb = None
    for line in path.read_text().splitlines():
        if not line.startswith("#   "):
            continue
        header = re.match(r"#\s+(Q[A-Z0-9]{2}) ", line)
        if header:
            icb = header.group(1)
        assert icb is not None, line
        named.setdefault(icb, set()).update(re.findall(r"\b[A-Z]\d{5}\b", line))
    assert len(named) >= 2  # the comment's form was read

    problem, _ = prepare_problem(load_config(path))
    stranded = problem.practices.iloc[np.flatnonzero(isolated(problem))]
    found: dict[str, set[str]] = {}
    for code, region in stranded["region"].items():
        found.setdefault(str(region), set()).add(str(code))
    assert found == named
