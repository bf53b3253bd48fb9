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

import logging
from importlib.metadata import version

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
