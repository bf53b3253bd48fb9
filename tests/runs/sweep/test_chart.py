"""comparison.png: several varied keys and text values."""

from __future__ import annotations

from mergeopt.runs.sweep.run import run_sweep
from tests.runs.sweep.helpers import regions_config


def test_chart_for_several_keys_and_text_values(tmp_path):
    config = regions_config(tmp_path)
    result = run_sweep(
        config,
        out=tmp_path / "sweep",
        split_by="region",
        vary={"travel.max_km": [3, 15]},
        workers=2,
        progress=False,
    )
    assert result.varied == ("region", "travel.max_km")
    assert len(result.comparison) == 6
    assert set(result.comparison["status"]) <= {"optimal", "infeasible"}
    _, axes = result.plot()
    labels = [tick.get_text() for tick in axes[0].get_xticklabels()]
    assert labels[0] == "region=MID+max_km=3"
