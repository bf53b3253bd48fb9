"""Writing folders and files atomically, and replacing only folders mergeopt wrote.

A folder is written under a staging name beside its destination and swapped into place
only when complete, so a crash, a full disk or Ctrl-C leaves either the previous folder or
the whole new one, never a half-written one, and nothing else behind.

What may be replaced
--------------------
An existing destination is replaced only when forced, and only when it is empty or is a
folder mergeopt wrote (the caller says how to know one: a run directory holds a run.json
naming mergeopt as its writer, and nothing mergeopt did not write). Never, forced or not:
the working directory, the home directory, the runs folder (:data:`RUNS_FOLDER`), a
filesystem root or mount point, or a parent of any of them; nor a file or a symbolic link.

Staging folders
---------------
``.<name>.partial-<host>-<pid>-<start>-<token>``: unique to the process writing it (its
host, process id and start time name the owner; a random token the attempt). One left
behind by a killed process is removed by a later write of the same destination, and only
when its owner is gone: on this host, no process with that id and start time runs (a
folder of another host's process on a shared file system is never touched). Two forced
writes to one destination at once each write their own staging folder and each swaps its
folder into place when complete: the last to finish wins, and the destination is whole at
every moment (on Linux the swap is one atomic exchange of the two folders).

Before any work
---------------
:func:`check_writable` (and :func:`check_destination`, for a folder that is written into
rather than replaced) checks that the destination may be written, that its path fits the
file system's limits (``NAME_MAX`` for each name, ``PATH_MAX`` in all, the staging name
and the files inside included), that the nearest existing folder on the way can be
written, and that its disk is not full. While writing, a full disk, a read-only file
system or a refused permission is an :class:`~mergeopt._errors.OutputError`: one line,
nothing written, the previous folder intact.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import hashlib
import json
import math
import os
import re
import secrets
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

from mergeopt._errors import OutputError

#: Where run directories and sweep folders go unless told: never replaced as a whole.
RUNS_FOLDER = Path("runs")

#: Why a folder is not one mergeopt wrote (None: it is one, and may be replaced).
Owned = Callable[[Path], str | None]

#: Bytes free under which a disk counts as full (a run directory's tables alone are more).
FULL_DISK = 256 * 1024

#: Room kept in a path for the names mergeopt writes inside a folder (map_compare.png,
#: a file's temporary name while it is written, a scenario's run directory in a sweep).
INNER = 64

# errors of writing that say the destination cannot be written (not a fault in mergeopt)
_CANNOT_WRITE = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.ENAMETOOLONG,
    errno.EFBIG,
    errno.EIO,
}
_STEM_BYTES = 64
_STAGE = re.compile(r"^\.(?P<stem>.+)\.(?P<kind>partial|old)-(?P<owner>.+)$")


def _nothing_owned(folder: Path) -> str | None:
    return "mergeopt cannot tell it wrote this folder"


def write_folder(
    out: Path,
    fill: Callable[[Path], None],
    *,
    force: bool = False,
    owned: Owned = _nothing_owned,
    kind: str = "run directory",
) -> Path:
    """Write a folder atomically: ``fill`` writes into a staging folder beside ``out``,
    which is then swapped into place.

    An existing ``out`` is replaced only with ``force``, and only if it is empty or
    ``owned`` finds it is one mergeopt wrote (checked before writing, and again just
    before the swap).

    Raises
    ------
    OutputError
        ``out`` may not be replaced, its path is too long, or it cannot be written (full
        disk, read-only, permission): nothing is written and the previous folder is intact.
    """
    out = Path(out)
    check_writable(out, force=force, owned=owned, kind=kind)
    existed = out.exists()
    created = _missing_parents(out)
    staging: Path | None = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(out)
        staging = out.parent / _staging_name(out.name, "partial")
        os.mkdir(staging, mode=0o777)  # what mkdir gives under this process's umask
        fill(staging)
        _swap_in(staging, out, force=force, owned=owned, kind=kind)
    except BaseException as exc:
        full = staging is not None and _disk_full(staging)  # before the staging folder goes
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        _remove_empty(created)
        error = _write_error(exc, out, kind, existed=existed, full=full)
        if error is None:
            raise
        raise error from None
    return out


def check_writable(out: Path, *, force: bool, owned: Owned, kind: str = "run directory") -> None:
    """Refuse, before any work, a destination that may not be written or replaced (after
    clearing away what killed writes of it left, see :func:`remove_stale`).

    Raises
    ------
    OutputError
        ``out`` exists and ``force`` is not given, or it is not a folder mergeopt wrote
        (``owned`` says why), or :func:`check_destination` refuses it.
    """
    out = Path(out)
    check_destination(out, kind=kind)
    remove_stale(out)  # a killed write's leftovers first: it may have been mid-swap
    if not out.exists():
        return
    if not force:
        raise OutputError(f"{out}: {kind} exists; use --force to replace it")
    _check_owned(out, owned, kind)


def _check_owned(out: Path, owned: Owned, kind: str) -> None:
    if not any(out.iterdir()):
        return  # an empty folder holds nothing to lose
    why = owned(out)
    if why is not None:
        raise OutputError(
            f"{out}: not a {kind} mergeopt wrote ({why}); --force replaces only those: "
            "give --out a new folder, or move this one"
        )


def check_destination(out: Path, *, kind: str = "run directory", inner: int = INNER) -> None:
    """Check that a folder may be written at ``out``: not a protected place, not a file or
    a link, a path within the file system's limits (with ``inner`` bytes to spare for the
    names inside), on a disk that is writable and not full.

    Raises
    ------
    OutputError
        One line saying which and why.
    """
    out = Path(out)
    absolute = Path(os.path.abspath(out))
    _check_limits(out, absolute, inner)  # first: a path too long cannot even be looked at
    if out.is_symlink():
        raise OutputError(f"{out}: is a symbolic link; give the folder it points to instead")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: is a file, not a {kind}")
    _check_protected(out, kind)
    _check_creatable(out, absolute.parent)


def replace_file(path: Path, write: Callable[[Path], object]) -> None:
    """Write a file under a temporary name beside it, then rename it into place.

    Raises
    ------
    OutputError
        The file cannot be written (full disk, read-only, permission): the previous file
        is intact and no temporary file is left.
    """
    temporary = path.with_name(f".{path.stem}.{os.getpid()}-{uuid.uuid4().hex[:8]}{path.suffix}")
    existed = path.exists()
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException as exc:
        full = _disk_full(path.parent)
        Path(temporary).unlink(missing_ok=True)
        error = _write_error(exc, path, "file", existed=existed, full=full)
        if error is None:
            raise
        raise error from None


@contextmanager
def writing(folder: Path, *, kind: str) -> Iterator[None]:
    """Report a full disk, a read-only folder or a refused permission met while writing
    into ``folder`` as one line (an :class:`OutputError`), whatever raised it."""
    try:
        yield
    except BaseException as exc:
        error = _write_error(exc, folder, kind, existed=True, full=_disk_full(folder))
        if error is None:
            raise
        raise error from None


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


def remove_stale(out: Path) -> None:
    """Remove the staging folders of ``out`` whose owner is gone (a killed write).

    A retired previous folder (``.old-``; left only where the swap is two renames) is put
    back in place if ``out`` is missing, else removed. Folders whose owner still runs, or
    ran on another host, are left alone.
    """
    parent, stem = out.parent, _stem(out.name)
    try:
        entries = list(parent.iterdir())
    except OSError:
        return
    for entry in entries:
        found = _STAGE.match(entry.name)
        if found is None or found["stem"] != stem or not entry.is_dir() or entry.is_symlink():
            continue
        if _owner_alive(found["owner"]):
            continue
        if found["kind"] == "old" and not out.exists():
            try:
                os.rename(entry, out)
                continue
            except OSError:
                pass
        shutil.rmtree(entry, ignore_errors=True)


def is_staging(name: str) -> bool:
    """Whether a file name is one of a staging folder or a retired folder."""
    return _STAGE.match(name) is not None


def room_for(name: str) -> int:
    """Bytes a folder called ``name`` needs in a path below its parent: its staging name
    (or its own name, if longer) and the names mergeopt writes inside it."""
    staging = _staging_name(name, "partial")
    return max(len(os.fsencode(staging)), len(os.fsencode(name))) + 1 + INNER


# ---------------------------------------------------------------------------------------
# owners of staging folders


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:24] or "host"


def _started(pid: int) -> int | None:
    """A process's start time (whole seconds since the epoch), or None if it is gone."""
    try:
        return round(psutil.Process(pid).create_time())
    except psutil.NoSuchProcess:
        return None
    except psutil.Error:  # another user's process: it exists, its start time is hidden
        return -1


