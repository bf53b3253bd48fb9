"""An optional basemap under the print maps: OpenStreetMap tiles through contextily.

Never required: it is drawn only where contextily is installed (``pip install
"mergeopt[basemap]"``) and the tiles can be had, fetched from the tile server or read
from the tile cache (``$XDG_CACHE_HOME/mergeopt/tiles``, else ``~/.cache/mergeopt/tiles``,
so a map drawn once online draws again offline). Anything else (not installed, offline,
the server refusing, a tile that will not read) draws the map without it, as before, and
says why on the ``mergeopt`` logger. ``MERGEOPT_BASEMAP=off`` turns it off (the tests do,
so they never fetch).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from mergeopt._cache import user_cache
from mergeopt.geo.crs import BNG

if TYPE_CHECKING:
    from matplotlib.axes import Axes

log = logging.getLogger(__name__)

#: The environment variable that turns the print maps' basemap off (``off``, ``0``, ``no``).
SWITCH = "MERGEOPT_BASEMAP"
#: The credit OpenStreetMap's tiles require, added to a map drawn on them.
OSM_CREDIT = "Basemap © OpenStreetMap contributors"
#: Seconds to wait for the tile server to answer (connect, read).
TIMEOUT = (5.0, 20.0)


def basemap_wanted() -> bool:
    """Whether the basemap may be drawn: not turned off by :data:`SWITCH`."""
    return os.environ.get(SWITCH, "").strip().lower() not in ("off", "0", "no", "false")


def tile_cache() -> Path:
    """The folder tiles are kept in between runs (the user's cache folder)."""
    return user_cache("tiles")


def add_basemap(ax: Axes) -> str | None:
    """Draw OpenStreetMap tiles under what ``ax`` shows (in EPSG:27700), keeping its
    extent; return the credit line the tiles require, or None where none were drawn.

    Never raises for want of contextily, a network or a tile: the map is drawn without.
    """
    if not basemap_wanted():
        return None
    try:
        import contextily
    except ImportError:
        log.debug("no basemap on the print maps: contextily is not installed")
        return None
    try:
        cache = tile_cache()
        cache.mkdir(parents=True, exist_ok=True)
        contextily.set_cache_dir(str(cache))
        contextily.add_basemap(
            ax,
            crs=BNG,
            source=contextily.providers.OpenStreetMap.Mapnik,
            attribution=False,
            zorder=0,
            timeout=TIMEOUT,
        )
    except Exception as error:  # offline, refused, a bad tile: the map goes on without
        log.info("no basemap on the print maps (%s: %s)", type(error).__name__, error)
        return None
    return OSM_CREDIT
