"""mergeopt: optimal groupings of GP practices into networks, federations or mergers.

The public API, for notebooks and scripts (the ``mergeopt`` command uses the same engine):

>>> import mergeopt
>>> config = mergeopt.load_config("configs/hull_pcn.yaml")
>>> result = mergeopt.solve(config, overrides={"groups.min_list_size": 25000})
>>> result.status
'optimal'
>>> today = mergeopt.evaluate(config, "pcn_code")
>>> figures, moved = mergeopt.compare(today, result)
>>> int(figures.loc["groups", "first"])
9
"""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mergeopt._errors import InfeasibleError, InputError, MergeoptError, NoSolutionError
    from mergeopt.config import Config, load_config
    from mergeopt.inputs.nhs.assembly import prepare
    from mergeopt.runs.maps import explore, plot
    from mergeopt.runs.results import RunResult
    from mergeopt.runs.results import compare_runs as compare
    from mergeopt.runs.run import evaluate, solve
    from mergeopt.runs.rundir import load_run, write_run
    from mergeopt.runs.sweep.run import SweepResult, load_sweep, run_sweep

__version__ = version("mergeopt")

# Messages go through the ``mergeopt`` logger hierarchy, shown only where the caller
# asks (a notebook's or a worker's own logging set-up; the command line shows them)
logging.getLogger("mergeopt").addHandler(logging.NullHandler())

#: Where each name of the public API lives (module, name there). Each is imported the
#: first time it is used: ``import mergeopt.engine`` (a worker process of a solve, which
#: starts while HiGHS runs) then loads the engine alone, not pandas, geopandas and the
#: maps. With them, a worker took 1.5-1.9 s to start on the 2-CPU benchmark machine.
_PUBLIC = {
    "InfeasibleError": ("mergeopt._errors", "InfeasibleError"),
    "InputError": ("mergeopt._errors", "InputError"),
    "MergeoptError": ("mergeopt._errors", "MergeoptError"),
    "NoSolutionError": ("mergeopt._errors", "NoSolutionError"),
    "Config": ("mergeopt.config", "Config"),
    "load_config": ("mergeopt.config", "load_config"),
    "prepare": ("mergeopt.inputs.nhs.assembly", "prepare"),
    "explore": ("mergeopt.runs.maps", "explore"),
    "plot": ("mergeopt.runs.maps", "plot"),
    "RunResult": ("mergeopt.runs.results", "RunResult"),
    "compare": ("mergeopt.runs.results", "compare_runs"),
    "evaluate": ("mergeopt.runs.run", "evaluate"),
    "solve": ("mergeopt.runs.run", "solve"),
    "load_run": ("mergeopt.runs.rundir", "load_run"),
    "write_run": ("mergeopt.runs.rundir", "write_run"),
    "SweepResult": ("mergeopt.runs.sweep.run", "SweepResult"),
    "load_sweep": ("mergeopt.runs.sweep.run", "load_sweep"),
    "run_sweep": ("mergeopt.runs.sweep.run", "run_sweep"),
}


def __getattr__(name: str) -> Any:
    where = _PUBLIC.get(name)
    if where is None:
        raise AttributeError(f"module 'mergeopt' has no attribute {name!r}")
    value = getattr(importlib.import_module(where[0]), where[1])
    globals()[name] = value  # the next use finds it without this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))


__all__ = [
    "Config",
    "InfeasibleError",
    "InputError",
    "MergeoptError",
    "NoSolutionError",
    "RunResult",
    "SweepResult",
    "__version__",
    "compare",
    "evaluate",
    "explore",
    "load_config",
    "load_run",
    "load_sweep",
    "plot",
    "prepare",
    "run_sweep",
    "solve",
    "write_run",
]
