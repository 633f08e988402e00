"""Assign each point its current commune (point-in-polygon) and check it against the declared one.

Commune polygons are the COG 2024 ADMIN EXPRESS polygons (EPSG:4326), strongly
simplified: a point near a border can fall in the neighbour. Distances are
computed in a metric CRS per zone — Lambert-93 (EPSG:2154) in metropolitan
France, the local UTM zone overseas — and returned in kilometres.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coworking_geo.codes import dep_of
from coworking_geo.territories.crosswalk import resolve_codes
from coworking_geo.errors import InputFileError
from coworking_geo.geodesy import metric_crs_for
from coworking_geo.spaces.vocabulary import fold


def zone_of_code(codes: pd.Series) -> pd.Series:
    """'metro' or the overseas département code for each commune code (NA stays NA)."""
    c = codes.astype("string")
    dep = c.str.slice(0, 3)
    return dep.where(c.str.startswith("97"), "metro").where(c.notna())


def load_commune_polygons(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Commune polygons with columns ``insee_code, name, geometry`` (EPSG:4326).

    Reads the IGN ADMIN EXPRESS GeoPackage layout (``INSEE_COM, NOM``) or the
    ``communes.parquet`` layout of docs/contract.md (``insee_code, name``).
    """
    p = str(path)
    gdf = gpd.read_parquet(p) if p.endswith(".parquet") else gpd.read_file(p)
    gdf = gdf.rename(columns={"INSEE_COM": "insee_code", "NOM": "name"})
    missing = [c for c in ("insee_code", "name") if c not in gdf.columns]
    if missing:
        raise InputFileError(path, f"missing column(s) {missing} in the commune polygons")
    gdf = gdf[["insee_code", "name", "geometry"]].to_crs(4326)
    gdf["insee_code"] = gdf["insee_code"].astype("string")
    return gdf.reset_index(drop=True)


@dataclass
class CommuneIndex:
    """Commune polygons, indexed by code, with per-zone projected copies (built lazily)."""

    communes: gpd.GeoDataFrame
    _projected: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.communes = self.communes.reset_index(drop=True)
        self.communes["zone"] = zone_of_code(self.communes["insee_code"])
        self.by_code = pd.Series(self.communes.index, index=self.communes["insee_code"].to_numpy())
        self.by_code = self.by_code[~self.by_code.index.duplicated()]

    def projected(self, zone: str) -> gpd.GeoDataFrame:
        """Communes of ``zone`` in its metric CRS (index = row in :attr:`communes`)."""
        if zone not in self._projected:
            sub = self.communes[self.communes["zone"].eq(zone)]
            self._projected[zone] = sub.to_crs(metric_crs_for(zone))
        return self._projected[zone]

    def known(self, codes: pd.Series) -> pd.Series:
        """True where the code is a commune of the index."""
        return codes.isin(self.by_code.index).fillna(False).astype(bool)


def _project_points(lon: pd.Series, lat: pd.Series, epsg: int) -> np.ndarray:
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(epsg)
    return pts.to_numpy()


def point_in_commune(lon: pd.Series, lat: pd.Series, zone: pd.Series, index: CommuneIndex,
                     snap_m: float) -> tuple[pd.Series, pd.Series]:
    """Current commune of each point, and how it was found.

    'polygon' when the point lies in a polygon; 'nearest' when it lies in none
    (sea, border of the simplified polygons) but a commune of its zone is within
    ``snap_m`` metres; NA otherwise (then the point is outside France).
    """
    code = pd.Series(pd.NA, index=lon.index, dtype="string")
    how = pd.Series(pd.NA, index=lon.index, dtype="string")
    for z in zone.dropna().unique():
        sel = zone.eq(z).fillna(False).to_numpy()
        idx = lon.index[sel]
        comm = index.projected(str(z))
        if comm.empty:
            continue
        pts = gpd.GeoSeries(_project_points(lon[sel], lat[sel], metric_crs_for(str(z))), index=idx, crs=comm.crs)
        src, tree = comm.sindex.query(pts.to_numpy(), predicate="within")
        first = pd.Series(tree, index=idx[src])
        first = first[~first.index.duplicated()]
        code.loc[first.index] = comm["insee_code"].to_numpy()[first.to_numpy()]
        how.loc[first.index] = "polygon"
        rest = idx[~idx.isin(first.index)]
        if len(rest):
            src2, tree2 = comm.sindex.nearest(pts.loc[rest].to_numpy(), max_distance=snap_m, return_all=False)
            near = pd.Series(tree2, index=rest[src2])
            code.loc[near.index] = comm["insee_code"].to_numpy()[near.to_numpy()]
            how.loc[near.index] = "nearest"
    return code, how


