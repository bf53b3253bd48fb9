"""Runs: one run end to end, its results, its run directory, and sweeps of many.

- ``problem``: a config and its practices made into the engine's arrays
- ``run``: solve, evaluate, explain and check a config (what the commands call)
- ``diagnose``: why rules cannot all be met, in commissioning terms
- ``results``: the :class:`~.results.RunResult`, its tables, metrics and rules broken
- ``maps``: a result's maps, drawn by :mod:`mergeopt.geo.maps`
- ``rundir``: writing and opening a run directory; ``folders``: atomic writes
- ``sweep``: batches of scenarios on local processes or a Dask cluster

May import: ``mergeopt.config``, ``mergeopt.inputs``, ``mergeopt.geo`` and the engine.
"""
