"""An independent reference for mergeopt's whole model, for tests only.

Built straight from a config (YAML) and its tables (practices, premises and travel-matrix
CSVs), from the definitions in README.md's config reference and the design notes, never
from mergeopt's arrays or helpers:

- :mod:`.area` reads a config and its tables into a plain :class:`~.area.Area`
  (travel, hub rules, premises, current groups, rules, weights);
- :mod:`.scoring` scores a grouping (its own objective) and lists every rule it breaks;
- :mod:`.plain` builds the plain PuLP model of an area and solves it with CBC;
- :mod:`.areas` draws small areas with every rule kind for property tests, mostly
  feasible by construction, and writes them as a config and CSV tables.

Where README.md leaves a rule open, the reading chosen here (learned from mergeopt's
code, implemented afresh) is written next to the code that applies it.
"""
