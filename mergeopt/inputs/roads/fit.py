"""Fit the road network's start/finish allowance to the shipped real drive times.

The network model's one free constant is the allowance every trip costs on top of the
drive (:attr:`~mergeopt.inputs.roads.speeds.SpeedProfile.trip_minutes`). The real drive times
(``data/travel``: LSOA centroid -> hospital, Hull + East Riding and Somerset) fix it in
one of two ways, and :func:`fit_trip_allowance` says which it used:

``direct``
    The network covers a calibration area: its trips are routed on the network and the
    allowance is the mean of observed minus routed minutes (least squares for a constant).
    The network model's error can then be set beside the straight-line model's on the
    same trips.
``via the fitted line``
    It does not (the Rutland extract covers neither area): pairs of points on the
    network's settlement roads are routed, weighted so that their straight-line
    distances follow those of the calibration trips, and the allowance is the mean of
    the fitted line (:data:`~mergeopt.inputs.travel.ROAD_MODEL`) minus routed minutes. As the
    line's mean equals the observed mean on the calibration trips, this matches the
    real drive times on average, *if* the network's area relates roads to straight
    lines as the calibration areas do. It is a transfer, not a validation: no network
    time is compared with a real one.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from mergeopt._errors import InputError
from mergeopt.inputs.calibration import CALIBRATION_AREAS, calibration_trips
from mergeopt.inputs.roads.network import ROAD_CLASSES, RoadNetwork
from mergeopt.inputs.roads.routing import route, snap
from mergeopt.inputs.roads.speeds import SpeedProfile
from mergeopt.inputs.travel import ROAD_MODEL

__all__ = ["SETTLEMENT_CLASSES", "AllowanceFit", "fit_trip_allowance"]

FloatArray = npt.NDArray[np.float64]

#: Road classes whose nodes stand for where people live and practices stand, when pairs
#: of points are drawn on a network.
SETTLEMENT_CLASSES = ("tertiary", "unclassified", "residential", "living_street")

#: Width of the distance bins used to weight drawn pairs like the calibration trips.
_BIN_KM = 1.0


@dataclass(frozen=True, eq=False)
class AllowanceFit:
    """The fitted allowance and the trips it was fitted on.

    Attributes
    ----------
    trip_minutes : float
        The fitted start/finish allowance, minutes.
    method : str
        ``"direct"`` or ``"via the fitted line"`` (see the module docstring).
    covered : dict of str to int
        Calibration trips under ``max_km`` the network covers, by area name.
    max_km : float
        Only trips (or pairs) shorter than this, straight line, were used.
    trips : pandas.DataFrame
        One row per trip or drawn pair, default RangeIndex: ``km`` (straight line),
        ``routed`` (network minutes without the allowance: gaps and drive), ``line``
        (:data:`~mergeopt.inputs.travel.ROAD_MODEL` minutes), ``observed`` (real minutes; NaN
        for drawn pairs), ``weight`` (1 for real trips).
    """

    trip_minutes: float
    method: str
    covered: dict[str, int]
    max_km: float
    trips: pd.DataFrame

    @property
    def network_minutes(self) -> FloatArray:
        """The network model's minutes for each trip: routed plus the fitted allowance."""
        return self.trips["routed"].to_numpy(dtype=np.float64) + self.trip_minutes

    def by_band(self) -> pd.DataFrame:
        """Differences by straight-line distance band (5 km wide), in minutes.

        Index: band label (``"0-5"``); columns ``trips``; ``network_minus_line`` and
        ``abs_network_minus_line`` (weighted means); and, for real trips,
        ``network_error``, ``network_mae``, ``line_error``, ``line_mae`` (model minus
        observed).
        """
        edges = [*np.arange(0.0, self.max_km, 5.0).tolist(), self.max_km]
        labels = [f"{lo:g}-{hi:g}" for lo, hi in itertools.pairwise(edges)]
        band = pd.cut(self.trips["km"], bins=edges, labels=labels, right=False)
        frame = pd.DataFrame(
            {
                "band": band,
                "weight": self.trips["weight"],
                "network_minus_line": self.network_minutes - self.trips["line"],
            }
        )
        frame["abs_network_minus_line"] = frame["network_minus_line"].abs()
        observed = self.trips["observed"]
        if observed.notna().any():
            frame["network_error"] = self.network_minutes - observed
            frame["network_mae"] = frame["network_error"].abs()
            frame["line_error"] = self.trips["line"] - observed
            frame["line_mae"] = frame["line_error"].abs()
        columns = [c for c in frame.columns if c not in ("band", "weight")]
        rows = {}
        for label, group in frame.groupby("band", observed=True):
            weights = group["weight"].to_numpy()
            row: dict[str, float] = {"trips": len(group)}
            row |= {c: float(np.average(group[c], weights=weights)) for c in columns}
            rows[label] = row
        return pd.DataFrame.from_dict(rows, orient="index")


