"""The config's JSON schema, with a description for every field, for editors.

``mergeopt schema`` prints it; an editor with the YAML language server checks and
completes a config from it (see README, Config reference). The descriptions live here,
beside the schema, so the config models stay short; a test holds every field to one.
"""

from __future__ import annotations

from typing import Any

from mergeopt.config import Config

#: What each field means, by model and field, as the README's config reference says.
DESCRIPTIONS: dict[str, str] = {
    "Config.name": "The run's name: letters, digits, _ . - (names the run directory).",
    "Config.description": "Free text saying what the config asks.",
    "Config.inputs": "Where the practices come from (a table, or NHS Digital's files).",
    "Config.groups": "List-size bounds and the number of groups.",
    "Config.travel": "How travel to a hub is measured, and its limits.",
    "Config.premises": "Which practices' premises can host a group of a given size.",
    "Config.rules": "Takeovers, hubs forced or forbidden, links, nesting.",
    "Config.geography": "The study area, for catchments and maps.",
    "Config.maps": "Write the maps (map.png, map.html, groups.gpkg) into the run directory.",
    "Config.objective": "Weights of the objective's terms, all minimised.",
    "Config.solver": "Which MIP solver to use and when to stop.",
    "Config.federations": "A second level: networks grouped whole into federations.",
    "Federations.mode": "today (group today's networks), proposed (networks first) or joint.",
    "Federations.min_list_size": "Fewest patients in a federation (default 0).",
    "Federations.max_list_size": "Most patients in a federation (default: no maximum).",
    "Federations.count": "How many federations: a number, or {min, max}; default any number.",
    "Federations.max_minutes": "Longest travel from a network's hub to its federation's hub.",
    "Federations.max_km": "Longest straight-line distance from network hub to federation hub.",
    "Federations.nest_by": "A column whose values no federation (and no network) may cross.",
    "Federations.premises": "Whether a federation hub's premises must serve the federation.",
    "Federations.hub_column": "A column saying who may host a federation hub: must, may, never.",
    "FederationPremises.rule": "none, capacity or floor_area, as premises.rule for networks.",
    "FederationPremises.m2_per_patient": "With floor_area: a hub serves floor area / this.",
    "FederationPremises.capacity_column": "With capacity: the column of patients it can serve.",
    "Objective.federation_travel": "Weight of travel from network hubs to federation hubs.",
    "Objective.federations": "Weight per federation.",
    "Config.sweep": "For mergeopt sweep: the keys to vary, or the column to split by.",
    "Columns.code": "Column of the practice code (ODS code).",
    "Columns.name": "Column of the practice name.",
    "Columns.list_size": "Column of the registered patients (the list size).",
    "Columns.lat": "Column of the latitude (WGS84), with location latlong or auto.",
    "Columns.long": "Column of the longitude (WGS84), with location latlong or auto.",
    "Columns.easting": "Column of the easting (EPSG:27700 metres), with location bng or auto.",
    "Columns.northing": "Column of the northing (EPSG:27700 metres).",
    "Columns.list_size_date": "Column of the date the list sizes were counted (kept in run.json).",
    "Columns.current_group": "Column of the current network's code (U: unallocated); null: none.",
    "Columns.current_group_name": "Column of the current network's name, shown on maps beside "
    "its code (optional); null: none.",
    "Columns.capacity": "Column of the patients a practice's premises can serve as a hub.",
    "Columns.floor_area": "Column of the premises' floor area in m² (premises.rule floor_area).",
    "Columns.hub_eligibility": "Column saying whether a practice must, may or never host a group.",
    "CountRange.min": "Fewest groups.",
    "CountRange.max": "Most groups.",
    "FixedGroup.hub": "The practice whose group the others join (the takeover's hub).",
    "FixedGroup.practices": "The practices that join the hub's group.",
    "Geography.boundary": "Boundary file of the study area (e.g. the ONS CCG boundaries).",
    "Geography.boundary_field": "The boundary file's column to match boundary_values in.",
    "Geography.boundary_values": "The values of boundary_field that make the study area.",
    "Geography.catchments": "How practice catchments are drawn: voronoi or lsoa.",
    "Geography.lsoa": "LSOA boundary file, for catchments lsoa.",
    "Geography.contiguous": "Each group's catchment must be one connected piece.",
    "Groups.min_list_size": "Fewest patients in a group (default 0).",
    "Groups.max_list_size": "Most patients in a group (default: no maximum).",
    "Groups.count": "How many groups: a number, or {min, max}; default any number.",
    "Groups.oversize": "A practice above max_list_size: stop (default) or alone (own group).",
    "Groups.remote": (
        "A practice that can reach no group: stop (default), alone (each such practice"
        " stands alone, below the minimum if need be) or a list of the codes that stand alone."
    ),
    "Inputs.practices": "The practices table: .csv, .parquet, .gpkg or .geojson.",
    "Inputs.nhs": "NHS Digital's files as downloaded, instead of a practices table.",
    "Inputs.premises": "A premises table joined on the practice code (optional).",
    "Inputs.columns": "Column names in the practices table, if not the defaults.",
    "Inputs.location": "Where practices are: auto, bng, latlong or geometry.",
    "Inputs.select": "Only the practices with these values, e.g. {icb_code: [QOQ]}.",
    "NhsFiles.list_sizes": "gp-reg-pat-prac-all.csv: patients registered at each practice.",
    "NhsFiles.postcodes": "A postcode lookup (NSPL/ONSPD-style) with coordinates.",
    "NhsFiles.mapping": "gp-reg-pat-prac-map.csv: each practice's PCN, sub-ICB and ICB.",
    "NhsFiles.epraccur": "ODS epraccur.csv: practice status, to leave closed practices out.",
    "NhsFiles.epcn_partners": "The ePCN practice-to-network sheet, as CSV.",
    "NhsFiles.epcn_details": "The ePCN network details sheet, as CSV (network names).",
    "NhsFiles.icb": "ICB codes to select, e.g. QOQ.",
    "NhsFiles.sub_icb": "Sub-ICB codes to select, e.g. 03F.",
    "NhsFiles.pcn": "PCN codes to select, e.g. U82095.",
    "NhsFiles.practices": "Practice codes to select.",
    "Objective.travel": "Weight of patient-weighted travel to the hub (patient-minutes).",
    "Objective.weight_by_list_size": "Weigh travel by list size; false: each practice once.",
    "Objective.moved_patients": "Weight per patient whose practice leaves its current group.",
    "Objective.groups": "Weight per group.",
    "Objective.max_travel": "Weight on the longest travel of any practice.",
    "Premises.rule": "Which premises may host a group: none, capacity or floor_area.",
    "Premises.m2_per_patient": "With floor_area: a hub serves its floor area / this patients.",
    "RoadProfile.speeds_kmh": "km/h by OpenStreetMap road class where no limit is tagged.",
    "RoadProfile.maxspeed_factor": "A tagged speed limit is driven at this fraction of it.",
    "RoadProfile.offroad_kmh": "Speed from a practice to its nearest road (walk, parking).",
    "RoadProfile.trip_minutes": "Start and finish allowance added to every trip, minutes.",
    "RoadProfile.max_offroad_m": "A practice farther than this from any road is an error.",
    "Rules.fixed": "Takeovers: these practices join the hub's group.",
    "Rules.forced_hubs": "Practices that must host a group.",
    "Rules.forbidden_hubs": "Practices that may not host a group.",
    "Rules.must_link": "Pairs (or sets) of practices always in the same group.",
    "Rules.cannot_link": "Pairs of practices never in the same group.",
    "Rules.nest_by": "A column whose values groups may not cross (e.g. icb_code).",
    "Solver.name": "highs (default, through highspy) or cbc.",
    "Solver.time_limit": "Seconds the solver may take.",
    "Solver.gap": "Relative gap at which the solver may stop.",
    "Solver.threads": "CPUs the solver may use (default: all this process may use).",
    "Solver.log": "Show the solver's own log.",
    "Solver.seed": "HiGHS's random seed (whole number, 0 or more): another seed takes HiGHS "
    "another path to the same optimum, in a different time.",
    "Sweep.vary": "Keys to vary and their values, e.g. {groups.count: [6, 7, 8]}.",
    "Sweep.split_by": "A column: one scenario per value (e.g. icb_code).",
    "Sweep.scheduler": "A Dask scheduler address to run the scenarios on.",
    "Sweep.workers": "Local processes to run the scenarios in (default: one per CPU).",
    "Travel.model": "road (drive minutes), straight_line (km), matrix or network.",
    "Travel.matrix": "With model matrix: a CSV of origin, destination, minutes.",
    "Travel.network": "With model network: an OpenStreetMap .osm.pbf or OS Open Roads .gpkg.",
    "Travel.profile": "With model network: changes to the speed profile.",
    "Travel.cache_dir": "With model network: where routed minutes are cached.",
    "Travel.max_minutes": "Longest travel to a hub in minutes (road, network or matrix).",
    "Travel.max_km": "Longest straight-line distance to a hub in km.",
}


def config_schema() -> dict[str, Any]:
    """The config's JSON schema (draft 2020-12), every field described."""
    schema = Config.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mergeopt config"
    _describe("Config", schema)
    for model, part in schema.get("$defs", {}).items():
        _describe(model, part)
    return schema


def undescribed(schema: dict[str, Any]) -> list[str]:
    """Fields of a schema with no description (``Model.field``)."""
    missing = [f"Config.{k}" for k, v in schema["properties"].items() if not v.get("description")]
    for model, part in schema.get("$defs", {}).items():
        for key, field in part.get("properties", {}).items():
            if not field.get("description"):
                missing.append(f"{model}.{key}")
    return missing


def _describe(model: str, part: dict[str, Any]) -> None:
    for key, field in part.get("properties", {}).items():
        text = DESCRIPTIONS.get(f"{model}.{key}")
        if text and not field.get("description"):
            field["description"] = text
