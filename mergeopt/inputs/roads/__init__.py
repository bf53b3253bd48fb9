"""Drive times on a real road network, offline (``travel.model: network``).

- ``network``: the car roads of one file as a directed graph
- ``speeds``: how fast a car goes on each edge, and the allowance every trip adds
- ``routing``: door-to-door drive minutes between practices (snap, Dijkstra, limits)
- ``readers``: an OpenStreetMap extract (pyosmium, the ``roads`` extra) or OS Open Roads
- ``cache``: parsed networks and routed blocks kept in mergeopt's own folder
- ``fit``: the network's start/finish allowance fitted to the shipped drive times

May import: ``mergeopt._errors``, ``mergeopt.geo.crs`` and the rest of ``mergeopt.inputs``.
"""
