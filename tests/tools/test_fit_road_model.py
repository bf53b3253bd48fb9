"""tools/fit_road_model.py: the fit on the shipped drive times reproduces the road model,
and the docs hold the tool's current output."""

from __future__ import annotations

import importlib.util
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

from mergeopt.inputs.travel import ROAD_MODEL

ROOT = Path(__file__).resolve().parents[2]


TRAVEL_DIR = ROOT / "data" / "travel"


TOOL = ROOT / "tools" / "fit_road_model.py"


DOC = ROOT / "docs" / "travel_model.md"


# What tools/fit_road_model.py measured for ROAD_MODEL on trips under 25 km (docs/travel_model.md).
MEASURED_MAE = 2.44


MEASURED_MAE_UNDER_5_KM = 0.95


@pytest.fixture(scope="module")
def report():
    """The fit of tools/fit_road_model.py (a script, loaded as a module)."""
    spec = importlib.util.spec_from_file_location("fit_road_model", TOOL)
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    sys.modules["fit_road_model"] = tool  # its dataclass looks itself up there
    try:
        spec.loader.exec_module(tool)
    finally:
        del sys.modules["fit_road_model"]
    return tool.fit_road_model(TRAVEL_DIR)


def test_fit_reproduces_road_model(report):
    assert report.max_km == 25.0
    assert report.n == 776
    assert report.model.intercept_minutes == pytest.approx(ROAD_MODEL.intercept_minutes, abs=0.005)
    assert report.model.minutes_per_km == pytest.approx(ROAD_MODEL.minutes_per_km, abs=0.0005)


def test_road_model_error_under_cutoff_is_as_documented(report):
    trips = report.trips
    short = trips[trips["km"] < report.max_km]
    error = ROAD_MODEL.minutes(short["km"].to_numpy()) - short["minutes"].to_numpy()
    assert np.mean(np.abs(error)) < MEASURED_MAE + 0.02
    very_short = trips[trips["km"] < 5]
    error = ROAD_MODEL.minutes(very_short["km"].to_numpy()) - very_short["minutes"].to_numpy()
    assert np.mean(np.abs(error)) < MEASURED_MAE_UNDER_5_KM + 0.02


def test_fit_report_tables(report):
    assert report.by_area.index.tolist() == ["Hull + East Riding", "Somerset"]
    assert report.by_area["trips"].sum() == report.n
    assert report.by_band.loc["0-5", "fitted"]
    assert not report.by_band.loc["60+", "fitted"]
    assert report.by_band["trips"].sum() == len(report.trips) == 4120


def test_docs_hold_the_current_tool_output(capsys):
    tool = runpy.run_path(str(TOOL), run_name="fit_road_model")
    assert tool["main"](["--travel-dir", str(TRAVEL_DIR)]) == 0
    printed = capsys.readouterr().out
    assert "matches `mergeopt.inputs.travel.ROAD_MODEL`: yes" in printed
    doc = DOC.read_text(encoding="utf-8")
    start = doc.index("<!-- fit_road_model output: start -->\n") + len(
        "<!-- fit_road_model output: start -->\n"
    )
    end = doc.index("<!-- fit_road_model output: end -->")
    assert doc[start:end].strip() == printed.strip(), "re-run tools/fit_road_model.py into the doc"
