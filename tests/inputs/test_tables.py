"""The one CSV reader of every table: encodings and separators as Excel and scripts save
them, rows numbered as a spreadsheet shows them, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from mergeopt._errors import InputError
from mergeopt.inputs.tables import read_csv, read_table

TEXT = 'code,name,size\nA1, Alpha ,10\nB2,"Beta, the second",20\n'


@pytest.mark.parametrize(
    ("separator", "encoding"),
    [(",", "utf-8"), (",", "utf-8-sig"), (";", "cp1252"), ("\t", "utf-16"), (";", "utf-16")],
)
def test_every_form_excel_saves_reads_the_same(tmp_path: Path, separator: str, encoding: str):
    path = tmp_path / "t.csv"
    text = TEXT.replace(",", separator).replace(f"Beta{separator} the", "Beta, the")
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    table = read_csv(path)
    assert list(table.columns) == ["code", "name", "size"]
    assert table.to_dict("list") == {
        "code": ["A1", "B2"],
        "name": ["Alpha", "Beta, the second"],
        "size": ["10", "20"],
    }
    assert list(table.index) == [2, 3]  # the header is row 1


def test_blank_rows_are_skipped_but_counted(tmp_path: Path):
    path = tmp_path / "t.csv"
    path.write_text("\n\ncode,size\nA1,1\n\n,\nB2,2\n")
    table = read_csv(path)
    assert table["code"].tolist() == ["A1", "B2"]
    assert list(table.index) == [4, 7]
    assert read_csv(path, header=False).iloc[0].tolist() == ["code", "size"]


def test_a_file_holding_a_nul_reads_blank_and_short_rows_as_empty_cells(tmp_path: Path):
    """A NUL byte sends the file to pandas' Python reader, which gave None, not "", for
    the cells of a blank or short row: the blank row was kept and a practice code was
    None (a TypeError, not a one-line error, from a fuzzed NHS mapping file)."""
    path = tmp_path / "t.csv"
    path.write_bytes(b"code,size,name\n\n\x00,1,x\nB2\n")
    table = read_csv(path)
    assert table.to_dict("list") == {"code": ["\x00", "B2"], "size": ["1", ""], "name": ["x", ""]}
    assert list(table.index) == [3, 4]


def test_names_are_stripped_of_spaces_and_byte_order_marks(tmp_path: Path):
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeff code , size\nA1,1\n".encode())
    assert list(read_csv(path).columns) == ["code", "size"]
    assert list(read_csv(path, names=str.upper).columns) == ["CODE ", "SIZE"]  # as written


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", r"t\.csv: the file is empty"),
        (b"code,code\nA1,B2\n", r"t\.csv: column 'code' appears 2 times in the header"),
        (b"code,size\nA1,1,extra\n", r"t\.csv: cannot be read as CSV: line 2 has more fields"),
        (b"code,size\nA1,1\nB2,2,3\n", r"t\.csv: cannot be read as CSV: .*Expected 2 fields"),
        ("code\nA1\n".encode("utf-16")[:-1], r"t\.csv: .*not valid UTF-16 \(wrong encoding\)"),
    ],
    ids=["empty", "repeated-name", "long-first-row", "long-row", "broken-utf16"],
)
def test_unreadable_files_are_one_line_errors(tmp_path: Path, data: bytes, match: str):
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    with pytest.raises(InputError, match=match) as caught:
        read_csv(path)
    assert "\n" not in str(caught.value)


def test_missing_file_and_unknown_format(tmp_path: Path):
    with pytest.raises(InputError, match=r"nowhere\.csv: travel matrix not found"):
        read_csv(tmp_path / "nowhere.csv", what="travel matrix")
    (tmp_path / "t.xlsx").write_bytes(b"x")
    with pytest.raises(InputError, match=r"t\.xlsx: unsupported format '\.xlsx'"):
        read_table(tmp_path / "t.xlsx")
    (tmp_path / "t.csv").write_text("code,size\nA1,\n")
    assert read_table(tmp_path / "t.csv").loc[2, "size"] is None  # empty cells are None
