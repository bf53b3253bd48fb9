"""Writing folders and files atomically: whole or not at all.

A folder is written under a temporary name beside its destination and renamed into
place only when complete, so a crash or Ctrl-C leaves either the previous state or the
whole new one, never a half-written one. An existing folder is replaced only when forced.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mergeopt._errors import InputError


def write_folder(out: Path, fill: Callable[[Path], None], *, force: bool = False) -> Path:
    """Write a folder atomically: ``fill`` writes into a staging folder beside ``out``,
    which is then renamed into place (replacing ``out`` only with ``force``)."""
    check_writable(out, force=force)
    out.parent.mkdir(parents=True, exist_ok=True)
    _sweep_stale(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        staging.chmod(_FOLDER_MODE)  # mkdtemp makes it private (0700); a run is shared
        fill(staging)
        _replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def check_writable(out: Path, *, force: bool) -> None:
    """Refuse to replace an existing run directory unless forced (before any solving)."""
    if out.exists() and not force:
        raise InputError(f"{out}: run directory exists; use --force to replace it")


def replace_file(path: Path, write: Callable[[Path], object]) -> None:
    """Write a file under a temporary name beside it, then rename it into place."""
    temporary = path.with_name(f".{path.stem}.{os.getpid()}-{uuid.uuid4().hex[:8]}{path.suffix}")
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    """Write JSON that any reader takes: NaN and inf as null, numpy scalars as numbers."""
    text = json.dumps(_clean(data), indent=2, allow_nan=False, default=str)
    path.write_text(text + "\n", encoding="utf-8")


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from a file, or None if it is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _folder_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o777 & ~mask


#: Permissions of a run directory: what ``mkdir`` would give under this process's umask.
_FOLDER_MODE = _folder_mode()


def _sweep_stale(out: Path) -> None:
    """Remove staging folders that a killed earlier run of this directory left behind."""
    for pattern in (f".{out.name}.partial-*", f".{out.name}.old-*"):
        for stale in out.parent.glob(pattern):
            pid = stale.name.rsplit("-", 1)[-1]
            if stale.name.startswith(f".{out.name}.old-") and _alive(pid):
                continue
            shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError, PermissionError):
        return False
    return int(pid) != os.getpid()


def _replace(staging: Path, out: Path) -> None:
    """Swap a finished directory into place; the old one is removed only after."""
    if not out.exists():
        os.replace(staging, out)
        return
    retired = out.with_name(f".{out.name}.old-{os.getpid()}")
    os.replace(out, retired)
    os.replace(staging, out)
    shutil.rmtree(retired, ignore_errors=True)


def _clean(value: Any) -> Any:
    """JSON-safe values: no NaN/inf (written as null), numpy scalars as Python."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
