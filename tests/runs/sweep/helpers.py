"""Builders shared by the sweep tests: a three-region table, Hull with maps off, and what a
sweep folder holds."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import yaml
from typer.testing import CliRunner

from mergeopt.cli import app
from mergeopt.runs.sweep.table import TIMING_COLUMNS

ROOT = Path(__file__).resolve().parents[3]


HULL = ROOT / "configs" / "hull_pcn.yaml"


runner = CliRunner()


# Three regions of four practices, far apart: each region is a problem of its own.
REGIONS = """practice_code,practice_name,list_size,easting,northing,pcn_code,region
N1,North one,9000,450000,520000,P1,NORTH
N2,North two,8000,452000,521000,P1,NORTH
N3,North three,7000,451000,523000,P2,NORTH
N4,North four,6000,453000,519000,P2,NORTH
M1,Mid one,9500,450000,420000,P3,MID
M2,Mid two,8500,451500,421000,P3,MID
M3,Mid three,6500,449000,422500,P4,MID
M4,Mid four,5500,452500,418500,P4,MID
S1,South one,10000,450000,320000,P5,SOUTH
S2,South two,7000,452000,320500,P5,SOUTH
S3,South three,6000,451000,322000,P6,SOUTH
S4,South four,5000,448500,319000,P6,SOUTH
"""


def regions_config(folder: Path, practices: str = REGIONS, sweep: str = "") -> Path:
    (folder / "practices.csv").write_text(practices)
    path = folder / "regions.yaml"
    path.write_text(
        "name: regions\ninputs:\n  practices: practices.csv\n"
        "groups:\n  min_list_size: 10000\n  max_list_size: 20000\n"
        "travel:\n  model: straight_line\n  max_km: 15\nmaps: false\n" + sweep
    )
    return path


def hull_config(folder: Path, **changes: object) -> Path:
    """hull_pcn.yaml with maps off (and other top-level changes), paths made absolute."""
    data = yaml.safe_load(HULL.read_text())
    data["inputs"] = {k: str((HULL.parent / v).resolve()) for k, v in data["inputs"].items()}
    data["geography"] |= {
        key: str((HULL.parent / data["geography"][key]).resolve()) for key in ("boundary", "lsoa")
    }
    data |= {"maps": False} | changes
    path = folder / "hull_pcn.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def invoke(*args: object) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def run_stamps(folder: Path) -> dict[str, int]:
    """Each scenario's run.json modification time (ns): changes only if solved again.
    Staging folders (``.<scenario>.partial-*``, being written) are not scenarios."""
    found = folder.glob("*/run.json")
    return {
        p.parent.name: p.stat().st_mtime_ns for p in found if not p.parent.name.startswith(".")
    }


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name or ".old-" in p.name)


def comparable(path: Path | pd.DataFrame) -> str:
    """comparison.csv (a path, or the table as loaded) without its timing columns and the
    changes advised, as text."""
    if isinstance(path, pd.DataFrame):
        path = io.StringIO(path.to_csv(index=False))
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    # an infeasible scenario's first change is searched within a time budget, so under
    # load it may settle a larger (still checked) value: compare why, not the change
    table["status_text"] = table["status_text"].str.split("; first change that works").str[0]
    return table.drop(columns=list(TIMING_COLUMNS)).to_csv(index=False)
