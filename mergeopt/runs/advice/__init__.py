"""Advice a planner can act on when a config's rules cannot all be met.

:func:`advise` answers "what would I have to change?" the way a planner would ask it:
for each rule that can give (the travel limit, the minimum and maximum list size, the
group count, the premises rule, oversize practices, and the named rules: takeovers,
forced and forbidden hubs, links), the **smallest change of that rule alone** that lets
every rule hold. Each is found by a search over the rule's value (whole minutes for the
travel limit, 100 patients for list sizes, one group for the count; for a named rule,
the fewest entries dropped) and each is **verified by solving with it** before it is
shown, with what the plan then looks like (groups, practices per group, mean travel).

Ranking. A change that defeats the rule's purpose is **degenerate**: most groups left
as single practices (the networks dissolved), a minimum list size lowered below half of
what the config asks, or a maximum raised above double. Degenerate changes are shown as
such and ranked last. The others are ranked by how far the rule moves: the relative
change of a number (a travel limit of 20 -> 25 minutes moves 25%), or the share of the
area's practices a change names (one practice of 70 standing alone: 1.4%).

When no single rule's change is enough (or every one is degenerate), the smallest set of
changes is searched: every rule at its most relaxed, then each dropped in turn where the
rest still solve, then each kept one moved back as far as it can go. Every change in it
is needed: without any one of them, the rules cannot all be met.

Regions. In a nested run (``rules.nest_by``, no group count, which would couple the
regions), each region is independent: each is solved on its own, and only the regions
that fail are explained, each by itself, named by code and name. The changes for the
whole run combine each failing region's first change (the most relaxed value of each
rule); every rule here only relaxes, so a region that is met stays met, and the
combination is verified on each failing region.

Time. Each region is first solved on its own, in at most :data:`SCREEN_SECONDS`. Each
region that fails then gets a budget of search (:data:`BUDGET_SECONDS` by default), made
of short solves of that region alone: at most :data:`SOLVE_SECONDS` each, a search step
stopping at the first grouping the heuristics or the solver find, the plan shown for a
change within :data:`SEARCH_GAP` of the best. A value not settled in time counts as not
working, so a search that runs short of time may report a larger change than the
smallest (it says so); a change shown always solved.

Modules
-------
``regions``   the whole run: regions, each failing one explained; :func:`advise`,
              :func:`explain`
``rules``     each rule that can give, and the search for its smallest change alone
``together``  the smallest set of changes for a region, and one set for the whole run
``search``    short solves under changed rules, the overrides a change makes, a plan's
              figures, the search over ever larger changes
``report``    what the advice says, and its text
``limits``    the time, gap and step limits

It may import the config, the inputs, the engine and the rest of :mod:`mergeopt.runs`
below it (``problem``, ``results``, ``diagnose``, ``areas``); ``runs.run`` and the command
line call it.
"""

from mergeopt.runs.advice.limits import BUDGET_SECONDS, SOLVE_SECONDS
from mergeopt.runs.advice.regions import advise, explain, region_names, smallest_travel
from mergeopt.runs.advice.report import Advice, Alternative, Change, Plan, RegionAdvice
from mergeopt.runs.advice.search import plan_of

__all__ = [
    "BUDGET_SECONDS",
    "SOLVE_SECONDS",
    "Advice",
    "Alternative",
    "Change",
    "Plan",
    "RegionAdvice",
    "advise",
    "explain",
    "plan_of",
    "region_names",
    "smallest_travel",
]
