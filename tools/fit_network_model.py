"""Fit the road network's trip allowance and compare the network model with the fitted line.

    python tools/fit_network_model.py --network ../shared/data/roads/rutland-latest.osm.pbf

Routes on the given OpenStreetMap extract (or OS Open Roads GeoPackage) with the default
speed profile, fits the start/finish allowance against the real drive times in
data/travel (``mergeopt.inputs.roads.fit.fit_trip_allowance``: directly where the network
covers a calibration area, else through the fitted straight line), and prints the evidence as
markdown: the fit, the two models side by side by distance, and a practice table. Its
output for the Rutland extract is pasted into docs/travel_model.md (a test checks that
the two agree), and ``mergeopt.inputs.roads.speeds.TRIP_MINUTES`` holds the rounded fit.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mergeopt.inputs.roads.fit import SETTLEMENT_CLASSES, AllowanceFit, fit_trip_allowance
from mergeopt.inputs.roads.network import RoadNetwork
from mergeopt.inputs.roads.readers import read_roads
from mergeopt.inputs.roads.routing import drive_minutes
from mergeopt.inputs.roads.speeds import TRIP_MINUTES, SpeedProfile
from mergeopt.inputs.travel import ROAD_MODEL, straight_line_km

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TRAVEL_DIR = ROOT / "data" / "travel"
DEFAULT_PRACTICES = ROOT / "data" / "england" / "practices.csv"
#: Rutland Health PCN (U67590): the practices the Rutland extract covers.
RUTLAND = ("C82010", "C82044", "C82077", "C82649")
SEEDS = (0, 1, 2)
SAMPLE = 1000
# The source's values are all 5.80 + 1.074 k for whole k (docs/travel_model.md).
SOURCE_OFFSET = 5.80


def main(argv: Sequence[str] | None = None) -> int:
    """Print the report for ``--network``; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", type=Path, required=True)
    parser.add_argument("--travel-dir", type=Path, default=DEFAULT_TRAVEL_DIR)
    parser.add_argument("--practices", type=Path, default=DEFAULT_PRACTICES)
    parser.add_argument("--codes", nargs="*", default=list(RUTLAND))
    args = parser.parse_args(argv)
    print(report_markdown(args.network, args.travel_dir, args.practices, args.codes), end="")
    return 0


def report_markdown(
    network_path: Path, travel_dir: Path, practices: Path, codes: Sequence[str]
) -> str:
    """The whole report as markdown, ending in a newline."""
    network = read_roads(network_path)
    profile = SpeedProfile()
    fits = [
        fit_trip_allowance(network, travel_dir, profile=profile, sample=SAMPLE, seed=seed)
        for seed in SEEDS
    ]
    allowance = float(np.mean([fit.trip_minutes for fit in fits]))
    sections = [
        _summary(network_path, network, fits, allowance),
        _bands(fits[0], allowance),
        _practices(network, practices, codes, SpeedProfile(trip_minutes=allowance)),
    ]
    return "\n".join(sections)


def _summary(path: Path, network: RoadNetwork, fits: list[AllowanceFit], allowance: float) -> str:
    first = fits[0]
    covered = ", ".join(f"{area} {n}" for area, n in first.covered.items())
    rounded = round(allowance, 1)
    agrees = "yes" if rounded == TRIP_MINUTES else f"NO, it holds {TRIP_MINUTES}: update it"
    lines = [
        "### Allowance fit",
        "",
        f"- Network: `{path.name}`, {network.nodes:,} nodes and {network.edges:,} one-way "
        f"edges kept (the largest strongly connected part of {network.roads_read:,} "
        "car-road nodes read).",
        f"- Calibration trips under {first.max_km:g} km the network covers: {covered}; "
        f"method: **{first.method}**.",
    ]
    if first.method != "direct":
        pairs = len(first.trips)
        lines.append(
            f"- Pairs: {SAMPLE} random nodes of {', '.join(SETTLEMENT_CLASSES)} roads "
            f"per seed, the {pairs:,} ordered pairs under {first.max_km:g} km (seed "
            f"{SEEDS[0]}), weighted in 1 km bins to the calibration trips' distances."
        )
    per_seed = ", ".join(f"{fit.trip_minutes:.2f}" for fit in fits)
    lines += [
        f"- Allowance by seed ({', '.join(map(str, SEEDS))}): {per_seed} minutes; "
        f"mean {allowance:.2f}.",
        f"- Rounded: `trip_minutes = {rounded}`; matches "
        f"`mergeopt.inputs.roads.speeds.TRIP_MINUTES`: "
        f"{agrees}. (The source's own fixed offset per trip is {SOURCE_OFFSET:.2f}.)",
    ]
    return "\n".join(lines) + "\n"


def _bands(fit: AllowanceFit, allowance: float) -> str:
    refit = AllowanceFit(allowance, fit.method, fit.covered, fit.max_km, fit.trips)
    table = refit.by_band()
    heading = (
        "### Network model minus the fitted line, by straight-line distance (minutes)\n\n"
        f"Allowance {allowance:.2f}; seed {SEEDS[0]}'s pairs, weighted as fitted.\n\n"
    )
    rows = ["| km | pairs | mean difference | mean absolute difference |", "|---|---:|---:|---:|"]
    rows += [
        f"| {band} | {int(row['trips']):,} | {row['network_minus_line']:+.2f} "
        f"| {row['abs_network_minus_line']:.2f} |"
        for band, row in table.iterrows()
    ]
    return heading + "\n".join(rows) + "\n"


def _practices(
    network: RoadNetwork, practices: Path, codes: Sequence[str], profile: SpeedProfile
) -> str:
    table = pd.read_csv(practices, dtype={"practice_code": str}).set_index("practice_code")
    chosen = table.loc[list(codes)]
    east = chosen["easting"].to_numpy(dtype=float)
    north = chosen["northing"].to_numpy(dtype=float)
    network_minutes = drive_minutes(network, list(codes), east, north, profile=profile)
    km = straight_line_km(east, north)
    line = ROAD_MODEL.minutes(km)
    rows = [
        "| from | to | km | line | network | network - line |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for i, origin in enumerate(codes):
        for j, destination in enumerate(codes):
            if i != j:
                rows.append(
                    f"| {origin} | {destination} | {km[i, j]:.1f} | {line[i, j]:.1f} "
                    f"| {network_minutes[i, j]:.1f} | {network_minutes[i, j] - line[i, j]:+.1f} |"
                )
    names = ", ".join(f"{code} {str(chosen.loc[code, 'practice_name']).title()}" for code in codes)
    heading = f"### The practices, both ways (minutes)\n\n{names}.\n\n"
    return heading + "\n".join(rows) + "\n"


if __name__ == "__main__":
    sys.exit(main())
