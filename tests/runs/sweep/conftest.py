"""Fixtures of the sweep tests: a local sweep of Hull, and a Dask cluster on loopback."""

from __future__ import annotations

import pytest

from mergeopt.runs.sweep.run import run_sweep
from tests.runs.sweep.helpers import hull_config


@pytest.fixture(scope="module")
def hull_sweep(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hull")
    config = hull_config(folder)
    result = run_sweep(
        config, out=folder / "sweep", vary={"groups.count": [7, 8, 9]}, workers=2, progress=False
    )
    return config, result


@pytest.fixture(scope="module")
def cluster():
    # distributed is a dependency: if it cannot be imported, these tests fail, not skip
    import distributed

    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as running:
        yield running
