"""Coordinate repair: decimal commas, Lambert-93 metres, swapped axes, points outside France.

All outputs are WGS84 degrees (EPSG:4326). Each row gets a fix label (``;``-joined,
'' when nothing was changed) and a ``zone``: 'metro', one of the overseas
département codes '971'…'976', or NA when the point is in none of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from pyproj import Transformer

from coworking_geo.io import parse_decimal

# Generous bounding boxes (lon_min, lat_min, lon_max, lat_max), degrees WGS84. The
# exact test is point-in-polygon later (coworking_geo.spaces.locate).
ZONES: dict[str, tuple[float, float, float, float]] = {
    "metro": (-5.6, 41.2, 9.8, 51.2),
    "971": (-61.9, 15.8, -60.9, 16.6),
    "972": (-61.3, 14.3, -60.7, 14.95),
    "973": (-54.7, 2.0, -51.5, 5.9),
    "974": (55.1, -21.5, 55.9, -20.8),
    "976": (44.9, -13.1, 45.35, -12.55),
}
# Lambert-93 (EPSG:2154) extent of metropolitan France, metres.
L93_X = (50_000.0, 1_300_000.0)
L93_Y = (6_000_000.0, 7_200_000.0)
_L93 = Transformer.from_crs(2154, 4326, always_xy=True)


@dataclass
class RepairedCoordinates:
    """Repaired WGS84 coordinates, what was fixed, and whether the point is usable."""

    lon: pd.Series
    lat: pd.Series
    fixes: pd.Series
    zone: pd.Series

    @property
    def valid(self) -> pd.Series:
        return self.zone.notna()


def zone_of(lon: pd.Series, lat: pd.Series) -> pd.Series:
    """The :data:`ZONES` key whose box holds each point (NA when none)."""
    out = pd.Series(pd.NA, index=lon.index, dtype="string")
    for name, (x0, y0, x1, y1) in ZONES.items():
        inside = lon.between(x0, x1) & lat.between(y0, y1)
        out = out.mask(inside & out.isna(), name)
    return out


def _add(fixes: pd.Series, mask: pd.Series, label: str) -> pd.Series:
    mask = mask.fillna(False).astype(bool)
    return fixes.mask(mask, fixes.where(fixes.eq(""), fixes + ";") + label)


def repair_coordinates(lat_raw: pd.Series, lon_raw: pd.Series) -> RepairedCoordinates:
    """Parse and repair coordinates given as text (degrees expected).

    Fixes, in order: 'decimal_comma' ("49,43" → 49.43); 'lambert93' (both values
    within the Lambert-93 extent in metres, either order → reprojected);
    'swapped' (the point lies in France only with latitude and longitude
    exchanged). Points in no zone after the fixes get zone NA and the label
    'outside_france' (or 'missing' when a value is empty or unreadable).
    """
    lat_s, lon_s = lat_raw.astype("string").str.strip(), lon_raw.astype("string").str.strip()
    fixes = pd.Series("", index=lat_raw.index, dtype="string")
    comma = (lat_s.str.contains(",", regex=False) & ~lat_s.str.contains(".", regex=False)) | (
        lon_s.str.contains(",", regex=False) & ~lon_s.str.contains(".", regex=False))
    fixes = _add(fixes, comma, "decimal_comma")
    lat, lon = parse_decimal(lat_s), parse_decimal(lon_s)
    missing = lat.isna() | lon.isna() | ((lat == 0) & (lon == 0))
    lat, lon = lat.mask(missing), lon.mask(missing)

    # Lambert-93: metres where degrees are expected (also when the axes are exchanged).
    xy = lon.between(*L93_X) & lat.between(*L93_Y)
    yx = lat.between(*L93_X) & lon.between(*L93_Y)
    x = lon.where(xy, lat.where(yx))
    y = lat.where(xy, lon.where(yx))
    proj = (xy | yx).fillna(False)
    if proj.any():
        px, py = _L93.transform(x[proj].to_numpy(float), y[proj].to_numpy(float))
        lon = lon.mask(proj, pd.Series(px, index=lon[proj].index))
        lat = lat.mask(proj, pd.Series(py, index=lat[proj].index))
    fixes = _add(fixes, proj, "lambert93")

    zone = zone_of(lon, lat)
    zone_swapped = zone_of(lat, lon)
    swap = zone.isna() & zone_swapped.notna() & ~missing
    lon, lat = lon.mask(swap, lat), lat.mask(swap, lon)
    zone = zone.mask(swap, zone_swapped)
    fixes = _add(fixes, swap, "swapped")
    fixes = _add(fixes, missing, "missing")
    fixes = _add(fixes, zone.isna() & ~missing, "outside_france")
    return RepairedCoordinates(lon.astype("float64"), lat.astype("float64"), fixes, zone)
