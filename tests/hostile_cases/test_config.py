"""Hostile configs: a key given twice, a boolean where a number goes, a control character
in a practice code, a practice linked with itself, an empty file.

Every case runs ``mergeopt run`` and asserts exit code 2, one error line naming the file
and the key (and the lines or practice), and nothing written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.hostile_cases.helpers import invoke, one_line, snapshot, tally, write_area

KIND = "config"


@pytest.fixture
def area(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return write_area(tmp_path / "area")


def _refused(config: Path, *culprits: str) -> str:
    before = snapshot(config.parent.parent)
    code, _, stderr = invoke("run", config)
    assert code == 2, stderr
    line = one_line(stderr, str(config), *culprits)
    assert snapshot(config.parent.parent) == before  # nothing written, no runs/ folder
    return line


def test_a_key_given_twice_is_refused_with_both_lines(area):
    """PyYAML keeps the last of two equal keys without a word."""
    text = area.read_text().replace("  count: 2\n", "  count: 2\n  count: 3\n")
    area.write_text(text)
    first = text.splitlines().index("  count: 2") + 1
    _refused(area, "key 'groups.count'", f"lines {first} and {first + 1}")
    area.write_text(text.replace("  count: 3\n", "") + "maps: true\n")
    _refused(area, "key 'maps'", "given twice")
    tally(KIND, "refused: key given twice")


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("travel", "max_km", True),
        ("groups", "count", True),
        ("groups", "min_list_size", False),
        ("solver", "time_limit", True),
        ("solver", "threads", True),
        ("solver", "seed", True),
    ],
)
def test_a_boolean_is_not_a_number(area, section, key, value):
    """``max_minutes: true`` was read as 1 minute."""
    config = yaml.safe_load(area.read_text())
    config[section][key] = value
    area.write_text(yaml.safe_dump(config))
    _refused(area, f"key '{section}.{key}'", f"{str(value).lower()} is not a number")
    tally(KIND, "refused: boolean as a number")


def test_a_negative_seed_is_refused(area):
    config = yaml.safe_load(area.read_text())
    config["solver"]["seed"] = -1
    area.write_text(yaml.safe_dump(config))
    _refused(area, "key 'solver.seed'")
    tally(KIND, "refused: negative seed")


def test_a_control_character_in_a_code_of_the_config_is_refused(area):
    area.write_text(area.read_text() + 'rules:\n  forced_hubs: ["P0\\0001"]\n')
    _refused(area, "key 'rules.forced_hubs.0'", "control character")
    tally(KIND, "refused: control character in a code")


@pytest.mark.parametrize("rule", ["must_link", "cannot_link"])
def test_a_practice_linked_with_itself_is_refused(area, rule):
    """A must-link of a practice with itself made the solver fail (std::bad_alloc)."""
    area.write_text(area.read_text() + f"rules:\n  {rule}: [[P00002, P00002]]\n")
    _refused(area, f"key 'rules.{rule}'", "P00002 with itself")
    tally(KIND, "refused: self-link")


@pytest.mark.parametrize("text", ["", "\n# nothing yet\n", "---\n"])
def test_an_empty_config_says_so(area, text):
    """An empty config's error spoke of NoneType."""
    area.write_text(text)
    line = _refused(area, "the config file is empty")
    assert "NoneType" not in line
    tally(KIND, "refused: empty file")
