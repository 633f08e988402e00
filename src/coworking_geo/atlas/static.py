"""Static PNG maps (matplotlib) of the atlas themes, for slides.

Same classes and colours as the web maps (:class:`~coworking_geo.atlas.themes.ThemeLayer`).
Metropolitan communes are drawn in Lambert-93 (EPSG:2154); a territory made
only of overseas communes is drawn in its UTM zone. Overseas communes of a
France-wide map are left out of the frame (the web maps show them).
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib
import numpy as np
import shapely

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

from coworking_geo.atlas.themes import LegendItem, ThemeLayer  # noqa: E402
from coworking_geo.geodesy import METRO_METRIC_CRS, metric_crs_for  # noqa: E402
from coworking_geo.io import atomic_path  # noqa: E402


def _frame(communes: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int]:
    metro = communes[~communes["dep_code"].astype(str).str.startswith("97")]
    if len(metro):
        return metro, METRO_METRIC_CRS
    return communes, metric_crs_for(str(communes["dep_code"].iloc[0]))


# one entry: the communes frame last drawn, its projected copy and one matplotlib path per commune
_BASE_CACHE: dict[str, Any] = {}


def _base(communes: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, int, list[MplPath]]:
    """The drawn frame, projected (metres), with one compound path per commune (holes kept).

    Built once per communes frame and reused by every theme: building 35,000 polygon patches took
    about 5 s a plot on France."""
    if _BASE_CACHE.get("communes") is communes:
        return _BASE_CACHE["frame"], _BASE_CACHE["base"], _BASE_CACHE["epsg"], _BASE_CACHE["paths"]
    frame, epsg = _frame(communes)
    base = frame.to_crs(epsg)
    geoms = base.geometry.to_numpy()
    parts, owner = shapely.get_parts(geoms, return_index=True)
    paths: list[list[MplPath]] = [[] for _ in range(len(geoms))]
    for poly, i in zip(parts, owner, strict=True):
        if poly is None or poly.is_empty or poly.geom_type != "Polygon":
            continue
        rings = [poly.exterior, *poly.interiors]
        paths[i].append(MplPath.make_compound_path(*[MplPath(np.asarray(r.coords)[:, :2]) for r in rings]))
    compound = [MplPath.make_compound_path(*p) if p else MplPath(np.zeros((0, 2))) for p in paths]
    _BASE_CACHE.update(communes=communes, frame=frame, base=base, epsg=epsg, paths=compound)
    return frame, base, epsg, compound


def static_map(path: str | os.PathLike[str], communes: gpd.GeoDataFrame, departements: gpd.GeoDataFrame,
               layer: ThemeLayer, title: str, provenance: str,
               point_sets: list[tuple[str, gpd.GeoDataFrame, list[LegendItem]]] | None = None,
               dpi: int = 150) -> Path:
    """Write one PNG map (about 1500 × 1500 px at 150 dpi).

    ``point_sets`` are (legend title, points GeoDataFrame with a ``colour`` column, legend items).
    """
    frame, base, epsg, paths = _base(communes)
    colours = base["insee_code"].map(layer.colours).astype(object).fillna("#f3f3f3").tolist()
    fig, ax = plt.subplots(figsize=(10, 10.5))
    ax.add_collection(PathCollection(paths, facecolors=colours, edgecolors="none", linewidths=0))
    ax.autoscale_view()
    deps = departements[departements["dep_code"].isin(frame["dep_code"].unique())].to_crs(epsg)
    deps.boundary.plot(ax=ax, color="#444444", linewidth=0.4)
    handles: list[Any] = [Patch(facecolor=it.colour, edgecolor="#777777", label=it.label) for it in layer.legend]
    labels_title = [layer.legend_title]
    xmin, ymin, xmax, ymax = base.total_bounds
    for set_title, pts, items in point_sets or []:
        marker = {"dia": "D", "sq": "s"}.get(items[0].shape if items else "", "o")
        if len(pts):
            p = pts.to_crs(epsg).cx[xmin:xmax, ymin:ymax]
            p.plot(ax=ax, color=p["colour"].tolist(), markersize=9, marker=marker, edgecolor="#222222",
                   linewidth=0.3, zorder=5)
        handles += [Line2D([], [], marker=marker, linestyle="", markerfacecolor=it.colour, markeredgecolor="#222222",
                           label=it.label) for it in items]
        if items:
            labels_title.append(set_title)
    ax.legend(handles=handles, title=" / ".join(labels_title), loc="lower left", fontsize=8, title_fontsize=9,
              frameon=True, framealpha=0.9)
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_title("\n".join(textwrap.wrap(title, 70)), fontsize=13)
    fig.text(0.02, 0.01, "\n".join(textwrap.wrap(provenance, 160)), fontsize=6, color="#333333", va="bottom")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    plt.close(fig)
    return Path(path)
