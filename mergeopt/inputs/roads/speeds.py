"""How fast a car goes on each edge of a road network, and what a trip costs beyond the
drive.

A :class:`SpeedProfile` turns edges into minutes: the tagged limit times a factor where
there is one, else a speed per road class (:data:`DEFAULT_SPEEDS_KMH`); every trip adds
a fixed start/finish allowance (:data:`TRIP_MINUTES`). Defaults and how they were fitted:
``docs/travel_model.md``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from mergeopt.inputs.roads.network import ROAD_CLASSES, FloatArray, RoadNetwork

__all__ = ["DEFAULT_SPEEDS_KMH", "TRIP_MINUTES", "SpeedProfile"]

#: km/h on a road with no speed-limit tag, by class: the averages of OSRM's car profile
#: (which routes openstreetmap.org), ``road`` (a road of unknown kind) as a minor road.
DEFAULT_SPEEDS_KMH: Mapping[str, float] = {
    "motorway": 90.0,
    "motorway_link": 45.0,
    "trunk": 85.0,
    "trunk_link": 40.0,
    "primary": 65.0,
    "primary_link": 30.0,
    "secondary": 55.0,
    "secondary_link": 25.0,
    "tertiary": 40.0,
    "tertiary_link": 20.0,
    "unclassified": 25.0,
    "residential": 25.0,
    "living_street": 10.0,
    "service": 15.0,
    "road": 20.0,
}

#: Minutes every trip between two different sites costs on top of the drive: leaving
#: one place and parking at the other. Fitted as ``docs/travel_model.md`` explains.
TRIP_MINUTES = 3.7

#: Shortest time on any edge, so that two nodes at one point are still joined (a sparse
#: graph's zero would be read as "no edge" once the matrix is compressed).
_MIN_EDGE_MINUTES = 1e-6


@dataclass(frozen=True)
class SpeedProfile:
    """How fast a car goes on each edge, and what a trip costs beyond the drive.

    Parameters
    ----------
    speeds_kmh : mapping of str to float, optional
        km/h by road class (:data:`ROAD_CLASSES`) where no limit is tagged; the given
        classes replace those of :data:`DEFAULT_SPEEDS_KMH`.
    maxspeed_factor : float, optional
        A tagged limit times this is the speed (traffic, bends and junctions keep the
        average below the limit).
    offroad_kmh : float, optional
        Speed across the gap between a practice and its nearest road node (walking,
        parking).
    trip_minutes : float, optional
        The fixed start/finish allowance added to every trip between two sites.
    max_offroad_m : float, optional
        A practice farther than this from every road is outside the network (an error).

    Examples
    --------
    >>> SpeedProfile(speeds_kmh={"residential": 20}).speeds_kmh["residential"]
    20.0
    """

    speeds_kmh: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SPEEDS_KMH))
    maxspeed_factor: float = 0.8
    offroad_kmh: float = 5.0
    trip_minutes: float = TRIP_MINUTES
    max_offroad_m: float = 500.0

    def __post_init__(self) -> None:
        unknown = sorted(set(self.speeds_kmh) - set(ROAD_CLASSES))
        if unknown:
            raise ValueError(
                f"unknown road class(es) {', '.join(unknown)}; known: {', '.join(ROAD_CLASSES)}"
            )
        speeds = {**DEFAULT_SPEEDS_KMH, **{k: float(v) for k, v in self.speeds_kmh.items()}}
        positive = {
            "maxspeed_factor": self.maxspeed_factor,
            "offroad_kmh": self.offroad_kmh,
            "max_offroad_m": self.max_offroad_m,
        } | {f"speeds_kmh.{name}": speed for name, speed in speeds.items()}
        for name, value in positive.items():
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, not {value}")
        if not (math.isfinite(self.trip_minutes) and self.trip_minutes >= 0):
            raise ValueError(f"trip_minutes must be a finite number >= 0, not {self.trip_minutes}")
        object.__setattr__(self, "speeds_kmh", speeds)

    def edge_kmh(self, network: RoadNetwork) -> FloatArray:
        """Speed on each edge of ``network``: tagged limit x factor, else the class speed."""
        by_class = np.array([self.speeds_kmh[name] for name in ROAD_CLASSES], dtype=np.float64)
        tagged = network.maxspeed_kmh * self.maxspeed_factor
        return np.where(np.isnan(tagged), by_class[network.road_class], tagged)

    def edge_minutes(self, network: RoadNetwork) -> FloatArray:
        """Minutes to drive each edge of ``network``."""
        minutes = network.length_m / 1000.0 / self.edge_kmh(network) * 60.0
        return np.maximum(minutes, _MIN_EDGE_MINUTES)

    def top_kmh(self, network: RoadNetwork) -> float:
        """The fastest speed anywhere on ``network`` or across a gap to it."""
        fastest = float(self.edge_kmh(network).max()) if network.edges else 0.0
        return max(fastest, self.offroad_kmh)

    def key(self) -> str:
        """A canonical text of every value, for cache keys."""
        values = {
            "speeds_kmh": dict(sorted(self.speeds_kmh.items())),
            "maxspeed_factor": self.maxspeed_factor,
            "offroad_kmh": self.offroad_kmh,
            "trip_minutes": self.trip_minutes,
            "max_offroad_m": self.max_offroad_m,
        }
        return json.dumps(values, sort_keys=True)
