"""Keep parsed road networks and routed minutes between runs, so nothing is routed twice.

Everything lives in mergeopt's own cache folder, :func:`cache_root`: the config's
``travel.cache_dir`` if given, else ``$MERGEOPT_CACHE_DIR``, else
``$XDG_CACHE_HOME/mergeopt``, else ``~/.cache/mergeopt``; never beside the user's data.
Under its ``roads/`` folder:

- ``network-<hash>.npz``: the graph read from a road file, keyed by the file's SHA-256
  and the reader's version (a changed file is read again; a moved one is not).
- ``minutes-<hash>.npz``: a block of door-to-door minutes, keyed by the network, the
  speed profile and the practices' coordinates, saved with the search limit it was
  routed to. A block routed at least as far serves any smaller limit, so a sweep over
  travel limits routes once.

Files are written whole (to a temporary name, then renamed), so a run stopped half-way
or two runs at once never leave a broken file; an unreadable file is read again from
the source. mergeopt never deletes the folder: remove it to free the space.
"""

from __future__ import annotations

import os
import tempfile
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mergeopt._cache import user_cache
from mergeopt._errors import InputWarning
from mergeopt.inputs.roads.network import RoadNetwork
from mergeopt.inputs.roads.readers import READER_VERSION, file_digest, read_roads
from mergeopt.inputs.roads.routing import drive_minutes
from mergeopt.inputs.roads.speeds import SpeedProfile

__all__ = ["CACHE_ENV", "MinuteCache", "cache_root", "load_network", "network_minutes"]

#: Environment variable naming the cache folder when the config does not.
CACHE_ENV = "MERGEOPT_CACHE_DIR"

FloatArray = npt.NDArray[np.float64]


def cache_root(configured: Path | None = None) -> Path:
    """mergeopt's cache folder (see the module docstring for the order of choice)."""
    if configured is not None:
        return configured
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return user_cache()


def load_network(path: Path, *, cache: Path | None = None) -> RoadNetwork:
    """The road network of ``path``, from the cache when this file was read before.

    Parameters
    ----------
    path : pathlib.Path
        An OpenStreetMap file or OS Open Roads GeoPackage (see :func:`read_roads`).
    cache : pathlib.Path, optional
        The cache folder (:func:`cache_root` chooses one when not given).

    Raises
    ------
    InputError
        The file cannot be read as a road network (see :func:`read_roads`).
    """
    if not path.is_file():
        return read_roads(path)  # raises the one-line "not found"
    stat = path.stat()
    return _load_network(path.resolve(), stat.st_size, stat.st_mtime_ns, cache_root(cache))


@lru_cache(maxsize=2)
def _load_network(path: Path, size: int, mtime_ns: int, root: Path) -> RoadNetwork:
    """Read or reload a network; memoised per file version, so a sweep's scenarios in one
    process share it."""
    del size, mtime_ns  # part of the memo's key only
    digest = file_digest(path)
    saved = root / "roads" / f"network-{digest[:32]}-{READER_VERSION}.npz"
    found = _read_npz(saved)
    if found is not None:
        return replace(RoadNetwork.from_arrays(found), source=str(path))
    network = read_roads(path, digest=digest)
    _write_npz(saved, network.arrays())
    return network


def network_minutes(
    path: Path,
    codes: Sequence[str],
    easting: npt.ArrayLike,
    northing: npt.ArrayLike,
    *,
    profile: SpeedProfile,
    limit: float | None,
    regions: Sequence[object] | None = None,
    cache: Path | None = None,
) -> FloatArray:
    """Door-to-door minutes between practices on the road network of ``path``, read and
    routed only where the cache does not hold them already (see
    :func:`~mergeopt.inputs.roads.routing.drive_minutes` for the parameters and the result).

    Raises
    ------
    InputError
        The file cannot be read as a road network, or practices lie off it.
    """
    network = load_network(path, cache=cache)
    return drive_minutes(
        network,
        codes,
        easting,
        northing,
        profile=profile,
        limit=limit,
        regions=regions,
        store=MinuteCache(cache),
    )


class MinuteCache:
    """Blocks of routed minutes in ``<root>/roads``
    (a :class:`~mergeopt.inputs.roads.routing.MinuteStore`).

    Parameters
    ----------
    root : pathlib.Path, optional
        The cache folder (:func:`cache_root` chooses one when not given).
    """

    def __init__(self, root: Path | None = None) -> None:
        self.folder = cache_root(root) / "roads"

    def get(self, key: str, limit: float | None) -> FloatArray | None:
        """The block saved under ``key`` if routed at least as far as ``limit``, else None."""
        found = _read_npz(self.folder / f"minutes-{key}.npz")
        if found is None:
            return None
        routed = float(found["limit"])  # NaN: routed without a limit
        if not np.isnan(routed) and (limit is None or routed < limit):
            return None
        return np.asarray(found["minutes"], dtype=np.float64)

    def put(self, key: str, limit: float | None, minutes: FloatArray) -> None:
        """Save a block routed up to ``limit`` (None: without a limit)."""
        routed = np.array(np.nan if limit is None else float(limit))
        _write_npz(self.folder / f"minutes-{key}.npz", {"minutes": minutes, "limit": routed})


def _read_npz(path: Path) -> dict[str, Any] | None:
    """Every array of a saved file, or None when it is absent or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            return {name: saved[name] for name in saved.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
        return None


def _write_npz(path: Path, arrays: dict[str, Any]) -> None:
    """Write arrays to ``path`` whole: a temporary file in the same folder, then renamed.

    A folder that cannot be written is a warning, not an error: the run goes on and
    routes again next time.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.stem}-", suffix=".npz"
        )
    except OSError as error:
        warnings.warn(
            InputWarning(
                f"{path.parent}: cannot write the road cache ({error.strerror}); "
                "nothing is kept for the next run"
            ),
            stacklevel=3,
        )
        return
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **arrays)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