def distance_to_commune_km(lon: pd.Series, lat: pd.Series, codes: pd.Series, index: CommuneIndex) -> pd.Series:
    """Distance in km from each point to the polygon of ``codes`` (0 inside; NA when unknown code or point)."""
    out = pd.Series(np.nan, index=lon.index, dtype="float64")
    ok = index.known(codes) & lon.notna() & lat.notna()
    czone = zone_of_code(codes)
    for z in czone[ok].dropna().unique():
        sel = (ok & czone.eq(z)).to_numpy()
        comm = index.projected(str(z))
        rows = index.by_code.reindex(codes[sel].to_numpy()).to_numpy()
        polys = comm.geometry.reindex(rows).to_numpy()
        pts = _project_points(lon[sel], lat[sel], metric_crs_for(str(z)))
        out[sel] = shapely.distance(pts, polys) / 1000.0
    return out


def commune_points(codes: pd.Series, index: CommuneIndex) -> tuple[pd.Series, pd.Series]:
    """Lon/lat (WGS84) of each commune's centroid, or of a point inside it when the centroid falls outside."""
    lon = pd.Series(np.nan, index=codes.index, dtype="float64")
    lat = lon.copy()
    ok = index.known(codes)
    if not ok.any():
        return lon, lat
    rows = index.by_code.reindex(codes[ok].to_numpy()).to_numpy()
    geoms = index.communes.geometry.to_numpy()[rows]
    cent = shapely.centroid(geoms)
    inside = shapely.contains(geoms, cent)
    pt = np.where(inside, cent, shapely.point_on_surface(geoms))
    lon[ok] = shapely.get_x(pt)
    lat[ok] = shapely.get_y(pt)
    return lon, lat


def commune_from_city(postcode: pd.Series, city: pd.Series, index: CommuneIndex) -> pd.Series:
    """Commune code from a town name and postcode: same folded name in the postcode's département.

    Returns NA when the name is not found or is ambiguous within the département.
    """
    comm = index.communes[["insee_code", "name"]].copy()
    comm["key"] = fold(comm["name"]) + "|" + comm["insee_code"].map(dep_of)
    unique = comm.drop_duplicates("key", keep=False).set_index("key")["insee_code"]
    pc = postcode.astype("string").str.strip().str.zfill(5)
    dep = pc.str.slice(0, 2).where(~pc.str.startswith("97"), pc.str.slice(0, 3))
    # Corsican postcodes start with 20: try 2A and 2B.
    name = fold(city)
    found = (name + "|" + dep).map(unique)
    for corse in ("2A", "2B"):
        found = found.fillna((name + "|" + corse).map(unique).where(dep.eq("20")))
    return found.astype("string")


def resolve_declared(codes: pd.Series, crosswalk: pd.DataFrame | None, index: CommuneIndex) -> tuple[pd.Series, pd.Series]:
    """Current commune code for each declared code, and how it was resolved.

    A thin wrapper over :func:`coworking_geo.territories.crosswalk.resolve_codes` (without a
    crosswalk, the communes of ``index`` map to themselves). Status: 'missing',
    'invalid' ('0' and other unusable codes), 'unknown' (a well-formed code we
    cannot place), or the crosswalk relation ('identity', 'merged',
    'arrondissement', …).
    """
    if crosswalk is None or not len(crosswalk):
        known = index.communes["insee_code"]
        crosswalk = pd.DataFrame({"old_code": known, "insee_code": known, "relation": "identity", "summable": True})
    res = resolve_codes(codes, crosswalk)
    status = res["relation"].astype("string")
    status = status.mask(res["insee_code"].isna(), "unknown")
    invalid = res["fix"].eq("invalid").fillna(False).astype(bool)
    empty = res["reason"].eq("empty code").fillna(False).astype(bool)
    status = status.mask(invalid, "invalid").mask(empty, "missing")
    return res["insee_code"].astype("string"), status
