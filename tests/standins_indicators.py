"""Stand-ins for the processed inputs of the indicators stage (communes, crosswalk, spaces),
built from the real-data mirror (the crosswalk with the real builder)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd

from coworking_geo.territories.crosswalk import build_crosswalk, read_decoupage


@lru_cache(maxsize=2)
def communes_standin(mirror: Path) -> gpd.GeoDataFrame:
    """Current communes (COG 2024) with the contract's key columns, EPSG:4326."""
    g = gpd.read_file(mirror / "ign_admin_express_communes" / "communes_cog2024_simplifiees.gpkg",
                      columns=["INSEE_COM", "NOM", "INSEE_DEP", "INSEE_REG", "POPULATION"])
    g = g.rename(columns={"INSEE_COM": "insee_code", "NOM": "name", "INSEE_DEP": "dep_code",
                          "INSEE_REG": "reg_code", "POPULATION": "population"})
    g["territory_class"] = pd.cut(g["population"], [-1, 2000, 10000, 50000, 1e9],
                                  labels=["rural", "periurbain", "petite_ville", "metropole"]).astype("string")
    return g.set_geometry(g.geometry.name)


@lru_cache(maxsize=2)
def crosswalk_standin(mirror: Path) -> pd.DataFrame:
    """The real crosswalk, built by the territories stage from @etalab/decoupage-administratif 4.1.0."""
    return build_crosswalk(read_decoupage(mirror / "etalab_decoupage_administratif" / "communes_4.1.0_cog2024.json.gz"))


@lru_cache(maxsize=2)
def spaces_standin(mirror: Path) -> gpd.GeoDataFrame:
    """CGET 2019 places with valid coordinates, as EPSG:4326 points (space_id, insee_code, lon, lat)."""
    df = pd.read_csv(mirror / "cget_tierslieux_2019" / "CGET_TiersLieux_2019.csv", dtype=str, sep=None, engine="python")
    lon = pd.to_numeric(df["LONG"].str.replace(",", "."), errors="coerce")
    lat = pd.to_numeric(df["LAT"].str.replace(",", "."), errors="coerce")
    ok = lon.notna() & lat.notna()
    out = pd.DataFrame({"space_id": df.loc[ok, "ID"].to_numpy(), "insee_code": df.loc[ok, "INSEECOM"].to_numpy(),
                        "lon": lon[ok].to_numpy(), "lat": lat[ok].to_numpy()})
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["lon"], out["lat"]), crs=4326)
