"""The atlas's compact encodings, shared by the folium maps and the one-page atlas (no folium import):
vendored assets read as text, polygons as integer deltas, popups as small HTML."""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely

#: vendored Leaflet, Leaflet.markercluster and the atlas's own CSS/JS
ASSETS = Path(__file__).parent / "assets"


@cache
def asset_text(rel: str) -> str:
    """Text of a vendored asset; CSS images become data URIs, source-map comments are dropped."""
    path = ASSETS / rel
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"//# sourceMappingURL=\S+\s*$", "", text)
    if rel.endswith(".css"):
        def data_uri(m: re.Match[str]) -> str:
            img = path.parent / m.group(1)
            return f"url(data:image/png;base64,{base64.b64encode(img.read_bytes()).decode()})"
        text = re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, text)
    return text


def encode_polygons(geoms: Any, precision: int) -> list[list[list[int]]]:
    """Compact polygons: per geometry a list of polygons, each a list of rings, each ring a flat
    list of integer deltas ``[x0, y0, dx1, dy1, ...]`` in units of 10**-precision degrees
    (lon, lat), the closing vertex dropped. Decoded in the page by ``cgDecode``.
    """
    arr = np.asarray(geoms, dtype=object)
    if len(arr) == 0:  # e.g. no commune with a space in the territory
        return []
    parts, idx = shapely.get_parts(arr, return_index=True)
    polys = parts[shapely.get_type_id(parts) == 3]
    idx = idx[shapely.get_type_id(parts) == 3]
    multi = shapely.multipolygons(polys, indices=idx) if len(polys) else np.array([], dtype=object)
    if len(multi) != len(arr):
        raise ValueError("encode_polygons: every geometry needs at least one polygon")
    _, coords, (ring_off, poly_off, geom_off) = shapely.to_ragged_array(multi)
    ints = np.round(coords * 10**precision).astype(np.int64)
    delta = np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    delta[ring_off[:-1]] = ints[ring_off[:-1]]
    flat = delta.ravel().tolist()
    rings = [flat[2 * a:2 * (b - 1)] for a, b in zip(ring_off[:-1], ring_off[1:], strict=True)]
    polys_l = [rings[a:b] for a, b in zip(poly_off[:-1], poly_off[1:], strict=True)]
    return [polys_l[a:b] for a, b in zip(geom_off[:-1], geom_off[1:], strict=True)]


@dataclass(frozen=True)
class EncodedPolygons:
    """Each geometry's :func:`encode_polygons` entry already written as compact JSON, in row order.

    The atlas encodes the territory's communes once and every theme's page takes its rows from it
    (:meth:`take`), instead of re-encoding 35,000 polygons per theme."""

    items: list[str]

    @classmethod
    def of(cls, geoms: Any, precision: int) -> EncodedPolygons:
        """Encode ``geoms`` (EPSG:4326) at ``precision`` decimals."""
        return cls([json.dumps(g, separators=(",", ":")) for g in encode_polygons(geoms, precision)])

    def take(self, pos: np.ndarray) -> EncodedPolygons:
        """The geometries at positions ``pos`` (in that order)."""
        return EncodedPolygons([self.items[i] for i in pos])

    def __len__(self) -> int:
        return len(self.items)

    def array(self) -> str:
        """The JSON array of the encoded geometries."""
        return "[" + ",".join(self.items) + "]"


def popup_html(title: str, rows: dict[str, Any]) -> str:
    """Small HTML popup: a bold title and 'label : value' lines (escaped)."""
    body = "".join(f"<br>{html.escape(k)} : {html.escape(str(v))}" for k, v in rows.items()
                   if v is not None and str(v) not in ("", "nan", "<NA>"))
    return f'<div class="cg-popup"><b>{html.escape(title)}</b>{body}</div>'
