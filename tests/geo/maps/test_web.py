"""The interactive map: works offline, in a headless browser and in a notebook."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

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


def test_notebook_map_is_a_figure_that_renders_offline(tmp_path):
    """``mergeopt.explore`` returns a plotly figure (Jupyter shows it inline; a planner can
    adjust it); without the basemap its page draws every marker with no internet access."""
    import plotly.graph_objects as go

    import mergeopt

    result = mergeopt.solve(ROOT / "configs/hull_pcn.yaml", overrides={"maps": False})
    shown = mergeopt.explore(result)
    assert isinstance(shown, go.Figure) and hasattr(shown, "_repr_mimebundle_")
    assert shown.layout.map.style == "open-street-map"
    plain = mergeopt.explore(result, basemap=False)
    page = tmp_path / "cell.html"
    plain.write_html(page, include_plotlyjs=True, full_html=True)
    dom, console = _offline_dom(page, tmp_path / "profile")
    hubs = int((result.assignments["hub"] == result.assignments["practice_code"]).sum())
    assert _markers(dom) == len(result.assignments) + hubs  # each practice, each hub's ring
    assert console == [], console