def _owner() -> str:
    """This process, as its staging folders name it: host, process id and start time."""
    return _owner_of(os.getpid())


@functools.cache
def _owner_of(pid: int) -> str:
    return f"{_host()}-{pid}-{max(_started(pid) or 0, 0)}"


def _owner_alive(owner: str) -> bool:
    """Whether the process named in a staging folder's name may still be writing it.

    A name in an earlier format (no host, id and start time) has no owner that is alive:
    no process of this version made it.
    """
    parts = owner.split("-")
    if len(parts) != 4 or not parts[1].isdigit() or not parts[2].isdigit():
        return False
    host, pid, start = parts[0], int(parts[1]), int(parts[2])
    if host != _host():
        return True  # another machine's process on a shared file system: cannot tell
    started = _started(pid)
    return started is not None and (started == -1 or abs(started - start) <= 1)


def _stem(name: str) -> str:
    """A destination's name as its staging folders carry it: cut, with a digest, when long
    (so that a staging name stays within NAME_MAX whatever the destination's name)."""
    raw = os.fsencode(name)
    if len(raw) <= _STEM_BYTES:
        return name
    digest = hashlib.sha256(raw).hexdigest()[:8]
    return f"{raw[: _STEM_BYTES - 9].decode(errors='ignore')}~{digest}"