def fit_trip_allowance(
    network: RoadNetwork,
    travel_dir: Path,
    *,
    profile: SpeedProfile,
    max_km: float = 25.0,
    sample: int = 400,
    seed: int = 0,
) -> AllowanceFit:
    """Fit the allowance on the real drive times in ``travel_dir`` (see the module).

    Parameters
    ----------
    network : RoadNetwork
    travel_dir : pathlib.Path
        The calibration data (``data/travel``).
    profile : SpeedProfile
        Speeds to route with; its own ``trip_minutes`` is not used.
    max_km : float, optional
        Use trips (and pairs) shorter than this, straight line, as the line's fit does.
    sample : int, optional
        Points drawn on the network when it covers no calibration area.
    seed : int, optional
        Seed of the draw.

    Returns
    -------
    AllowanceFit
    """
    calibration = _calibration_points(travel_dir)
    calibration = calibration.loc[calibration["km"] < max_km]
    direct, covered = _covered_trips(network, calibration, profile=profile)
    if len(direct):
        allowance = float(np.mean(direct["observed"] - direct["routed"]))
        return AllowanceFit(allowance, "direct", covered, max_km, direct)
    drawn = _drawn_pairs(network, calibration["km"].to_numpy(), profile, max_km, sample, seed)
    weights = drawn["weight"].to_numpy()
    allowance = float(np.average(drawn["line"] - drawn["routed"], weights=weights))
    return AllowanceFit(allowance, "via the fitted line", covered, max_km, drawn)


def _calibration_points(travel_dir: Path) -> pd.DataFrame:
    """Every calibration trip: its area, both ends, straight-line km and observed minutes."""
    trips = calibration_trips(travel_dir)
    return pd.DataFrame(
        {
            "area": trips["area"],
            "x0": trips["lsoa_easting"],
            "y0": trips["lsoa_northing"],
            "x1": trips["hospital_easting"],
            "y1": trips["hospital_northing"],
            "km": trips["km"],
            "observed": trips["minutes"],
        }
    )


def _covered_trips(
    network: RoadNetwork, calibration: pd.DataFrame, *, profile: SpeedProfile
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The calibration trips whose both ends lie on the network, routed."""
    xmin, ymin, xmax, ymax = network.extent
    inside = np.ones(len(calibration), dtype=bool)
    for x, y in (("x0", "y0"), ("x1", "y1")):
        inside &= calibration[x].between(xmin, xmax) & calibration[y].between(ymin, ymax)
    trips = calibration.loc[inside]
    covered = {area: int((trips["area"] == area).sum()) for area in CALIBRATION_AREAS.values()}
    if trips.empty:
        return trips.assign(routed=[], line=[], weight=[]), covered
    east = np.concatenate([trips["x0"].to_numpy(), trips["x1"].to_numpy()])
    north = np.concatenate([trips["y0"].to_numpy(), trips["y1"].to_numpy()])
    codes = [f"trip {k} {end}" for end in ("origin", "destination") for k in range(len(trips))]
    try:
        ends = snap(network, codes, east, north, profile=profile)
    except InputError:
        return trips.iloc[:0].assign(routed=[], line=[], weight=[]), dict.fromkeys(covered, 0)
    gap = ends.gap_m / 1000.0 / profile.offroad_kmh * 60.0
    half = len(trips)
    drive = route(network, ends.node[:half], ends.node[half:], profile=profile)
    routed = np.diag(drive) + gap[:half] + gap[half:]
    table = pd.DataFrame(
        {
            "km": trips["km"].to_numpy(),
            "routed": routed,
            "line": ROAD_MODEL.minutes(trips["km"].to_numpy()),
            "observed": trips["observed"].to_numpy(),
            "weight": 1.0,
        }
    )
    return table, covered


def _drawn_pairs(
    network: RoadNetwork,
    calibration_km: FloatArray,
    profile: SpeedProfile,
    max_km: float,
    sample: int,
    seed: int,
) -> pd.DataFrame:
    """Ordered pairs of settlement-road nodes under ``max_km``, routed, weighted so their
    distances follow the calibration trips' (1 km bins)."""
    settlement = np.isin(network.road_class, [ROAD_CLASSES.index(c) for c in SETTLEMENT_CLASSES])
    candidates = np.unique(network.tail[settlement])
    rng = np.random.default_rng(seed)
    points = rng.choice(candidates, size=min(sample, len(candidates)), replace=False)
    drive = route(network, points, points, profile=profile)
    x, y = network.x[points], network.y[points]
    km = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :]) / 1000.0
    keep = (km > 0) & (km < max_km) & np.isfinite(drive)
    km, drive = km[keep], drive[keep]
    bins = np.arange(0.0, max_km + _BIN_KM, _BIN_KM)
    want = np.histogram(calibration_km, bins=bins)[0] / len(calibration_km)
    have = np.histogram(km, bins=bins)[0] / len(km)
    ratio = np.divide(want, have, out=np.zeros_like(want), where=have > 0)
    weight = ratio[np.clip(np.digitize(km, bins) - 1, 0, len(ratio) - 1)]
    return pd.DataFrame(
        {
            "km": km,
            "routed": drive,
            "line": ROAD_MODEL.minutes(km),
            "observed": np.nan,
            "weight": weight,
        }
    )
