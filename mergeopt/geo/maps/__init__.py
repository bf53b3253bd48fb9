"""Maps of a grouping: a GeoPackage for QGIS, a static map for print, an interactive page.

- ``layers``: the geography of a grouping (:class:`~.layers.MapLayers`), from plain tables
- ``static``: the static map and today-beside-proposal map (matplotlib)
- ``web``: the interactive map, one self-contained HTML page (plotly, works offline)
- ``geopackage``: the layers as a GeoPackage; ``files``: every map file into a folder

May import: ``mergeopt.config``, ``mergeopt.geo``; never ``mergeopt.runs``.
"""
