"""The interactive map: works offline, in a headless browser and in a notebook."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

ROOT = Path(__file__).resolve().parents[3]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # networking off: every request goes to a closed loopback port
    "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
    "--virtual-time-budget=8000", "--enable-logging=stderr", "--v=0",
]  # fmt: skip


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
    shot = tmp_path / "map_screenshot.png"  # kept by pytest for a person to look at
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
