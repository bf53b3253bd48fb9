"""The last resort: a failure mergeopt did not foresee, saved as a report for a bug.

The command line prints one line (what failed, and where the report is) instead of a
traceback; the report holds the traceback, the command and the versions that matter. It
goes to the user's cache folder (``$XDG_CACHE_HOME/mergeopt/reports``, else
``~/.cache/mergeopt/reports``), or the system's temporary folder if that cannot be
written: never into the folders of the user's data or runs.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import traceback
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from mergeopt._cache import user_cache

#: Packages whose versions a report gives.
PACKAGES = (
    "mergeopt",
    "highspy",
    "pulp",
    "pydantic",
    "pandas",
    "numpy",
    "geopandas",
    "shapely",
    "pyogrio",
    "matplotlib",
    "plotly",
    "dask",
    "distributed",
)


def report_folders() -> list[Path]:
    """Where reports go, in order of preference."""
    return [
        user_cache("reports"),
        Path(tempfile.gettempdir()) / "mergeopt-reports",
    ]


def save_report(error: BaseException, *, argv: list[str] | None = None) -> Path | None:
    """Write a report of an unexpected error; its path, or None if none could be written."""
    now = datetime.now(UTC)
    text = report_text(error, argv=sys.argv if argv is None else argv, when=now)
    name = f"mergeopt-{now:%Y%m%dT%H%M%SZ}-{os.getpid()}.txt"
    for folder in report_folders():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(text, encoding="utf-8")
        except OSError:
            continue
        return path
    return None


def report_text(error: BaseException, *, argv: list[str], when: datetime) -> str:
    """The report: when, the command, the versions, the traceback."""
    lines = [
        "mergeopt failure report: please attach it to an issue",
        f"time: {when.isoformat(timespec='seconds')}",
        f"command: {' '.join(argv)}",
        f"working directory: {os.getcwd()}",
        f"python: {sys.version.split()[0]} ({platform.platform()})",
        *(f"{package}: {_version(package)}" for package in PACKAGES),
        "",
        *traceback.format_exception(type(error), error, error.__traceback__),
    ]
    return "\n".join(line.rstrip("\n") for line in lines) + "\n"


def summary(error: BaseException) -> str:
    """What failed, on one line: the error's type and its message's first line."""
    message = str(error).strip().splitlines()
    first = message[0] if message else ""
    text = f"{type(error).__name__}: {first}" if first else type(error).__name__
    return text if len(text) <= 200 else f"{text[:197]}..."


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def where(error: BaseException) -> str | None:
    """The last place in mergeopt's own code the error passed (``runs/rundir.py:120``)."""
    package = Path(__file__).resolve().parent
    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        path = Path(frame.filename).resolve()
        if path.is_relative_to(package):
            found = f"{path.relative_to(package.parent).as_posix()}:{frame.lineno}"
    return found
