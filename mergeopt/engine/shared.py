"""The channel through which the portfolio's components share groupings and bounds.

Each process of a solve holds one :class:`Shared`: the best grouping and the best proven
lower bound it knows of, whoever found them. A component *offers* each grouping it finds
(:meth:`Shared.offer`) and *proves* each bound (:meth:`Shared.prove`); both go to the
other process over a pipe, and :meth:`Shared.receive` takes in what came the other way.
The verdict is always made from these figures (:meth:`Shared.proven`), so a bound any
component proved is never lost on the way to the report.
"""

from __future__ import annotations

import math
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from mergeopt.engine.instance import Instance, Vector, feasible, objective_value
from mergeopt.engine.outcome import gap


@dataclass
class Shared:
    """The best grouping and bound known here, and the pipe to the other process.

    Attributes
    ----------
    inst : the instance every grouping is checked and valued against
    conn : the pipe to the process beside, or None (this process alone)
    best, value : the best valid grouping offered or received, and its objective
    bound : the best lower bound proven by any component (``-inf`` before one)
    other : messages other than groupings and bounds, in the order received
    exit_when_ended : end this process when the pipe ends (in a worker: its parent
        stopped it, or died, e.g. a killed run; nobody is left to report to)
    fresh : a grouping came from the other process and was not yet taken
        (:meth:`take_fresh`): HiGHS is handed it as a user solution
    hand_from : from this time (``time.perf_counter()``) on, the best grouping known
        here counts as fresh once (:meth:`hand_at`)
    """

    inst: Instance
    conn: Connection | None = None
    best: Vector | None = None
    value: float = math.inf
    bound: float = -math.inf
    fresh: bool = False
    hand_from: float | None = None
    other: list[tuple[str, Any]] = field(default_factory=list)
    exit_when_ended: bool = False
    _closed: bool = field(default=False, repr=False)
    _inbox: queue.SimpleQueue[tuple[str, Any]] = field(
        default_factory=queue.SimpleQueue, repr=False
    )
    _ended: threading.Event = field(default_factory=threading.Event, repr=False)

    def __post_init__(self) -> None:
        if self.conn is not None:
            self.connect(self.conn)

    def connect(self, conn: Connection) -> None:
        """Share through ``conn`` from now on, the best grouping and bound known so far
        first. A thread reads it as messages arrive, so that neither process ever waits
        to send (a full pipe would stall HiGHS)."""
        self.conn = conn
        threading.Thread(target=self._listen, args=(conn,), daemon=True).start()
        if self.best is not None:  # what was known before, the other side learns now
            self._send(("incumbent", self.best))
        if math.isfinite(self.bound):
            self._send(("bound", self.bound))

    def _listen(self, conn: Connection) -> None:
        while True:
            try:
                self._inbox.put(conn.recv())
            except Exception:  # the other end closed, or this one (from another thread)
                self._ended.set()
                if self.exit_when_ended:
                    os._exit(0)
                return

    def offer(self, hub_of: Vector | None, value: float | None = None) -> bool:
        """Keep ``hub_of`` if it is valid and better than the best so far, and send it to
        the other process; whether it was kept. Its value is recomputed from the instance
        (``value``, the finder's own figure, is not trusted)."""
        if not self._take(hub_of):
            return False
        self._send(("incumbent", self.best))
        return True

    def prove(self, bound: float | None) -> bool:
        """Keep ``bound`` if it is finite and above the best so far, and send it; whether
        it was kept."""
        if bound is None or not math.isfinite(bound) or bound <= self.bound:
            return False
        self.bound = float(bound)
        self._send(("bound", self.bound))
        return True

    def receive(self) -> None:
        """Take in every message waiting on the pipe, without blocking: groupings and
        bounds update the best; any other message (e.g. a final outcome) is kept in
        :attr:`other` for whoever waits for it."""
        while True:
            try:
                kind, payload = self._inbox.get_nowait()
            except queue.Empty:
                break
            if kind == "incumbent":
                self.fresh |= self._take(payload)
            elif kind == "bound":
                if payload is not None and payload > self.bound:
                    self.bound = float(payload)
            else:
                self.other.append((kind, payload))

    def hand_at(self, when: float) -> None:
        """Hand HiGHS the best grouping known here (e.g. the greedy start it was not
        given) at ``when`` (``time.perf_counter()``): from then on it counts as fresh,
        once, as a grouping from the other process does."""
        self.hand_from = when

    def take_fresh(self) -> Vector | None:
        """The grouping received from the other process since the last call (or one
        whose time came, :meth:`hand_at`), or None."""
        if self.hand_from is not None and time.perf_counter() >= self.hand_from:
            self.hand_from = None
            self.fresh |= self.best is not None
        if not self.fresh:
            return None
        self.fresh = False
        return self.best

    def closed(self) -> bool:
        """Whether the pipe to the other process has ended and every message was read."""
        return self._ended.is_set() and self._inbox.empty()

    def wait(self, seconds: float) -> None:
        """Wait up to ``seconds`` for a message (or the pipe's end)."""
        if self._inbox.empty() and not self._ended.is_set():
            self._ended.wait(min(seconds, 0.05))

    def proven(self, tolerance: float) -> bool:
        """Whether the best grouping and the best bound are within ``tolerance``."""
        if self.best is None or not math.isfinite(self.bound):
            return False
        return gap(self.value, self.bound) <= tolerance

    def _take(self, hub_of: Vector | None) -> bool:
        if hub_of is None:
            return False
        hub_of = np.asarray(hub_of, dtype=np.int64)
        value = objective_value(self.inst, hub_of)
        if value >= self.value - 1e-9 * max(1.0, abs(value)) or not feasible(self.inst, hub_of):
            return False
        self.best, self.value = hub_of.copy(), value
        return True

    def _send(self, message: tuple[str, object]) -> None:
        if self.conn is None or self._closed:
            return
        try:
            self.conn.send(message)
        except (BrokenPipeError, EOFError, OSError):  # the other process ended
            self._closed = True
