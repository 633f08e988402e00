"""Eurostat GISCO's 1 km census population grid 2021 (``Eurostat_Census-GRID_2021_V2.2.zip``), clipped to France.

The zip holds a GeoPackage (or, in later versions, a CSV) of 1 km cells of
the ETRS89-LAEA grid (EPSG:3035), one row per cell: ``GRD_ID``
("CRS3035RES1000mN2029000E3210000": the south-west corner, metres) and ``T``,
the total population (negative values mean confidential or not available).
The converter keeps the cells of :data:`FRANCE_BOUNDS_3035` (metropolitan
France, the extent of the mirror's raster), and, where the file gives a
country field, only cells counted for France; it writes the mirror's raster:
int32, 0 = no population, -1 = nodata (no cell).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import rasterio
from rasterio.transform import from_origin

from coworking_geo.errors import InputFileError
from coworking_geo.io import atomic_path
from coworking_geo.log import get_logger

log = get_logger(__name__)

FRANCE_BOUNDS_3035 = (3210000.0, 2029000.0, 4285000.0, 3137000.0)  # left, bottom, right, top
CELL_M = 1000
COUNTRY_FIELDS = ("CNTR_ID", "CNTR_CODE", "CNTR")
NODATA = -1


def read_cells(archive: Path, bounds: tuple[float, float, float, float] = FRANCE_BOUNDS_3035) -> pd.DataFrame:
    """Cells of the grid within ``bounds``: ``east, north`` (south-west corner, m) and ``pop``."""
    try:
        z = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise InputFileError(archive, "not a zip archive (truncated download?)") from None
    with z, tempfile.TemporaryDirectory(dir=archive.parent) as tmp:
        gpkg = [n for n in z.namelist() if n.lower().endswith(".gpkg")]
        csvs = [n for n in z.namelist() if n.lower().endswith(".csv")]
        if gpkg:
            path = Path(z.extract(gpkg[0], tmp))
            df = pyogrio.read_dataframe(path, bbox=bounds, read_geometry=False)
        elif csvs:
            df = pd.read_csv(io.BytesIO(z.read(max(csvs, key=lambda n: z.getinfo(n).file_size))), dtype=str)
        else:
            raise InputFileError(archive, f"no GeoPackage nor CSV inside the zip: {z.namelist()[:10]}")
    if not {"GRD_ID", "T"} <= set(df.columns):
        raise InputFileError(archive, f"missing GRD_ID / T; columns found: {list(df.columns)[:15]}")
    pos = df["GRD_ID"].astype(str).str.extract(r"N(\d+)E(\d+)$").astype(float)
    cells = pd.DataFrame({"north": pos[0], "east": pos[1], "pop": pd.to_numeric(df["T"], errors="coerce")})
    country = next((c for c in COUNTRY_FIELDS if c in df.columns), None)
    keep = cells["east"].between(bounds[0], bounds[2] - CELL_M) & cells["north"].between(bounds[1], bounds[3] - CELL_M)
    if country:
        keep &= df[country].astype(str).str.contains("FR", na=False)
    return cells[keep.to_numpy()].reset_index(drop=True)


def write_france_grid(archive: Path, target: Path) -> None:
    """The France raster of the mirror (EPSG:3035, 1 km, int32 inhabitants, -1 nodata)."""
    left, bottom, right, top = FRANCE_BOUNDS_3035
    width, height = int((right - left) // CELL_M), int((top - bottom) // CELL_M)
    cells = read_cells(archive)
    arr = np.full((height, width), NODATA, dtype="int32")
    rows = ((top - cells["north"]) // CELL_M - 1).astype(int).to_numpy()
    cols = ((cells["east"] - left) // CELL_M).astype(int).to_numpy()
    arr[rows, cols] = cells["pop"].fillna(0).clip(lower=0).round().astype("int32").to_numpy()
    profile = {"driver": "GTiff", "dtype": "int32", "nodata": NODATA, "width": width, "height": height, "count": 1,
               "crs": "EPSG:3035", "transform": from_origin(left, top, CELL_M, CELL_M), "compress": "deflate"}
    with atomic_path(target) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(arr, 1)
    log.info("%s: %d cells, %d inhabitants", target.name, len(cells), int(arr.clip(min=0).sum()))
