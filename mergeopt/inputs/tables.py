"""Reading tables from disk: CSV (tolerantly), Parquet, GeoPackage, GeoJSON.

CSVs are read as text, so codes keep their leading zeros; each reader turns the text
into typed columns and says which rows it could not read.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from mergeopt._errors import InputError


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV, Parquet, GeoPackage or GeoJSON file as it is.

    CSVs are read as text (codes keep leading zeros), tolerating a UTF-8 byte-order
    mark and Latin-1 (Excel exports).
    """
    if not path.exists():
        raise InputError(f"{path}: file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return _read_csv(path)
        if suffix == ".parquet":
            parquet: pd.DataFrame = pd.read_parquet(path)
            return parquet
        if suffix in (".gpkg", ".geojson", ".json", ".shp"):
            layer: pd.DataFrame = gpd.read_file(path)
            return layer
    except InputError:
        raise
    except Exception as exc:  # a reader's own message is the most useful one here
        raise InputError(f"{path}: cannot read ({str(exc).splitlines()[0]})") from None
    raise InputError(
        f"{path}: unsupported format '{suffix}' (use .csv, .parquet, .gpkg or .geojson)"
    )


def _read_csv(path: Path) -> pd.DataFrame:
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise InputError(f"{path}: the file is empty") from None
        except pd.errors.ParserError as exc:
            raise InputError(f"{path}: not a well-formed CSV ({str(exc).strip()})") from None
        duplicated = [c for c in frame.columns if "." in c and c.rsplit(".", 1)[0] in frame]
        if duplicated:
            raise InputError(f"{path}: column '{duplicated[0].rsplit('.', 1)[0]}' appears twice")
        return pd.DataFrame(frame.apply(lambda col: col.str.strip()).replace("", None))
    raise InputError(f"{path}: cannot decode the file as UTF-8 or Latin-1")  # pragma: no cover


def printable(text: object) -> str:
    """Text with control characters escaped, so a message stays on one line.

    >>> printable("a\\tb")
    'a\\\\tb'
    """
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
