"""The user's cache folder: one rule for the failure reports, the print-map tiles and the
road cache (``$XDG_CACHE_HOME/mergeopt``, else ``~/.cache/mergeopt``; the road cache
alone also takes ``$MERGEOPT_CACHE_DIR`` and the config's ``travel.cache_dir``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from mergeopt import _cache
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


def test_without_a_home_folder_the_cache_is_a_private_temporary_one(tmp_path, monkeypatch, caplog):
    """No XDG_CACHE_HOME and no home folder (Path.home() raises): a failure report, a
    tile or a road cache still has a folder, one of this process's own, and a warning
    says how to keep it."""

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    _cache._process_cache.cache_clear()
    try:
        with caplog.at_level("WARNING"):
            first, again = user_cache("tiles"), tile_cache()
        assert first == again and first.parent.parent.parent == tmp_path
        assert first.parent.name == "mergeopt" and first.name == "tiles"
        folder = first.parent.parent
        assert folder.name.startswith("mergeopt-cache-")
        assert folder.stat().st_mode & 0o777 == 0o700
        assert report_folders()[0] == folder / "mergeopt" / "reports"
        assert len(caplog.records) == 1 and "XDG_CACHE_HOME" in caplog.records[0].getMessage()
    finally:
        _cache._process_cache.cache_clear()
