"""The maps a planner opens: GeoPackage, static PNG and the offline interactive page."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
from PIL import Image
from typer.testing import CliRunner

from mergeopt.cli import app

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Pictures a person can look at after the tests (screenshots); ignored by git.
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # networking off: every request goes to a closed loopback port
    "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
    "--virtual-time-budget=8000", "--enable-logging=stderr", "--v=0",
]  # fmt: skip


@pytest.fixture(scope="module")
def hull_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("maps") / "run"
    result = CliRunner().invoke(
        app, ["run", str(ROOT / "configs/hull_pcn.yaml"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    return out


def test_geopackage_layers_read_back_with_the_assignments(hull_run):
    path = hull_run / "groups.gpkg"
    layers = dict(pyogrio.list_layers(path))
    assert {"practices", "hubs", "group_catchments", "hub_lines", "current_networks"} <= set(
        layers
    )
    assignments = pd.read_csv(hull_run / "assignments.csv")
    practices = pyogrio.read_dataframe(path, layer="practices")
    assert practices.crs.to_epsg() == 27700
    assert sorted(practices["code"]) == sorted(assignments["practice_code"])
    merged = practices.merge(assignments, left_on="code", right_on="practice_code")
    assert (merged["group_x"] == merged["group_y"].astype(str)).all()
    groups = pyogrio.read_dataframe(path, layer="group_catchments")
    assert groups.geometry.is_valid.all() and len(groups) == 8
    table = pd.read_csv(hull_run / "groups.csv")
    assert {"area_km2", "pieces"} <= set(table.columns) and (table["pieces"] >= 1).all()


def test_static_map_is_a_real_picture_with_every_group_colour(hull_run):
    image = Image.open(hull_run / "map.png").convert("RGB")
    width, height = image.size
    assert width >= 1200 and height >= 800
    pixels = np.asarray(image).reshape(-1, 3).astype(int)
    assert pixels.std() > 30  # not blank
    from mergeopt.geo.maps.style import group_colours

    groups = pd.read_csv(hull_run / "groups.csv")["group"].astype(str).tolist()
    for group, colour in group_colours(sorted(groups)).items():
        rgb = np.array([int(colour[k : k + 2], 16) for k in (1, 3, 5)])
        assert (np.abs(pixels - rgb).max(axis=1) <= 3).any(), f"no pixel of group {group}'s colour"


def test_side_by_side_map_shows_today_and_the_proposal(hull_run):
    image = np.asarray(Image.open(hull_run / "map_compare.png").convert("RGB"))
    height, width, _ = image.shape
    assert width >= 1200 and width > 1.5 * height  # two panels across an A4 width
    left, right = image[:, : width // 2], image[:, width // 2 :]
    assert left.std() > 30 and right.std() > 30  # neither panel blank
    assert not np.array_equal(left, right)


def _offline_dom(page: Path, profile: Path) -> tuple[str, list[str]]:
    """The page's DOM after its scripts ran in headless Chromium with networking off,
    and the console messages it logged."""
    assert CHROMIUM, "headless Chromium is needed (Debian package 'chromium'; .ci/run installs it)"
    html = page.read_text()
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?://", html), (
        "the page fetches from the web"
    )
    dom = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    return dom.stdout, console


def _markers(dom: str) -> int:
    return len(re.findall(r'class="point(?: [^"]*)?"', dom))


def test_interactive_map_works_offline_in_chromium(hull_run, tmp_path):
    page = hull_run / "map.html"
    profile = tmp_path / "profile"
    dom, console = _offline_dom(page, profile)
    assert _markers(dom) == len(pd.read_csv(hull_run / "assignments.csv"))
    assert console == [], console
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "map_screenshot.png"
    subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1400,1000",
         f"--screenshot={shot}", page.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    picture = np.asarray(Image.open(shot).convert("RGB"))
    assert picture.std() > 20, "the screenshot is blank"
    print(f"screenshot of the interactive map: {shot}")


def test_notebook_map_renders_offline(tmp_path):
    """What a notebook cell shows for ``mergeopt.explore``: self-contained HTML whose
    markers draw with no internet access (the page Jupyter would render, in Chromium)."""
    import mergeopt

    result = mergeopt.solve(ROOT / "configs/hull_pcn.yaml", overrides={"maps": False})
    shown = mergeopt.explore(result)
    bundle = shown._repr_html_()
    assert "<script" in bundle and "Plotly.newPlot" in bundle
    page = tmp_path / "cell.html"
    page.write_text(f"<!DOCTYPE html><html><body>{bundle}</body></html>", encoding="utf-8")
    dom, console = _offline_dom(page, tmp_path / "profile")
    assert _markers(dom) == len(result.assignments)
    assert console == [], console


def test_map_command_redraws_without_solving(hull_run):
    before = (hull_run / "run.json").read_text()
    (hull_run / "map.png").unlink()
    result = CliRunner().invoke(app, ["map", str(hull_run)])
    assert result.exit_code == 0, result.stderr
    assert (hull_run / "map.png").exists()
    assert (hull_run / "run.json").read_text() == before
    assert json.loads(before)["status"] == "optimal"


def test_evaluate_writes_the_same_maps(tmp_path):
    out = tmp_path / "today"
    args = [
        "evaluate",
        str(ROOT / "configs/hull_pcn.yaml"),
        "--grouping",
        "pcn_code",
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert {"groups.gpkg", "map.png", "map.html"} <= {p.name for p in out.iterdir()}
    groups = pyogrio.read_dataframe(out / "groups.gpkg", layer="group_catchments")
    assert "U82095" in set(groups["group"])


def test_contiguous_option_makes_every_group_one_piece():
    import mergeopt
    from mergeopt.runs.maps import result_layers as map_layers

    config = ROOT / "configs/hull_pcn.yaml"
    plain = map_layers(mergeopt.solve(config))
    assert (plain.groups["pieces"] > 1).any()  # the plain optimum has a group in two pieces
    joined = mergeopt.solve(config, overrides={"geography.contiguous": True})
    assert joined.status == "optimal"
    assert (map_layers(joined).groups["pieces"] == 1).all()
