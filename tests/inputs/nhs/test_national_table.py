"""The shipped national table is what its build script makes from the shipped NHS files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from mergeopt.inputs.nhs.assembly import write_prepared

ROOT = Path(__file__).resolve().parents[3]
ENGLAND = ROOT / "data" / "england"


def test_the_shipped_national_table_is_rebuilt_byte_for_byte(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("england_build", ENGLAND / "build.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    table, report = write_prepared(build.build(), tmp_path / "practices.csv")
    assert table.read_bytes() == (ENGLAND / "practices.csv").read_bytes()
    assert report.read_bytes() == (ENGLAND / "practices_excluded.csv").read_bytes()
    header, first = report.read_text().splitlines()[:2]
    assert header == "practice_code,practice_name,list_size,reason"
    assert first.split(",")[2].isdigit()  # whole patients, not 8631.0
