r"""Branch-and-price over groups: a bound strong enough to prove.

The grouping MIP of :mod:`mergeopt.engine.formulation` is reformulated over
**columns**, each a hub and its members (:mod:`.master`): every practice in exactly
one chosen column, the number of columns within the group count. Columns are generated
by a knapsack per hub (:mod:`.knapsack`) at the master's duals.

How one node is solved (:func:`.tree._node`; column generation in :mod:`.colgen`,
fixing and branching in :mod:`.branching`):

1. **Column generation, stabilised** (Wentges smoothing): pricing at a point between
   the best duals so far (the stability centre) and the master's, falling back to the
   master's own duals when that finds nothing (a mis-price). Each pricing gives a
   **Lagrangian bound** :math:`L(u)` (family 1 relaxed, the hub choice within the group
   count), a proven bound for the node at every iteration, exact pricing or not: the
   node's bound never waits for convergence. The node ends when the bound meets the
   master's value (converged; with whole-number objectives, once both round up to the
   same whole number), when it reaches the cut-off of the best grouping (pruned), or at
   the deadline. The pool keeps its :data:`.tree.POOL_KEEP` cheapest columns once it
   passes :data:`.tree.POOL_MOST` (a pool of many thousand made every LP solve slower).
2. **Reduced-cost fixing** below the cut-off, at the best duals: hubs that no better
   grouping of the subtree opens are closed, hubs all of them open are forced, and arcs
   no better grouping uses are removed.
3. **Branching** that keeps the pricing a knapsack: on a hub opening (closed / forced
   open: its own practice joins no other hub) while a hub is fractional, then on a
   practice's hub (the item forced into the group / the arc removed). A node whose master
   is integral and proven (bound meets it) is a grouping; with a relaxed knapsack (units
   of *s* patients) an integral node that is not yet proven branches on one of its arcs.

Nodes are taken best bound first (deeper first on ties). Groupings (:mod:`.primal`) come
from the start given (or the greedy of :mod:`mergeopt.engine.strategies.heuristics`),
from integral nodes, from diving on the master (:func:`.primal.dive`, at the root and
every :data:`.search.DIVE_EVERY` nodes: the columns the LP takes most of are fixed and
columns generated again until the master is integral), and from the restricted master
solved as a MIP by HiGHS over the columns so far, now and then. The bound reported is
the least bound of the open nodes, never above the best grouping; with whole-number
objectives it is raised to the next whole number.

Applies where the MIP decomposes by hub: no maximum-travel term and no contiguity
(:func:`.tree.applies`). Must-link pairs join as one item, fixed assignments and forced
hubs are branching decisions at the root, cannot-link pairs are kept in the pricing
(:func:`.knapsack.hub_knapsack`).
"""

from __future__ import annotations

from mergeopt.engine.strategies.branch_price.tree import applies, preferred, solve

__all__ = ["applies", "preferred", "solve"]
