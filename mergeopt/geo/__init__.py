"""Geography: coordinate systems, catchments, boundaries, adjacency and maps.

Owns everything drawn in space, in British National Grid (EPSG:27700). It is handed
plain tables (practices, groupings) and never imports ``mergeopt.runs`` or the engine.
May import: ``mergeopt.config``, ``mergeopt._errors``.
"""
