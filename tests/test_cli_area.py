"""The journey from an area code on the command line: init, run, explain, compare."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mergeopt.cli import app
from mergeopt.runs.areas import CCG_LAYER

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_init_then_run_is_the_whole_journey(here: Path) -> None:
    code, out = invoke("init", "--sub-icb", "03F")
    assert code == 0, out
    assert "next: mergeopt run areas/03F/pcn.yaml" in out
    code, out = invoke("run", "areas/03F/pcn.yaml")
    assert code == 0, out
    assert "optimal" in out and "get new group companions" in out
    assert "list sizes of 2026-02" in out
    record = json.loads((here / "runs" / "03F_pcn" / "run.json").read_text())
    assert record["list_size_dates"] == ["2026-02"]
    assert record["metrics"]["practices_regrouped"] >= record["metrics"]["practices_moved"]


def test_unknown_area_code_is_exit_2_and_writes_nothing(here: Path) -> None:
    code, out = invoke("init", "--sub-icb", "03Z")
    assert code == 2
    assert "sub-ICB code 03Z matches no practice" in out
    assert len(out.strip().splitlines()) == 1
    assert not (here / "areas").exists()


def test_explain_exits_3_with_ranked_checked_changes(here: Path) -> None:
    invoke("init", "--sub-icb", "11X")
    code, out = invoke("explain", "areas/11X/pcn.yaml")
    assert code == 3, out
    assert out.startswith("areas/11X/pcn.yaml: the rules cannot all be met")
    assert "1. travel limit 20 -> 28 minutes (27 minutes proven too short)" in out
    assert "degenerate: groups of under half the minimum" in out
    code, out = invoke("run", "areas/11X/pcn.yaml")
    assert code == 3
    assert "first change that works: travel limit 20 -> 28 minutes" in out
    assert not (here / "runs").exists()


def test_explain_has_nothing_to_say_when_the_rules_hold(here: Path) -> None:
    invoke("init", "--sub-icb", "03F")
    code, out = invoke("explain", "areas/03F/pcn.yaml")
    assert code == 0
    assert "the rules can all be met; nothing to explain" in out


def test_compare_puts_today_beside_the_proposal(here: Path) -> None:
    invoke("init", "--sub-icb", "03F")
    code, out = invoke("compare", "areas/03F/pcn.yaml")
    assert code == 0, out
    for figure in (
        "rules broken",
        "practices whose hub is outside their network",
        "practices with new group companions",
        "patients whose practice leaves its network",
    ):
        assert figure in out
    assert "today's networks break 2 rule(s)" in out
    assert not (here / "runs").exists()  # compare writes nothing


def test_validate_names_every_misfit_in_one_message(here: Path) -> None:
    invoke("init", "--sub-icb", "03F")
    config = here / "areas" / "03F" / "pcn.yaml"
    text = (
        config.read_text()
        .replace("boundary: boundary.geojson", f"boundary: {CCG_LAYER}")
        .replace("[E38000085]", "[E38000150]")  # Somerset's boundary, from the national layer
    )
    config.write_text(text)
    code, out = invoke("validate", str(config))
    assert code == 2
    assert "the boundary does not reach any of the 25 practices: B81631 (305.9 km)" in out


def _quoted_explain() -> tuple[str, list[str]]:
    """The `mergeopt explain` command quoted in the README, and the output it shows."""
    text = README.read_text()
    start = text.index("$ mergeopt explain ")
    block = text[start : text.index("```", start)].splitlines()
    return block[0].removeprefix("$ mergeopt explain ").strip(), block[1:]


def test_the_readme_quotes_what_explain_prints(here: Path) -> None:
    config, quoted = _quoted_explain()
    invoke("init", "--sub-icb", config.split("/")[1])
    _, out = invoke("explain", config)
    printed = out.rstrip("\n").splitlines()

    # the search's time and a change's plan (the best grouping a short solve finds) vary
    # with the machine's load; every other line is printed as quoted
    def steady(lines: list[str]) -> list[str]:
        return [line for line in lines if not line.lstrip().startswith(("searched for", "plan:"))]

    assert steady(printed) == steady(quoted)
