"""mergeopt's folder in the user's cache folder, where it keeps what it can make again.

``$XDG_CACHE_HOME/mergeopt`` where that variable is set (and not empty), else
``~/.cache/mergeopt``. Failure reports (``reports/``), print-map tiles (``tiles/``) and
road networks and routed minutes (``roads/``, unless the config or
``$MERGEOPT_CACHE_DIR`` names another folder) go under it: never beside the user's data.

Where neither is known (no ``XDG_CACHE_HOME`` and no home folder, as under some service
accounts and containers), the cache is a new private folder in the temporary folder, for
this process only, and a warning says so once.
"""

from __future__ import annotations

import logging
import os
import tempfile
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

#: The environment variable naming the user's cache folder (the XDG base directories).
XDG_CACHE = "XDG_CACHE_HOME"


def user_cache(*parts: str) -> Path:
    """mergeopt's cache folder, or the folder ``parts`` below it; nothing is created
    unless there is no home folder (:func:`_process_cache`)."""
    base = os.environ.get(XDG_CACHE)
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no HOME, and the user has no entry in the password file
            base = _process_cache()
    return Path(base, "mergeopt", *parts)


@cache
def _process_cache() -> str:
    """A private folder (mode 0700) in the temporary folder, made once per process."""
    folder = tempfile.mkdtemp(prefix="mergeopt-cache-")
    log.warning(
        "no home folder and %s is not set: mergeopt's cache is %s for this run only "
        "(set %s to keep it between runs)",
        XDG_CACHE,
        folder,
        XDG_CACHE,
    )
    return folder