def _staging_name(name: str, kind: str) -> str:
    return f".{_stem(name)}.{kind}-{_owner()}-{secrets.token_hex(4)}"


# ---------------------------------------------------------------------------------------
# the swap


def _swap_in(staging: Path, out: Path, *, force: bool, owned: Owned, kind: str) -> None:
    """Put a finished staging folder in place of ``out``; the old folder goes only after."""
    if _rename_new(staging, out):
        return
    if not force:
        raise OutputError(
            f"{out}: a {kind} appeared there while this one was being made; "
            "use --force to replace it"
        )
    _check_owned(out, owned, kind)  # what is there now may have changed while solving
    retired = _exchange(staging, out)
    shutil.rmtree(retired, ignore_errors=True)


_RENAME_NOREPLACE, _RENAME_EXCHANGE = 1, 2
_AT_FDCWD = -100


def _renameat2(source: Path, target: Path, flags: int) -> bool | None:
    """renameat2(2): True if done, False if ``target`` exists (NOREPLACE), None where
    the system or file system has no such call."""
    try:
        call = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    status = call(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), flags)
    if status == 0:
        return True
    code = ctypes.get_errno()
    if code == errno.EEXIST:
        return False
    if code in {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP}:
        return None
    raise OSError(code, os.strerror(code), str(target))


def _rename_new(staging: Path, out: Path) -> bool:
    """Rename ``staging`` to ``out`` if nothing is there; False if something is."""
    done = _renameat2(staging, out, _RENAME_NOREPLACE)
    if done is not None:
        return done
    if out.exists() or out.is_symlink():
        return False
    try:
        os.rename(staging, out)
    except OSError as exc:
        if exc.errno in {errno.EEXIST, errno.ENOTEMPTY}:
            return False
        raise
    return True


def _exchange(staging: Path, out: Path) -> Path:
    """Swap ``staging`` with ``out``; return where the old folder now is."""
    if _renameat2(staging, out, _RENAME_EXCHANGE):
        return staging
    retired = out.parent / _staging_name(out.name, "old")
    os.rename(out, retired)
    try:
        os.rename(staging, out)
    except BaseException:
        os.rename(retired, out)
        raise
    return retired


# ---------------------------------------------------------------------------------------
# checks before writing


def _check_protected(out: Path, kind: str) -> None:
    target = out.resolve()
    if target == Path(target.anchor):
        raise OutputError(f"{out}: is a filesystem root; mergeopt never writes a {kind} there")
    for place, what in _protected().items():
        if target == place or target in place.parents:
            where = what if target == place else f"a parent of {what} ({place})"
            raise OutputError(
                f"{out}: is {where}; mergeopt never writes a {kind} over it: "
                "give --out a folder of its own"
            )
    if target.is_dir() and os.path.ismount(target):
        raise OutputError(f"{out}: is a mount point; give --out a folder inside it")


