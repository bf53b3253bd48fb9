"""Sweeps: one config solved as many scenarios (varied values, or one per region).

- ``plan``: the scenarios of a sweep, each config validated before anything is solved
- ``scenario``: one scenario solved and written as a run directory, or found finished
- ``executors``: where scenarios run, behind one interface (local processes or Dask)
- ``progress``: the progress display; ``table`` and ``chart``: comparison.csv and .png
- ``run``: :func:`~.run.run_sweep` and :func:`~.run.load_sweep`, the sweep folder

May import: ``mergeopt.config``, ``mergeopt.inputs``, ``mergeopt.runs`` and the engine.
"""
