"""mergeopt's folder in the user's cache folder, where it keeps what it can make again.

``$XDG_CACHE_HOME/mergeopt`` where that variable is set (and not empty), else
``~/.cache/mergeopt``. Failure reports (``reports/``), print-map tiles (``tiles/``) and
road networks and routed minutes (``roads/``, unless the config or
``$MERGEOPT_CACHE_DIR`` names another folder) go under it: never beside the user's data.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The environment variable naming the user's cache folder (the XDG base directories).
XDG_CACHE = "XDG_CACHE_HOME"


def user_cache(*parts: str) -> Path:
    """mergeopt's cache folder, or the folder ``parts`` below it; nothing is created.

    Raises
    ------
    RuntimeError
        ``XDG_CACHE_HOME`` is not set and the home directory cannot be determined.
    """
    base = os.environ.get(XDG_CACHE) or str(Path.home() / ".cache")
    return Path(base, "mergeopt", *parts)
