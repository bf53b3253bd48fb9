"""The limits of the search for advice: time, gaps and steps."""

#: most for the first solve of each region (is it met on its own?).
BUDGET_SECONDS = 120.0
SOLVE_SECONDS = 10.0
SCREEN_SECONDS = 30.0
#: A search step stops at a grouping proven within STEP_GAP of the best (it only asks
#: whether the rules can hold); the plan shown for a change, within SEARCH_GAP.
STEP_GAP, SEARCH_GAP = 0.5, 0.02
#: At most this long for the solve that gives a change's plan (its figures, not a proof).
PLAN_SECONDS = 5.0
#: Below this many seconds left, no further search solve is started.
MIN_SECONDS = 0.2
#: Step of the list-size searches (patients) and of the floor-area search (m² per patient).
LIST_STEP, AREA_STEP = 100, 0.001
#: A plan is degenerate when more than this share of its groups are single practices.
SINGLES_SHARE = 0.5
#: An error line gives each failing region's reasons and first change up to this many
#: regions; beyond, the regions' codes and the changes that together let them all be met.
SUMMARY_REGIONS = 3
