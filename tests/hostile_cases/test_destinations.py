"""Hostile destinations: ``--force`` replaces only what mergeopt wrote, never a user's
folder; destinations checked before any solve; a full or read-only disk while writing;
two forced runs to one folder at once; staging folders of killed runs.

Every case asserts the exit code, one error line naming the culprit, nothing
half-written and whatever was there before intact.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import mergeopt.runs.folders as folders
import mergeopt.runs.rundir as rundir
from tests.hostile_cases.helpers import (
    command,
    invoke,
    leftovers,
    mounted_tmpfs,
    one_line,
    snapshot,
    tally,
    write_area,
)

KIND = "destination"


@pytest.fixture
def area(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config in tmp_path/work (the working directory), HOME in tmp_path/home."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    work = tmp_path / "work"
    config = write_area(work)
    monkeypatch.chdir(work)
    return config


@pytest.fixture
def previous(area: Path) -> Path:
    """A run directory written by an earlier run: runs/area."""
    code, _, stderr = invoke("run", area)
    assert code == 0, stderr
    return area.parent / "runs" / "area"


# --- what --force may replace -----------------------------------------------------------


@pytest.mark.parametrize("name", [".", "..", "a/b", "../up", "-rf", ".hidden", "x" * 101, ""])
def test_a_config_name_that_is_not_one_folder_name_is_refused(area, previous, name):
    """``name: .`` once replaced the runs folder itself (every other run deleted);
    ``name: ..`` gave a traceback."""
    write_area(area.parent, name=name)
    (previous.parent / "other").mkdir()
    (previous.parent / "other" / "keep.txt").write_text("a colleague's run")
    before = snapshot(area.parent)
    code, _, stderr = invoke("run", area, "--force")
    assert code == 2
    one_line(stderr, "area.yaml", "key 'name'")
    assert snapshot(area.parent) == before
    tally(KIND, "refused: config name not one folder name")


@pytest.mark.parametrize(
    ("out", "culprit"),
    [
        (".", "the working directory"),
        ("..", "a parent of the working directory"),
        ("runs", "the runs folder"),
        ("{home}", "the home directory"),
        ("/", "filesystem root"),
    ],
    ids=["cwd", "parent-of-cwd", "runs-folder", "home", "root"],
)
def test_force_never_replaces_a_protected_folder(area, previous, tmp_path, out, culprit):
    target = out.format(home=tmp_path / "home")
    (tmp_path / "home" / "thesis.docx").write_text("years of work")
    before = snapshot(tmp_path)
    code, _, stderr = invoke("run", area, "--out", target, "--force")
    assert code == 2
    one_line(stderr, culprit)
    assert snapshot(tmp_path) == before
    tally(KIND, "refused: protected folder")


def test_force_never_replaces_a_folder_mergeopt_did_not_write(area, tmp_path):
    """``--force`` onto a folder of spreadsheets deleted it."""
    sheets = tmp_path / "sheets"
    sheets.mkdir()
    (sheets / "budget.xlsx").write_bytes(b"PK\x03\x04 a workbook")
    (sheets / "run.json").write_text('{"mine": true}')  # a run.json, but not mergeopt's
    before = snapshot(sheets)
    code, _, stderr = invoke("run", area, "--out", sheets, "--force")
    assert code == 2
    one_line(stderr, str(sheets), "not a run directory mergeopt wrote", "not written by mergeopt")
    assert snapshot(sheets) == before
    (sheets / "run.json").unlink()
    code, _, stderr = invoke("run", area, "--out", sheets, "--force")
    assert code == 2 and "no run.json" in one_line(stderr, str(sheets))
    tally(KIND, "refused: not a run directory")


def test_force_keeps_a_run_directory_holding_a_users_file(area, previous):
    (previous / "notes.docx").write_text("the board's comments")
    before = snapshot(previous)
    code, _, stderr = invoke("run", area, "--force")
    assert code == 2
    one_line(stderr, "runs/area", "files mergeopt did not write: notes.docx")
    assert snapshot(previous) == before
    tally(KIND, "refused: run directory holding a user's file")


def test_force_replaces_a_run_directory_mergeopt_wrote(area, previous):
    record = json.loads((previous / "run.json").read_text())
    assert record["written_by"] == "mergeopt"
    assert record["files"] == ["assignments.csv", "groups.csv", "run.json"]
    (previous / ".DS_Store").write_bytes(b"\0")  # a file manager's, not the user's work
    code, _, stderr = invoke("run", area, "--force")
    assert code == 0, stderr
    assert json.loads((previous / "run.json").read_text())["created"] >= record["created"]
    assert leftovers(previous.parent) == []
    tally(KIND, "replaced: a run directory mergeopt wrote")


def test_force_replaces_a_run_directory_of_an_earlier_version(area, previous):
    """run.json before ``written_by`` and ``files``: recognised by its own fields."""
    record = json.loads((previous / "run.json").read_text())
    del record["written_by"], record["files"]
    (previous / "run.json").write_text(json.dumps(record))
    code, _, stderr = invoke("run", area, "--force")
    assert code == 0, stderr
    tally(KIND, "replaced: a run directory of an earlier version")


def test_force_replaces_an_empty_folder(area, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, stderr = invoke("run", area, "--out", empty, "--force")
    assert code == 0, stderr
    assert (empty / "run.json").is_file()
    tally(KIND, "replaced: an empty folder")


def test_without_force_an_existing_run_is_kept(area, previous):
    before = snapshot(previous)
    code, _, stderr = invoke("run", area)
    assert code == 2
    one_line(stderr, "runs/area", "--force")
    assert snapshot(previous) == before
    tally(KIND, "refused: exists, no --force")


def test_a_symbolic_link_or_a_file_is_never_replaced(area, previous, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(previous, target_is_directory=True)
    table = tmp_path / "table.csv"
    table.write_text("a,b\n1,2\n")
    before = snapshot(tmp_path)
    for out, culprit in [(link, "symbolic link"), (table, "is a file")]:
        code, _, stderr = invoke("run", area, "--out", out, "--force")
        assert code == 2
        one_line(stderr, str(out), culprit)
        tally(KIND, "refused: a link or a file")
    assert snapshot(tmp_path) == before and link.is_symlink()


# --- checked before any solve -----------------------------------------------------------


def _no_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any solve fail the test: the destination must be refused before one."""

    def solve(*args: object, **kwargs: object) -> None:
        raise AssertionError("solved before the destination was checked")

    monkeypatch.setattr("mergeopt.cli.solve_config", solve)
    monkeypatch.setattr("mergeopt.cli.evaluate_config", solve)


