"""How the engine is asked to solve: plain options, no config.

The run layer turns the config's ``solver`` block into :class:`SolveOptions` once; the
engine never sees the config.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from functools import partial
from typing import Any, Literal

from mergeopt.engine.outcome import gap

SolverName = Literal["highs", "cbc"]
SOLVERS: tuple[SolverName, ...] = ("highs", "cbc")


@dataclass(frozen=True)
class Progress:
    """Where a solve stands, as the solver reports it while it runs.

    Attributes
    ----------
    elapsed : seconds since the solver started
    objective : the best grouping's objective so far (None: none found yet)
    bound : the proven lower bound so far (None: none yet)
    gap : relative gap between them (None: not known yet)
    phase : what the solve is doing, in words, where its figures are not the whole
        solver's (``"7 of 42 regions solved"``, ``"networks, level 1 of 2"``); None for
        a single solve. The figures are the whole's unless the phase names a part.
    """

    elapsed: float
    objective: float | None
    bound: float | None
    gap: float | None
    phase: str | None = None


@dataclass(frozen=True)
class SolveOptions:
    """Which MIP solver to use and when to stop.

    Attributes
    ----------
    solver : ``"highs"`` (the strategies of :mod:`mergeopt.engine.portfolio`) or
        ``"cbc"`` (the MIP through PuLP to CBC)
    time_limit : seconds for the whole solve, > 0
    gap : relative gap at which the solver may stop, in [0, 1)
    threads : threads (and parallel processes) the solve may use; None for every CPU
        this process may run on
    log : print the solver's log
    seed : HiGHS's random seed, a whole number of 0 or more. Another seed gives HiGHS
        another path to the same optimum, often in a different time: the benchmark
        harness measures that spread with it (``python -m benchmarks.variability``)
    progress : called with a :class:`Progress` while the main solve runs (from the
        solver's callbacks; often, so keep it quick); not carried into other processes

    >>> SolveOptions(time_limit=60).gap
    1e-06
    >>> SolveOptions(time_limit=0)
    Traceback (most recent call last):
    ...
    ValueError: SolveOptions.time_limit must be a number of seconds above 0, not 0
    """

    solver: SolverName = "highs"
    time_limit: float = 300.0
    gap: float = 1e-6
    threads: int | None = None
    log: bool = False
    seed: int = 0
    progress: Callable[[Progress], None] | None = field(default=None, compare=False)

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled into worker processes without the progress hook (a display's callable
        # belongs to this process); every other field as it is, whatever fields there are
        kept = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "progress"}
        return (partial(SolveOptions, **kept), ())

    def __post_init__(self) -> None:
        if self.solver not in SOLVERS:
            raise ValueError(f"SolveOptions.solver must be one of {SOLVERS}, not {self.solver!r}")
        if not _number(self.time_limit) or not self.time_limit > 0:
            raise ValueError(
                f"SolveOptions.time_limit must be a number of seconds above 0, "
                f"not {self.time_limit!r}"
            )
        if not _number(self.gap) or not 0 <= self.gap < 1:
            raise ValueError(f"SolveOptions.gap must be at least 0 and below 1, not {self.gap!r}")
        if self.threads is not None and (
            isinstance(self.threads, bool) or not isinstance(self.threads, int) or self.threads < 1
        ):
            raise ValueError(
                f"SolveOptions.threads must be None or 1 or more, not {self.threads!r}"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(
                f"SolveOptions.seed must be a whole number, 0 or more, not {self.seed!r}"
            )


def _number(value: object) -> bool:
    """A real number that is not NaN (a bool is not a number here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)


def in_phase(options: SolveOptions, words: str, *, started: float) -> SolveOptions:
    """``options`` for one phase of a solve: its progress hook hears ``words`` as the
    phase of every report (an inner phase's words after them), and hears them now,
    before the phase reports any figure. ``started`` (``time.perf_counter()``) is when
    the whole solve started. Without a hook, ``options`` as they are.

    >>> heard = []
    >>> options = in_phase(SolveOptions(progress=heard.append), "networks", started=0.0)
    >>> inner = in_phase(options, "region 1 of 2", started=0.0)
    >>> inner.progress(Progress(1.0, 10.0, 9.0, 0.1))
    >>> [p.phase for p in heard]
    ['networks', 'networks: region 1 of 2', 'networks: region 1 of 2']
    """
    report = options.progress
    if report is None:
        return options

    def labelled(progress: Progress) -> None:
        phase = words if progress.phase is None else f"{words}: {progress.phase}"
        report(replace(progress, phase=phase))

    labelled(Progress(time.perf_counter() - started, None, None, None))
    return replace(options, progress=labelled)


def as_whole(
    report: Callable[[Progress], None] | None, objective: float | None, bound: float | None
) -> Callable[[Progress], None] | None:
    """``report`` hearing one part's progress as the whole's: what the rest of the whole
    adds to the objective (``objective``) and to the bound (``bound``) added to the
    part's figures, and the gap between the sums. A figure is None where the part's or
    the rest's is. Without a hook, None.

    >>> heard = []
    >>> whole = as_whole(heard.append, 10.0, 8.0)
    >>> whole(Progress(1.0, 5.0, 4.0, 0.2))
    >>> heard[0].objective, heard[0].bound, round(heard[0].gap, 3)
    (15.0, 12.0, 0.2)
    """
    if report is None:
        return None

    def whole(progress: Progress) -> None:
        value = low = relative = None
        if objective is not None and progress.objective is not None:
            value = progress.objective + objective
        if bound is not None and progress.bound is not None:
            low = progress.bound + bound
        if value is not None and low is not None:
            low = min(low, value)
            relative = gap(value, low)
        report(replace(progress, objective=value, bound=low, gap=relative))

    return whole
