"""The strategies that find and prove groupings, each on an
:class:`~mergeopt.engine.instance.Instance`: construction and local search
(:mod:`.heuristics`), the matheuristic (:mod:`.matheuristic`), the LP-guided start
(:mod:`.lp_guided`), the Lagrangian bound (:mod:`.lagrangian`) and Lagrangian fixing
(:mod:`.fixing`), the branch-and-bound over hubs (:mod:`.hubsearch`) and decomposition by
region in parallel lanes (:mod:`.regions`). Which of them run is decided in
:mod:`mergeopt.engine.portfolio`; a strategy imports the instance, the formulation, the
solvers and other strategies it builds on, never the portfolio."""