@pytest.mark.parametrize("where", ["name", "path"])
def test_a_path_beyond_the_systems_limits_is_refused_before_solving(
    area, tmp_path, monkeypatch, where
):
    """An --out name near the file-name limit gave a traceback after the whole solve."""
    _no_solve(monkeypatch)
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    if where == "name":
        out = tmp_path / ("n" * (limit + 1))
        culprit = f"more than the {limit}"
    else:
        out = tmp_path.joinpath(*["d" * 200] * (os.pathconf(tmp_path, "PC_PATH_MAX") // 200))
        culprit = "path is too long"
    before = snapshot(tmp_path)
    code, _, stderr = invoke("run", area, "--out", out)
    assert code == 2
    one_line(stderr, culprit)
    assert snapshot(tmp_path) == before and not (tmp_path / ("d" * 200)).exists()
    tally(KIND, "refused before solving: path beyond the system's limits")


def test_a_name_just_within_the_limit_is_written(area, tmp_path):
    """The staging folder beside it is named within the limit too."""
    out = tmp_path / ("n" * os.pathconf(tmp_path, "PC_NAME_MAX"))
    code, _, stderr = invoke("run", area, "--out", out)
    assert code == 0, stderr
    assert (out / "run.json").is_file() and leftovers(tmp_path) == []
    tally(KIND, "written: a name at the file-name limit")


def test_a_destination_below_a_file_is_refused_before_solving(area, tmp_path, monkeypatch):
    _no_solve(monkeypatch)
    (tmp_path / "table.csv").write_text("a\n")
    code, _, stderr = invoke("evaluate", area, "--out", tmp_path / "table.csv" / "run")
    assert code == 2
    one_line(stderr, "table.csv is a file")
    tally(KIND, "refused before solving: below a file")


def test_a_read_only_destination_is_refused_before_solving(area, tmp_path, monkeypatch):
    _no_solve(monkeypatch)
    if os.geteuid() == 0:
        context = mounted_tmpfs(tmp_path / "ro", size="1m", read_only=True)
    else:
        (tmp_path / "ro").mkdir()
        (tmp_path / "ro").chmod(0o555)
        context = _nothing(tmp_path / "ro")
    with context as folder:
        code, _, stderr = invoke("run", area, "--out", folder / "runs" / "area")
        assert code == 2
        one_line(stderr, str(folder), "read-only" if os.geteuid() == 0 else "not writable")
        assert not (folder / "runs").exists()
    tally("full or read-only disk", "refused before solving: read-only")


class _nothing:
    def __init__(self, value: Path) -> None:
        self.value = value

    def __enter__(self) -> Path:
        return self.value

    def __exit__(self, *exc: object) -> None:
        self.value.chmod(0o755)


def test_a_full_disk_is_refused_before_solving(area, tmp_path, monkeypatch):
    """On a real full disk (a tmpfs, as root); elsewhere on a disk every byte of which
    counts as too little (the same check, with its threshold raised past any disk)."""
    _no_solve(monkeypatch)
    if os.geteuid() == 0:
        context = mounted_tmpfs(tmp_path / "disk", size="1m")
    else:
        (tmp_path / "disk").mkdir()
        monkeypatch.setattr(folders, "FULL_DISK", 2**62)
        context = contextlib.nullcontext(tmp_path / "disk")
    with context as disk:
        if os.geteuid() == 0:
            _fill(disk, leave=0)
        code, _, stderr = invoke("run", area, "--out", disk / "run")
        assert code == 2
        one_line(stderr, "no space left")
        assert not (disk / "run").exists()
    tally("full or read-only disk", "refused before solving: disk full")


def _fill(disk: Path, *, leave: int) -> None:
    """Fill a disk but for about ``leave`` bytes."""
    with (disk / "filler").open("wb") as file:
        try:
            while shutil.disk_usage(disk).free > leave + 4096:
                file.write(b"\0" * min(65536, shutil.disk_usage(disk).free - leave - 4096))
                file.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


# --- a full disk while writing ----------------------------------------------------------


def test_a_disk_that_fills_while_writing_leaves_the_previous_run(area, previous, monkeypatch):
    """A patched writer raising ENOSPC at the last file: one line, no partial run, the
    previous run intact, no staging folder left."""
    before = snapshot(previous)

    def full(path: Path, data: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(rundir, "write_json", full)
    code, _, stderr = invoke("run", area, "--force")
    assert code == 2
    one_line(stderr, "runs/area", "no space left on device", "previous run directory is intact")
    assert snapshot(previous) == before
    assert leftovers(previous.parent) == []
    tally("full or read-only disk", "one line, previous run intact: disk full while writing")


def test_a_real_full_disk_while_writing_leaves_the_previous_run(area, tmp_path, monkeypatch):
    """On a real (tmpfs) disk: the first run fits, the second finds the disk full.
    Needs root to mount it; the same path with a patched writer runs everywhere (above)."""
    with mounted_tmpfs(tmp_path / "disk", size="1m") as disk:
        out = disk / "run"
        code, _, stderr = invoke("run", area, "--out", out)
        assert code == 0, stderr
        before = snapshot(out)
        _fill(disk, leave=0)
        monkeypatch.setattr(folders, "FULL_DISK", 0)  # let it past the check, into writing
        code, _, stderr = invoke("run", area, "--out", out, "--force")
        assert code == 2
        one_line(stderr, str(out), "no space left on device")
        assert snapshot(out) == before
        assert sorted(p.name for p in disk.iterdir()) == ["filler", "run"]
    tally("full or read-only disk", "one line, previous run intact: real disk full")


# --- staging folders and concurrent runs ------------------------------------------------


def test_two_forced_runs_to_one_folder_at_once_both_finish_and_the_last_wins(area, previous):
    """Real processes: each writes its own staging folder; neither deletes the other's.
    The folder is whole at every moment and the last to finish is in place."""
    parent = previous.parent
    for _round in range(2):
        runs = [command("run", area, "--force", cwd=area.parent) for _ in range(2)]
        outcomes = [
            (run.wait(timeout=300), run.stderr.read() if run.stderr else "") for run in runs
        ]
        assert [code for code, _ in outcomes] == [0, 0], outcomes
        assert sorted(p.name for p in parent.iterdir()) == ["area"]
        record = json.loads((previous / "run.json").read_text())
        assert record["status"] == "optimal" and record["files"] == sorted(
            p.name for p in previous.iterdir()
        )
        tally("staging and concurrency", "two forced runs at once: both finished, last wins")


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_staging_folder_is_removed_only_when_its_owner_is_gone(area, previous):
    parent = previous.parent
    host = folders._host()
    alive = parent / f".area.partial-{folders._owner()}-0000beef"  # this process: alive
    other_host = parent / f".area.partial-elsewhere-{os.getpid()}-1-0000cafe"
    dead = parent / f".area.partial-{host}-{_dead_pid()}-1-0000dead"
    reused = parent / f".area.partial-{host}-{os.getpid()}-12345-0000f00d"  # pid, not start
    retired = parent / f".area.old-{host}-{_dead_pid()}-1-00000old"
    legacy = parent / ".area.partial-k3j4h5"  # named as before: no owner
    for folder in (alive, other_host, dead, reused, retired, legacy):
        folder.mkdir()
        (folder / "assignments.csv").write_text("half")
    code, _, stderr = invoke("run", area, "--force")
    assert code == 0, stderr
    assert sorted(p.name for p in parent.iterdir()) == sorted(
        ["area", alive.name, other_host.name]
    )
    tally("staging and concurrency", "stale staging folders: only those of gone owners removed")


def test_a_run_killed_between_the_two_renames_is_restored(area, previous):
    """Where the swap is two renames (no atomic exchange), a kill between them leaves the
    previous run under its retired name: the next write puts it back, not away."""
    before = snapshot(previous)
    retired = previous.parent / f".area.old-{folders._host()}-{_dead_pid()}-1-0000abcd"
    previous.rename(retired)
    code, _, stderr = invoke("run", area)  # no --force: the restored run is kept
    assert code == 2
    one_line(stderr, "runs/area", "--force")
    assert snapshot(previous) == before and leftovers(previous.parent) == []
    tally("staging and concurrency", "retired run of a killed swap restored")


def test_the_swap_without_an_atomic_exchange_still_replaces_whole(area, previous, monkeypatch):
    monkeypatch.setattr(folders, "_renameat2", lambda source, target, flags: None)
    code, _, stderr = invoke("run", area, "--force")
    assert code == 0, stderr
    assert leftovers(previous.parent) == [] and (previous / "run.json").is_file()
    tally("staging and concurrency", "replaced whole by two renames")


# --- sweep folders ----------------------------------------------------------------------


def test_a_sweep_never_writes_into_a_folder_that_is_not_a_sweep(area, tmp_path, monkeypatch):
    _no_solve(monkeypatch)
    monkeypatch.setattr("mergeopt.runs.sweep.run.executor_for", _no_executor)
    sheets = tmp_path / "sheets"
    sheets.mkdir()
    (sheets / "comparison.csv").write_text("quarter,spend\nQ1,10\n")
    before = snapshot(sheets)
    code, _, stderr = invoke("sweep", area, "--groups", "1..2", "--out", sheets)
    assert code == 2
    one_line(stderr, str(sheets), "not a sweep folder mergeopt wrote")
    assert snapshot(sheets) == before
    tally(KIND, "refused: sweep into a folder that is not a sweep")
    for out, culprit in [(".", "the working directory"), ("runs", "the runs folder")]:
        code, _, stderr = invoke("sweep", area, "--groups", "1..2", "--out", out, "--force")
        assert code == 2
        one_line(stderr, culprit)
        tally(KIND, "refused: sweep into a protected folder")


def _no_executor(**options: object) -> None:
    raise AssertionError("a sweep started on a folder it must refuse")


def test_a_sweep_resumes_in_its_own_folder_and_one_of_an_earlier_version(area, tmp_path):
    out = tmp_path / "sweep"
    code, _, stderr = invoke("sweep", area, "--groups", "1..2", "--out", out)
    assert code == 0, stderr
    marker = json.loads((out / "sweep.json").read_text())
    assert marker["written_by"] == "mergeopt"
    (out / "sweep.json").unlink()  # as an earlier version left it: comparison.csv only
    code, stdout, stderr = invoke("sweep", area, "--groups", "1..2", "--out", out)
    assert code == 0, stderr
    assert "2 already finished" in stdout
    tally(KIND, "sweep resumed in its own folder")
