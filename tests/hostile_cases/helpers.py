"""What the hostile-input suite shares: a tiny area that solves in a moment, the command
line in this process and as a real process, the checks every case makes (exit code, one
line naming the culprit, nothing half-written, the previous run intact), and the tally
(``conftest.py`` has it printed at the end of a run: each class of hostile input, the
cases tried and how each ended).
"""

from __future__ import annotations

import contextlib
import csv
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mergeopt.cli import app

ROOT = Path(__file__).resolve().parents[2]
TALLY: Counter[str] = Counter()
runner = CliRunner()

#: Six practices a few km apart (EPSG:27700), 1,000-6,000 patients: two groups in a moment.
PRACTICES = [
    {
        "practice_code": f"P0000{k}",
        "practice_name": f"Practice {k}",
        "list_size": 1000 * k,
        "easting": 510_000 + 1500 * k,
        "northing": 430_000 + 700 * (k % 3),
        "pcn_code": f"N{k % 2}",
    }
    for k in range(1, 7)
]


def tally(kind: str, outcome: str) -> None:
    """Count one hostile case of a class, and how it ended."""
    TALLY[f"{kind}: tried"] += 1
    TALLY[f"{kind}: {outcome}"] += 1


def write_area(
    folder: Path, rows: list[dict[str, object]] | None = None, **sections: object
) -> Path:
    """practices.csv and a config ``area.yaml`` reading it (straight-line travel, two
    groups, no maps), with ``sections`` replacing or adding top-level keys."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = PRACTICES if rows is None else rows
    with (folder / "practices.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    config: dict[str, object] = {
        "name": "area",
        "inputs": {"practices": "practices.csv"},
        "groups": {"count": 2},
        "travel": {"model": "straight_line"},
        "maps": False,
        "solver": {"time_limit": 30},
    }
    path = folder / "area.yaml"
    path.write_text(yaml.safe_dump(config | sections, sort_keys=False), encoding="utf-8")
    return path


def invoke(*args: object) -> tuple[int, str, str]:
    """The command line in this process: exit code, standard output, standard error."""
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def command(*args: object, cwd: Path | None = None, **env: str) -> subprocess.Popen[str]:
    """The command line as a real process (``python -m mergeopt``)."""
    return subprocess.Popen(
        [sys.executable, "-m", "mergeopt", *(str(a) for a in args)],
        cwd=cwd,
        env=os.environ | env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def one_line(stderr: str, *culprits: str) -> str:
    """The error line: exactly one, naming every culprit given."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and len(lines) == len(errors), stderr
    for culprit in culprits:
        assert culprit in errors[0], (culprit, errors[0])
    return errors[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below a folder and its bytes (to show it untouched)."""
    if not folder.exists():
        return {}
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def leftovers(folder: Path) -> list[str]:
    """Staging or retired folders left beside a destination."""
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name or ".old-" in p.name)


@contextlib.contextmanager
def mounted_tmpfs(where: Path, *, size: str, read_only: bool = False) -> Iterator[Path]:
    """A small tmpfs at ``where`` (root only; the test is skipped where none can be
    mounted), unmounted afterwards."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    where.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True
    )
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mount.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)
