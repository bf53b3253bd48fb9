"""The user's cache folder: one rule for the failure reports, the print-map tiles and the
road cache (``$XDG_CACHE_HOME/mergeopt``, else ``~/.cache/mergeopt``; the road cache
alone also takes ``$MERGEOPT_CACHE_DIR`` and the config's ``travel.cache_dir``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from mergeopt._cache import user_cache
from mergeopt._report import report_folders
from mergeopt.geo.maps.basemap import tile_cache
from mergeopt.inputs.roads.cache import CACHE_ENV, cache_root

# each variable unset, set but empty (taken as unset), or naming a folder
STATES = [None, "", "named"]


def _set(monkeypatch: pytest.MonkeyPatch, name: str, value: str | None, folder: Path) -> None:
    if value is None:
        monkeypatch.delenv(name, raising=False)
    else:
        monkeypatch.setenv(name, str(folder) if value else "")


@pytest.mark.parametrize("xdg", STATES)
@pytest.mark.parametrize("roads", STATES)
def test_every_cache_folder_follows_the_one_rule(tmp_path, monkeypatch, xdg, roads):
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    _set(monkeypatch, "XDG_CACHE_HOME", xdg, tmp_path / "xdg")
    _set(monkeypatch, CACHE_ENV, roads, tmp_path / "roads")
    mine = tmp_path / "xdg" / "mergeopt" if xdg else home / ".cache" / "mergeopt"

    assert user_cache() == mine
    assert report_folders() == [
        mine / "reports",
        Path(tempfile.gettempdir()) / "mergeopt-reports",
    ]
    assert tile_cache() == mine / "tiles"  # $MERGEOPT_CACHE_DIR is the road cache's only
    assert cache_root() == (tmp_path / "roads" if roads else mine)
    assert cache_root(tmp_path / "configured") == tmp_path / "configured"
    assert not (tmp_path / "xdg").exists() and not home.exists()  # nothing created
