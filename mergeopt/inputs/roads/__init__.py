"""Drive times on a real road network, offline (``travel.model: network``).

- ``network``: the car roads as a directed graph, the speed profile, routing
- ``readers``: an OpenStreetMap extract (pyosmium, the ``roads`` extra) or OS Open Roads
- ``cache``: parsed networks and routed blocks kept in mergeopt's own folder
- ``fit``: the network's start/finish allowance fitted to the shipped drive times

May import: ``mergeopt._errors``, ``mergeopt.geo.crs`` and the rest of ``mergeopt.inputs``.
"""
