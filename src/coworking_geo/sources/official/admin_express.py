"""IGN ADMIN EXPRESS COG / COG CARTO, the 7z archive of shapefiles (or GeoPackage) as IGN publishes it.

The archive holds one ``COMMUNE`` layer per delivery: a single one in the
``WGS84G_FRA`` editions (EPSG:4326, metropole and DROM), or one per territory
in the projected editions (Lambert-93 for metropolitan France, the local UTM
CRS for each DROM). Fields of the ``COMMUNE`` layer (IGN's data dictionary):
``ID, NOM, NOM_M, INSEE_COM, STATUT, POPULATION, INSEE_CAN, INSEE_ARR,
INSEE_DEP, INSEE_REG, SIREN_EPCI``; ``DEPARTEMENT`` has ``NOM, INSEE_DEP,
INSEE_REG`` and ``REGION`` has ``NOM, INSEE_REG``.

The mirror's files are written from it: the communes (every layer read,
reprojected to EPSG:4326, then coverage-simplified with
:data:`SIMPLIFY_TOLERANCE_M` so shared borders stay shared), and the
départements and régions dissolved from those communes, named from the
archive's ``DEPARTEMENT`` / ``REGION`` layers. IGN's polygons are the
full-resolution ones used to locate places; the atlas simplifies further for maps.

``cartiflette`` and ``pynsee`` were considered: both download from their own
services (cartiflette's S3 bucket of pre-cut files, pynsee's INSEE/IGN APIs)
rather than reading IGN's archive, so neither can read a file already fetched
or mirrored; this module reads the 7z itself with ``py7zr``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath

import geopandas as gpd
import pandas as pd
import py7zr
import pyogrio

from coworking_geo.atlas.simplify import simplify_coverage
from coworking_geo.errors import InputFileError
from coworking_geo.io import atomic_path
from coworking_geo.log import get_logger

log = get_logger(__name__)

COMMUNE_FIELDS = ["INSEE_COM", "NOM", "NOM_M", "STATUT", "INSEE_DEP", "INSEE_REG", "INSEE_ARR", "INSEE_CAN",
                  "SIREN_EPCI", "POPULATION", "ID"]
SIMPLIFY_TOLERANCE_M = 20.0  # below IGN's stated 15–30 m precision of COG CARTO: removes redundant vertices only
COORD_DECIMALS = 6           # ≈ 0.1 m
SHP_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
COMMUNES_FILE = "communes_cog2024_simplifiees.gpkg"


def _layers(archive: Path, layer: str, workdir: Path) -> list[Path]:
    """Extract every ``{layer}.shp`` (with its side files) or a GeoPackage of the archive; their paths."""
    try:
        with py7zr.SevenZipFile(archive) as z:
            names = z.getnames()
            shp = [n for n in names if PurePosixPath(n).name.upper() == f"{layer}.SHP"]
            gpkg = [n for n in names if n.lower().endswith(".gpkg")]
            wanted = ([n for n in names if PurePosixPath(n).with_suffix("").as_posix() in
                       {PurePosixPath(s).with_suffix("").as_posix() for s in shp}
                       and PurePosixPath(n).suffix.lower() in SHP_PARTS] if shp else gpkg)
            if not wanted:
                raise InputFileError(archive, f"no {layer}.shp nor GeoPackage inside the archive; "
                                              f"members: {names[:10]}")
            z.extract(path=workdir, targets=wanted)
    except (py7zr.Bad7zFile, OSError, EOFError) as exc:
        raise InputFileError(archive, f"cannot be read as a 7z archive ({exc})") from None
    return [workdir / n for n in (shp or gpkg)]


def read_layer(archive: str | Path, layer: str, required: list[str]) -> gpd.GeoDataFrame:
    """Every ``layer`` of the archive (one per territory), in EPSG:4326, concatenated."""
    archive = Path(archive)
    parts = []
    with tempfile.TemporaryDirectory(dir=archive.parent) as tmp:
        for path in _layers(archive, layer, Path(tmp)):
            kw = {"layer": layer.lower()} if path.suffix == ".gpkg" else {}
            if kw and layer.lower() not in [n.lower() for n in pyogrio.list_layers(path)[:, 0]]:
                continue
            gdf = pyogrio.read_dataframe(path, **kw)
            missing = [c for c in required if c not in gdf.columns]
            if missing:
                raise InputFileError(archive, f"{path.name}: missing field(s) {missing}; found {list(gdf.columns)}")
            if gdf.crs is None:
                raise InputFileError(archive, f"{path.name}: no CRS (.prj missing)")
            log.info("%s: %s, %d features, %s", archive.name, path.name, len(gdf), gdf.crs.to_string())
            parts.append(gdf.to_crs(4326))
    if not parts:
        raise InputFileError(archive, f"no {layer} layer found")
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)


def write_communes(archive: Path, target: Path) -> None:
    """The communes layer of the mirror (fields of :data:`COMMUNE_FIELDS`, EPSG:4326), coverage-simplified."""
    com = read_layer(archive, "COMMUNE", ["INSEE_COM", "NOM", "INSEE_DEP", "INSEE_REG", "SIREN_EPCI", "POPULATION"])
    com = com[[c for c in COMMUNE_FIELDS if c in com.columns] + ["geometry"]]
    com = simplify_coverage(com, SIMPLIFY_TOLERANCE_M, COORD_DECIMALS, group_col="INSEE_DEP")
    _write_gpkg(com, target, "communes")
    log.info("%s: %d communes, population %d", target.name, len(com), int(pd.to_numeric(com["POPULATION"]).sum()))


def _dissolved(target: Path, key: str, keep: list[str]) -> gpd.GeoDataFrame:
    communes = target.parent / COMMUNES_FILE
    if not communes.exists():
        raise InputFileError(communes, "the communes file must be written before the départements and régions")
    com = pyogrio.read_dataframe(communes, columns=[key, *keep, "POPULATION"])
    com["POPULATION"] = pd.to_numeric(com["POPULATION"])
    return com.dissolve(by=key, aggfunc={**{k: "first" for k in keep}, "POPULATION": "sum"}).reset_index()


def _named(archive: Path, layer: str, key: str) -> pd.Series:
    names = read_layer(archive, layer, [key, "NOM"])
    return names.drop_duplicates(key).set_index(key)["NOM"]


def write_departements(archive: Path, target: Path) -> None:
    """Départements (``INSEE_DEP, NOM_DEP, INSEE_REG, POPULATION``) dissolved from the written communes."""
    deps = _dissolved(target, "INSEE_DEP", ["INSEE_REG"])
    deps.insert(1, "NOM_DEP", deps["INSEE_DEP"].map(_named(archive, "DEPARTEMENT", "INSEE_DEP")))
    _write_admin(deps, target, "departements", "NOM_DEP")


def write_regions(archive: Path, target: Path) -> None:
    """Régions (``INSEE_REG, NOM_REG, POPULATION``) dissolved from the written communes."""
    regs = _dissolved(target, "INSEE_REG", [])
    regs.insert(1, "NOM_REG", regs["INSEE_REG"].map(_named(archive, "REGION", "INSEE_REG")))
    _write_admin(regs, target, "regions", "NOM_REG")


def _write_gpkg(gdf: gpd.GeoDataFrame, target: Path, layer: str) -> None:
    """Write a GeoPackage atomically (GDAL wants the .gpkg extension on the temporary file too)."""
    with atomic_path(target) as tmp:
        staged = tmp.with_name(tmp.name + ".gpkg")
        try:
            pyogrio.write_dataframe(gdf, staged, layer=layer, driver="GPKG")
            os.replace(staged, tmp)
        finally:
            staged.unlink(missing_ok=True)


def _write_admin(gdf: gpd.GeoDataFrame, target: Path, layer: str, name_col: str) -> None:
    if gdf[name_col].isna().any():
        raise InputFileError(target, f"{layer} without a name in the archive: {gdf.loc[gdf[name_col].isna()].iloc[:, 0].tolist()}")
    _write_gpkg(gdf, target, layer)
    log.info("%s: %d %s dissolved from the communes", target.name, len(gdf), layer)
