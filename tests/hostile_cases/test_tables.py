"""Hostile tables: the fault is named as the fault of the file that holds it.

A bad value in the premises table is the premises file's, at its row; the practices
table's own faults (no rows, codes given twice, control characters) are reported before
it is joined with the premises table; ``inputs.select`` is spoken of only when the config
has one; an Excel workbook renamed ``.csv`` is named as such; a table saved with
semicolons is read. Each case asserts exit code 2, one line naming the culprit, and
nothing written.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from tests.hostile_cases.helpers import PRACTICES, invoke, one_line, snapshot, tally, write_area

KIND = "tables"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path / "area"


def _premises(folder: Path, rows: list[dict[str, object]]) -> Path:
    path = folder / "premises.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _with_premises(folder: Path, practices: list[dict[str, object]] | None = None) -> Path:
    config = write_area(folder, practices)
    _premises(
        folder,
        [
            {"practice_code": row["practice_code"], "premises_capacity": 50_000,
             "hub_eligibility": "may"}
            for row in PRACTICES
        ],
    )  # fmt: skip
    data = yaml.safe_load(config.read_text())
    data["inputs"]["premises"] = "premises.csv"
    data["premises"] = {"rule": "capacity"}
    config.write_text(yaml.safe_dump(data))
    return config


def _refused(config: Path, *culprits: str) -> str:
    before = snapshot(config.parent.parent)
    code, _, stderr = invoke("run", config)
    assert code == 2, stderr
    line = one_line(stderr, *culprits)
    assert snapshot(config.parent.parent) == before
    return line


def test_a_bad_premises_value_is_the_premises_files_fault(folder):
    """A bad hub_eligibility in the premises file was blamed on the practices table."""
    config = _with_premises(folder)
    rows = list(csv.DictReader((folder / "premises.csv").open(encoding="utf-8")))
    rows[3]["hub_eligibility"] = "perhaps"
    _premises(folder, rows)
    line = _refused(config, "premises.csv", "hub_eligibility", "row 5")
    assert "practices.csv" not in line
    tally(KIND, "premises fault named as the premises file's")


def test_a_practice_missing_from_the_premises_file_is_named(folder):
    config = _with_premises(folder)
    rows = list(csv.DictReader((folder / "premises.csv").open(encoding="utf-8")))
    _premises(folder, rows[:-1])
    line = _refused(config, "premises.csv", "no row for practice(s) P00006")
    assert "practices.csv" not in line
    tally(KIND, "premises fault named as the premises file's")


def test_duplicated_codes_are_the_practices_tables_before_the_join(folder):
    """Duplicated codes in the practices table were reported as a premises join error."""
    practices = [*PRACTICES[:5], PRACTICES[0]]
    config = _with_premises(folder, practices)
    line = _refused(config, "practices.csv", "duplicated codes", "rows 2, 7")
    assert "premises.csv" not in line
    tally(KIND, "practices fault named before the join")


def test_a_practices_table_with_no_rows_says_so(folder):
    """No rows was reported as a premises join error, or as inputs.select."""
    config = _with_premises(folder)
    table = folder / "practices.csv"
    table.write_text(table.read_text().splitlines()[0] + "\n")
    line = _refused(config, "practices.csv", "no rows")
    assert "inputs.select" not in line and "premises.csv" not in line
    tally(KIND, "practices fault named before the join")


@pytest.mark.parametrize("column", ["practice_code", "practice_name"])
@pytest.mark.parametrize("character", ["\0", "\x01", "\t"])
def test_a_control_character_in_a_code_or_name_is_refused_with_its_row(folder, column, character):
    """A NUL byte in a practice code cut the code short and the run succeeded."""
    rows = [dict(row) for row in PRACTICES]
    rows[2][column] = f"{rows[2][column][:3]}{character}{rows[2][column][3:]}"
    config = write_area(folder, rows)
    _refused(config, "practices.csv", f"column '{column}'", "control character", "row 4")
    tally(KIND, "control character refused with its row")


def test_an_excel_workbook_named_csv_is_named_as_such(folder):
    config = write_area(folder)
    (folder / "practices.csv").write_bytes(b"PK\x03\x04\x14\x00\x06\x00 [Content_Types].xml")
    _refused(config, "practices.csv", "Excel workbook")
    tally(KIND, "Excel workbook named .csv recognised")


def test_a_table_saved_with_semicolons_is_read(folder):
    config = write_area(folder)
    table = folder / "practices.csv"
    table.write_text(table.read_text().replace(",", ";"))
    code, _, stderr = invoke("run", config)
    assert code == 0, stderr
    tally(KIND, "semicolons read")


def test_no_select_never_speaks_of_select(folder):
    config = write_area(folder)
    table = folder / "practices.csv"
    table.write_text("practice_code,practice_name\n")
    line = _refused(config, "practices.csv")
    assert "inputs.select" not in line
    tally(KIND, "no inputs.select named without one")
