"""The layers of a grouping as a GeoPackage, to open in QGIS, coloured.

Field names are the CSVs' (``practice_code``, ``practice_name``, ``group``, ``hub``,
``hub_name``, ``travel``, ``current_group``, ``moved``). Each layer's style is saved in the
file's ``layer_styles`` table, where QGIS looks for a default style (QML, with an SLD
beside it for other tools): groups and practices in the colours of map.png and map.html.
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd

from mergeopt.geo.maps.layers import MapLayers
from mergeopt.geo.maps.style import FEDERATION_COLOUR, current_colours, proposal_colours

#: The table QGIS reads a GeoPackage's saved layer styles from.
STYLES = "layer_styles"


def write_geopackage(layers: MapLayers, path: Path) -> None:
    """practices, hubs, practice_catchments, group_catchments, hub_lines (and
    current_networks; federations, the outlines of a two-level plan's federations) in
    EPSG:27700, each with its saved style."""
    path.unlink(missing_ok=True)
    practices = practice_table(layers)
    practices.to_file(path, layer="practices", driver="GPKG")
    practices[practices["is_hub"]].to_file(path, layer="hubs", driver="GPKG")
    own = gpd.GeoDataFrame(
        practices.drop(columns="geometry"),
        geometry=layers.catchments.frame.geometry.reindex(practices["practice_code"]).to_numpy(),
        crs=layers.practices.crs,
    )
    own.to_file(path, layer="practice_catchments", driver="GPKG")
    groups = layers.groups.reset_index()
    groups.to_file(path, layer="group_catchments", driver="GPKG")
    layers.lines.to_file(path, layer="hub_lines", driver="GPKG")
    colours = proposal_colours(layers)
    names = {str(g): _group_label(g, r["hub_name"]) for g, r in layers.groups.iterrows()}
    styles = {
        "practices": _qml("marker", "group", colours, names, size=2.6),
        "hubs": _qml("marker", "group", colours, names, size=4.5, shape="star"),
        "practice_catchments": _qml("fill", "group", colours, names, alpha=0.35),
        "group_catchments": _qml("fill", "group", colours, names, alpha=0.55),
    }
    if layers.current is not None:
        current = layers.current.reset_index()
        current.to_file(path, layer="current_networks", driver="GPKG")
        label = str(current.columns[0])
        ours = current_colours(layers)
        titles = {
            str(code): f"{name} ({code})" if name else str(code)
            for code, name in zip(current[label], current.get("name", ""), strict=False)
        }
        styles["current_networks"] = _qml("fill", label, ours, titles, alpha=0.55)
    if layers.federations is not None:
        federations = layers.federations.reset_index()
        federations.to_file(path, layer="federations", driver="GPKG")
        black = {str(f): FEDERATION_COLOUR for f in federations["federation"]}
        titles = {
            str(f): _group_label(f, name)
            for f, name in zip(federations["federation"], federations["hub_name"], strict=True)
        }
        styles["federations"] = _qml("fill", "federation", black, titles, alpha=0.0, outline=0.9)
    save_styles(path, styles)


def practice_table(layers: MapLayers) -> gpd.GeoDataFrame:
    """The practices layer, in the CSVs' words: practice_code, practice_name, list_size,
    group, hub, hub_name, travel, current_group, moved, is_hub."""
    p = layers.practices
    hub_names = p.loc[p["is_hub"]].set_index("group")["name"]
    table = pd.DataFrame(
        {
            "practice_code": p.index.astype(str),
            "practice_name": p["name"].astype(str).to_numpy(),
            "list_size": p["list_size"].to_numpy(),
            "group": p["group"].to_numpy(),
            "hub": p["hub"].to_numpy(),
            "hub_name": hub_names.reindex(p["group"]).fillna("").to_numpy(),
            "travel": p["travel"].to_numpy(),
            "current_group": p["current_group"].to_numpy(),
            "moved": p["moved"].to_numpy() if "moved" in p.columns else False,
            "is_hub": p["is_hub"].to_numpy(),
        }
    )
    for column in ("federation", "federation_hub"):  # a two-level plan's
        if column in p.columns:
            table[column] = p[column].to_numpy()
    return gpd.GeoDataFrame(table, geometry=p.geometry.to_numpy(), crs=p.crs)


def save_styles(path: Path, styles: dict[str, tuple[str, str]]) -> None:
    """Save each layer's (QML, SLD) style as its default in the file's layer_styles table
    (the table QGIS makes itself), registered in gpkg_contents as a table of attributes."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    with sqlite3.connect(path) as db:
        db.execute(
            f"""CREATE TABLE IF NOT EXISTS {STYLES} (
                id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256),
                f_table_schema TEXT(256), f_table_name TEXT(256),
                f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT,
                styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30),
                ui TEXT(30), update_time DATETIME DEFAULT CURRENT_TIMESTAMP)"""
        )
        db.execute(
            "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, "
            "last_change) VALUES (?, 'attributes', ?, ?)",
            (STYLES, STYLES, now),
        )
        for layer, (qml, sld) in styles.items():
            column = db.execute(
                "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (layer,)
            ).fetchone()
            db.execute(
                f"INSERT INTO {STYLES} (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, "
                "description, owner, ui, update_time) "
                "VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, '', '', ?)",
                (layer, column[0] if column else "geom", layer, qml, sld,
                 "mergeopt: the colours of map.png and map.html", now),
            )  # fmt: skip


def _group_label(group: object, hub_name: object) -> str:
    hub = str(hub_name).strip()
    return f"{hub.title()} ({group})" if hub else str(group)


def _rgba(colour: str, alpha: float = 1.0) -> str:
    red, green, blue = (int(colour[k : k + 2], 16) for k in (1, 3, 5))
    return f"{red},{green},{blue},{round(alpha * 255)}"


def _qml(
    kind: str,
    field: str,
    colours: dict[str, str],
    labels: dict[str, str],
    *,
    alpha: float = 1.0,
    size: float = 2.5,
    shape: str = "circle",
    outline: float | None = None,
) -> tuple[str, str]:
    """A categorised style on ``field``, one colour per value: (QML, SLD). ``outline``
    (mm) draws a fill's edge in its colour, that wide (a federation's black outline);
    without, the edge is thin and white."""
    qgis = ET.Element("qgis", version="3.28.0", styleCategories="Symbology")
    renderer = ET.SubElement(
        qgis, "renderer-v2", type="categorizedSymbol", attr=field, symbollevels="0",
        enableorderby="0", forceraster="0",
    )  # fmt: skip
    categories = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for k, (value, colour) in enumerate(colours.items()):
        ET.SubElement(
            categories, "category", value=value, label=labels.get(value, value), symbol=str(k),
            render="true",
        )  # fmt: skip
        symbol = ET.SubElement(
            symbols, "symbol", type=kind, name=str(k), alpha="1", clip_to_extent="1",
            force_rhr="0",
        )  # fmt: skip
        props = (
            {"color": _rgba(colour, alpha),
             "outline_color": "255,255,255,255" if outline is None else _rgba(colour),
             "outline_width": "0.4" if outline is None else f"{outline:g}",
             "style": "solid" if alpha > 0 else "no", "outline_style": "solid"}
            if kind == "fill"
            else {"color": _rgba(colour), "outline_color": "0,0,0,255", "outline_width": "0.2",
                  "name": shape, "size": f"{size:g}"}
        )  # fmt: skip
        kind_class = "SimpleFill" if kind == "fill" else "SimpleMarker"
        layer = ET.SubElement(
            symbol, "layer", {"pass": "0", "enabled": "1", "locked": "0", "class": kind_class}
        )
        option = ET.SubElement(layer, "Option", type="Map")
        for key, text in props.items():
            ET.SubElement(option, "Option", name=key, type="QString", value=text)
            ET.SubElement(layer, "prop", k=key, v=text)  # QGIS before 3.26 reads these
    qml = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(
        qgis, encoding="unicode"
    )
    return qml, _sld(kind, field, colours, labels, alpha=alpha)


def _sld(
    kind: str, field: str, colours: dict[str, str], labels: dict[str, str], *, alpha: float
) -> str:
    """The same categories as a Styled Layer Descriptor (SLD 1.1), for other tools."""
    se = "http://www.opengis.net/se"
    ogc = "http://www.opengis.net/ogc"
    ET.register_namespace("se", se)
    ET.register_namespace("ogc", ogc)
    root = ET.Element("StyledLayerDescriptor", version="1.1.0", xmlns="http://www.opengis.net/sld")
    style = ET.SubElement(
        ET.SubElement(ET.SubElement(root, "NamedLayer"), "UserStyle"), f"{{{se}}}FeatureTypeStyle"
    )
    for value, colour in colours.items():
        rule = ET.SubElement(style, f"{{{se}}}Rule")
        ET.SubElement(rule, f"{{{se}}}Name").text = labels.get(value, value)
        equal = ET.SubElement(
            ET.SubElement(rule, f"{{{ogc}}}Filter"), f"{{{ogc}}}PropertyIsEqualTo"
        )
        ET.SubElement(equal, f"{{{ogc}}}PropertyName").text = field
        ET.SubElement(equal, f"{{{ogc}}}Literal").text = value
        if kind == "fill":
            fill = ET.SubElement(
                ET.SubElement(rule, f"{{{se}}}PolygonSymbolizer"), f"{{{se}}}Fill"
            )
            ET.SubElement(fill, f"{{{se}}}SvgParameter", name="fill").text = colour
            ET.SubElement(fill, f"{{{se}}}SvgParameter", name="fill-opacity").text = f"{alpha:g}"
        else:
            mark = ET.SubElement(
                ET.SubElement(ET.SubElement(rule, f"{{{se}}}PointSymbolizer"), f"{{{se}}}Graphic"),
                f"{{{se}}}Mark",
            )
            ET.SubElement(mark, f"{{{se}}}WellKnownName").text = "circle"
            fill = ET.SubElement(mark, f"{{{se}}}Fill")
            ET.SubElement(fill, f"{{{se}}}SvgParameter", name="fill").text = colour
    return ET.tostring(root, encoding="unicode")
