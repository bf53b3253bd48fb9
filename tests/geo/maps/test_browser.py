"""map.html in a real headless browser (Chromium, driven by Playwright), with no network:
every request but file:// is blocked or answered here.

Offline the page draws the plain map (the study area's outline and place names) with no
console message at all; with OpenStreetMap's tiles answering it draws them; when they are
blocked it falls back to the plain map. Either way the layer buttons switch the title,
the legend and the practices' colours, and hovering a hub names it.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from PIL import Image

# the dev extra installs Playwright (no browser download: it drives the system's Chromium),
# so the test runs wherever the suite does, CI included, and fails rather than skips
from playwright import sync_api as playwright

from mergeopt.geo.maps.web import PLOTLY_JS

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TILE_HOST = "https://tile.openstreetmap.org/"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    assert CHROMIUM, "headless Chromium is needed (Debian package 'chromium'; .ci/run installs it)"
    with playwright.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            # root in a container has no sandbox; WebGL (the tile map) in software
            args=["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
        )
        yield chromium
        chromium.close()


class Page:
    """A page opened with networking cut off, and everything it said and asked for."""

    def __init__(self, browser: Any, path: Path, *, offline: bool, tiles: bool = False):
        self.console: list[str] = []
        self.requests: list[str] = []
        self.context = browser.new_context(
            offline=offline, viewport={"width": 1400, "height": 1000}
        )
        self.context.route("**/*", lambda route: self._answer(route, tiles=tiles))
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.page.on("dialog", lambda d: self.console.append(f"dialog: {d.message}"))
        self.page.goto(path.as_uri())
        self.page.wait_for_function("document.getElementById('map').data", timeout=30_000)

    def _answer(self, route: Any, *, tiles: bool) -> None:
        url = route.request.url
        self.requests.append(url)
        if url.startswith("file://"):
            route.continue_()
        elif tiles and url.startswith(TILE_HOST):
            route.fulfill(status=200, content_type="image/png", body=_tile())
        else:
            route.abort()

    def text(self, selector: str) -> str:
        return str(self.page.text_content(selector) or "")

    def legend(self) -> list[str]:
        return [str(item.text_content()) for item in self.page.query_selector_all(".legendtext")]

    def basemap(self) -> str:
        return str(self.page.eval_on_selector("#map", "e => e.getAttribute('data-basemap')"))

    def switch(self, label: str) -> None:
        self.page.locator("g.updatemenu-button", has_text=label).click()
        self.page.wait_for_function(
            "([t]) => document.querySelector('.gtitle').textContent.includes(t)",
            arg=["current networks" if label == "Current networks" else "proposed groups"],
        )

    def hover_first_hub(self) -> str:
        """Move the mouse onto the first hub of the plain map; the hover box's text."""
        where = self.page.evaluate(
            """() => {
              const el = document.getElementById('map'), L = el._fullLayout;
              const k = el.data.findIndex(t => t.name === 'hubs' && t.visible !== false);
              const x = el.calcdata[k][0].x, y = el.calcdata[k][0].y;
              const box = el.getBoundingClientRect();
              return [box.left + L._size.l + L.xaxis.l2p(x), box.top + L._size.t + L.yaxis.l2p(y)];
            }"""
        )
        self.page.mouse.move(*where)
        self.page.wait_for_selector(".hovertext", timeout=5_000)
        return self.text(".hovertext")

    def close(self) -> None:
        self.context.close()


def _tile() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (205, 230, 205)).save(buffer, "PNG")
    return buffer.getvalue()


def test_offline_the_plain_map_opens_with_no_console_message(browser, hull_run, tmp_path):
    page = Page(browser, hull_run / "map.html", offline=True)
    try:
        assert page.basemap() == "plain"
        assert page.console == []
        assert {url.split("/")[-1] for url in page.requests} == {"map.html", PLOTLY_JS}
        assert page.text(".gtitle") == "hull_pcn: proposed groups (8 groups)"
        assert "Kingston upon Hull" in page.page.content()  # a place name to orient by
        page.page.screenshot(path=str(tmp_path / "offline.png"))
    finally:
        page.close()


def test_the_layer_switch_changes_title_legend_and_practice_colours(browser, hull_run):
    page = Page(browser, hull_run / "map.html", offline=True)
    try:
        groups = pd.read_csv(hull_run / "groups.csv")
        assert page.text(".legendtitletext") == "Proposed groups"
        proposed = page.legend()
        for hub_name in groups["hub_name"]:
            assert any(hub_name.title() in item for item in proposed), hub_name
        colours = "() => document.getElementById('map').data.filter(t => t.name === 'practices'"
        colours += " && t.visible !== false)[0].marker.color"
        before = page.page.evaluate(colours)
        page.switch("Current networks")
        assert page.text(".gtitle") == "hull_pcn: current networks (8 networks)"  # not 'U'
        assert page.text(".legendtitletext") == "Current networks"
        today = page.legend()
        assert "HULL MEDICAS PCN (U82095)" in today and "unallocated (U)" in today
        assert page.page.evaluate(colours) != before
        page.switch("Proposed groups")
        assert page.legend() == proposed
        assert page.console == []
    finally:
        page.close()