def _protected() -> dict[Path, str]:
    places = {
        Path.cwd(): "the working directory",
        RUNS_FOLDER: f"the runs folder ({RUNS_FOLDER}/)",
    }
    with contextlib.suppress(RuntimeError):  # no home directory known
        places[Path.home()] = "the home directory"
    return {place.resolve(): what for place, what in places.items()}


def _nearest_existing(path: Path) -> Path:
    while not _exists(path) and path != path.parent:
        path = path.parent
    return path


def _exists(path: Path) -> bool:
    try:
        os.lstat(path)
    except (OSError, ValueError):  # missing, or a name too long to look up
        return False
    return True


def _pathconf(path: Path, name: str, default: int) -> int:
    try:
        value = os.pathconf(path, name)
    except (OSError, ValueError, AttributeError):
        return default
    return value if value > 0 else default


def _check_limits(out: Path, absolute: Path, inner: int) -> None:
    """Each name within NAME_MAX and the whole path (staging and inner names included)
    within PATH_MAX, as the file system holding the path says."""
    existing = _nearest_existing(absolute.parent)
    if not existing.is_dir():
        return  # _check_creatable says why
    name_max = _pathconf(existing, "PC_NAME_MAX", 255)
    path_max = _pathconf(existing, "PC_PATH_MAX", 4096)
    for part in absolute.parts[1:]:
        size = len(os.fsencode(part))
        if size > name_max:
            shown = part if len(part) <= 40 else f"{part[:37]}..."
            raise OutputError(
                f"{_shown(out)}: the name '{shown}' is {size} bytes long, more than the "
                f"{name_max} this file system allows: choose a shorter name"
            )
    staging = absolute.parent / _staging_name(absolute.name, "partial")
    longest = max(len(os.fsencode(str(staging))), len(os.fsencode(str(absolute)))) + 1 + inner
    if longest >= path_max:
        raise OutputError(
            f"{_shown(out)}: the path is too long for this system ({longest} bytes with the files "
            f"inside, at most {path_max - 1}): choose a shorter path"
        )


def _shown(path: Path) -> str:
    """A path short enough for a one-line message (its start and end)."""
    text = str(path)
    return text if len(text) <= 120 else f"{text[:50]}...{text[-50:]}"


def _check_creatable(out: Path, parent: Path) -> None:
    """The nearest existing folder on the way to ``out`` is a folder, writable, with room."""
    existing = _nearest_existing(parent)
    if not existing.is_dir():
        raise OutputError(f"{out}: cannot be created: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: cannot be written: {existing} is {_why_not(existing)}")
    if _disk_full(existing):
        raise OutputError(
            f"{out}: cannot be written: no space left on the disk of {existing} "
            f"({shutil.disk_usage(existing).free:,} bytes free)"
        )


def _why_not(folder: Path) -> str:
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return "on a read-only file system"
    except (OSError, AttributeError):
        pass
    return "not writable (permission denied)"


def _disk_full(path: Path) -> bool:
    try:
        return shutil.disk_usage(_nearest_existing(path)).free < FULL_DISK
    except OSError:
        return False


def _missing_parents(out: Path) -> list[Path]:
    """The folders above ``out`` that do not exist yet (made, and removed on failure)."""
    missing = []
    parent = Path(os.path.abspath(out)).parent
    while not parent.exists() and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    return missing


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first
        try:
            folder.rmdir()
        except OSError:
            return


def _write_error(
    exc: BaseException, out: Path, kind: str, *, existed: bool, full: bool
) -> OutputError | None:
    """The one-line error for a failure to write, or None if it is not one."""
    if isinstance(exc, OutputError):
        return exc
    if isinstance(exc, OSError) and exc.errno in _CANNOT_WRITE:
        reason = os.strerror(exc.errno).lower()
    elif isinstance(exc, Exception) and full:
        reason = "no space left on device"  # a writer (GDAL, a plotting library) said less
    else:
        return None
    kept = f"; the previous {kind} is intact" if existed else ""
    return OutputError(f"{out}: cannot write the {kind} ({reason}): nothing was written{kept}")


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
