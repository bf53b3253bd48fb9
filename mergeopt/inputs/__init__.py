"""Everything read from disk, checked as a whole and handed on as typed tables.

- ``tables``: the tolerant readers of CSV (and Parquet, GeoPackage, GeoJSON) files
- ``practices``: the practices table a config names, validated (``premises`` joined on)
- ``nhs``: the practices table built from NHS Digital's files as downloaded
- ``travel``: straight-line distance and the road model; ``matrix``: a supplied matrix
- ``hashes``: SHA-256 of every file a config reads

May import: ``mergeopt.config``, ``mergeopt._errors`` and ``mergeopt.geo.crs`` (the
coordinate systems, a leaf); never ``mergeopt.runs`` or the engine.
"""