def test_hovering_a_hub_names_it_and_its_network(browser, hull_run):
    page = Page(browser, hull_run / "map.html", offline=True)
    try:
        text = page.hover_first_hub()
        hubs = pd.read_csv(hull_run / "groups.csv")["hub_name"].str.title()
        assert any(name in text for name in hubs), text
        assert "hub of its group" in text and "patients" in text
        assert re.search(r"current network: .*PCN \(U\d+\)", text), text
    finally:
        page.close()


def test_with_tiles_answering_the_map_is_drawn_on_openstreetmap(browser, hull_run, tmp_path):
    page = Page(browser, hull_run / "map.html", offline=False, tiles=True)
    try:
        assert page.basemap() == "basemap"
        tiles = [url for url in page.requests if url.startswith(TILE_HOST)]
        assert len(tiles) > 1  # the probe and the map's own tiles, answered here
        assert page.console == []
        assert "OpenStreetMap contributors" in page.page.content()
        page.switch("Current networks")
        assert page.text(".legendtitletext") == "Current networks"
        page.page.screenshot(path=str(tmp_path / "basemap.png"))
    finally:
        page.close()


def test_with_the_tile_server_blocked_the_plain_map_is_drawn(browser, hull_run):
    page = Page(browser, hull_run / "map.html", offline=False, tiles=False)
    try:
        assert page.basemap() == "plain"
        # the browser reports the blocked probe itself; the page raises nothing
        assert [m for m in page.console if "Failed to load resource" not in m] == []
    finally:
        page.close()


def test_names_are_text_never_markup(browser, tmp_path):
    from mergeopt.config import Geography
    from mergeopt.geo.maps.layers import map_layers
    from mergeopt.geo.maps.web import write_page, write_plotly_js

    hostile = '<img src=x onerror="alert(1)">Surgery'
    assignments = pd.DataFrame(
        {
            "practice_code": ["A1", "B2"],
            "practice_name": [hostile, "Plain"],
            "list_size": [1000, 2000],
            "group": ["A1", "A1"],
            "hub": ["A1", "A1"],
            "travel": [0.0, 5.0],
            "current_group": ["N1", "N1"],
            "easting": [480_000.0, 482_000.0],
            "northing": [300_000.0, 301_000.0],
        }
    )
    layers = map_layers(
        assignments, Geography(), name="t", unit="minutes", network_names={"N1": "<b>x</b> PCN"}
    )
    write_plotly_js(tmp_path)
    write_page(layers, tmp_path / "map.html")
    page = Page(browser, tmp_path / "map.html", offline=True)
    try:
        assert page.console == []  # no dialog, no error
        assert page.page.query_selector("img") is None
        assert any("<Img Src=X" in item for item in page.legend())  # shown as text
        page.switch("Current networks")
        assert "<b>x</b> PCN (N1)" in page.legend()
    finally:
        page.close()


def test_a_run_ships_plotly_once_beside_its_map(hull_run):
    html = (hull_run / "map.html").read_text()
    assert f'<script src="{PLOTLY_JS}"></script>' in html
    assert (hull_run / PLOTLY_JS).stat().st_size > 1_000_000
    assert len(html) < 1_000_000  # plotly.js is not embedded
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?://", html)


def test_a_two_level_plan_outlines_its_federations_in_the_browser(browser, tmp_path):
    """The federation outlines draw over the proposed groups on the page (offline and on
    tiles), are listed in the legend, and go with the proposed groups' layer only."""
    from mergeopt.config import Geography
    from mergeopt.geo.maps.layers import map_layers
    from mergeopt.geo.maps.web import write_page, write_plotly_js
    from tests.geo.maps.test_federation_outlines import assignments

    layers = map_layers(assignments(), Geography(), name="towns", unit="minutes")
    write_plotly_js(tmp_path)
    write_page(layers, tmp_path / "map.html")
    for offline, tiles in ((True, False), (False, True)):
        page = Page(browser, tmp_path / "map.html", offline=offline, tiles=tiles)
        try:
            assert page.basemap() == ("plain" if offline else "basemap")
            assert page.console == []
            assert page.text(".legendtitletext") == "Networks and federations"
            names = {f"federation Practice {t}0 ({t}0)" for t in "ABC"}  # hub's name (code)
            assert names <= set(page.legend())
            assert "in 3 federations" in page.text(".gtitle")
            page.page.screenshot(path=str(tmp_path / f"federations-{page.basemap()}.png"))
            page.switch("Current networks")
            assert not any(item.startswith("federation ") for item in page.legend())
        finally:
            page.close()
