"""Static PNG maps (matplotlib) of the atlas themes, for slides.

Same classes and colours as the web maps (:class:`~coworking_geo.atlas.themes.ThemeLayer`).
Mainland and Corsican communes are drawn in Lambert-93 (EPSG:2154); a territory made
only of overseas communes is drawn in its UTM zone. When a map holds both, each
overseas département gets an inset in its own UTM zone (communes, places,
priorities and sites alike), under the main map. The legend sits beside the map,
never over it, and every frame has a metric scale bar.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib
import matplotlib.patches
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
    compound = _paths(base)
    _BASE_CACHE.update(communes=communes, frame=frame, base=base, epsg=epsg, paths=compound)
    return frame, base, epsg, compound


OVERSEAS_NAMES = {"971": "Guadeloupe", "972": "Martinique", "973": "Guyane", "974": "La Réunion", "976": "Mayotte"}


def _nice_length_m(width_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 × 10^k m) close to a fifth of ``width_m``."""
    target = max(width_m / 5, 1.0)
    k = 10 ** np.floor(np.log10(target))
    return float(max(m * k for m in (1, 2, 5) if m * k <= target))


def scale_bar(ax: Any, fontsize: float = 7) -> float:
    """Draw a metric scale bar in the lower left of ``ax`` (data in metres); returns its length in metres."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length_m(x1 - x0)
    bx, by, h = x0 + 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0), 0.008 * (y1 - y0)
    ax.add_patch(matplotlib.patches.Rectangle((bx, by), length / 2, h, facecolor="#222222", edgecolor="#222222",
                                              linewidth=0.5, zorder=6))
    ax.add_patch(matplotlib.patches.Rectangle((bx + length / 2, by), length / 2, h, facecolor="white",
                                              edgecolor="#222222", linewidth=0.5, zorder=6))
    km = length / 1000
    ax.text(bx + length / 2, by + 2.2 * h, f"{km:g} km".replace(".", ","), ha="center", va="bottom",
            fontsize=fontsize, zorder=6)
    return length


def _draw(ax: Any, base: gpd.GeoDataFrame, paths: list[MplPath], layer: ThemeLayer, deps: gpd.GeoDataFrame,
          epsg: int, point_sets: list[tuple[str, gpd.GeoDataFrame, list[LegendItem]]], markersize: float) -> None:
    """Communes coloured by ``layer``, département borders and the points inside the frame (metric CRS)."""
    found = layer.colours.reindex(base["insee_code"].astype(str).to_numpy()).tolist()
    colours = [c if isinstance(c, str) else "#f3f3f3" for c in found]  # not coloured by the theme: light grey
    ax.add_collection(PathCollection(paths, facecolors=colours, edgecolors="none", linewidths=0))
    ax.autoscale_view()
    deps[deps["dep_code"].isin(base["dep_code"].unique())].to_crs(epsg).boundary.plot(ax=ax, color="#444444",
                                                                                      linewidth=0.4)
    xmin, ymin, xmax, ymax = base.total_bounds
    for _title, pts, items in point_sets:
        marker = {"dia": "D", "sq": "s"}.get(items[0].shape if items else "", "o")
        if len(pts):
            p = pts.to_crs(epsg).cx[xmin:xmax, ymin:ymax]
            if len(p):
                p.plot(ax=ax, color=p["colour"].tolist(), markersize=markersize, marker=marker,
                       edgecolor="#222222", linewidth=0.3, zorder=5)
    ax.set_axis_off()
    ax.set_aspect("equal")


def _paths(base: gpd.GeoDataFrame) -> list[MplPath]:
    geoms = base.geometry.to_numpy()
    parts, owner = shapely.get_parts(geoms, return_index=True)
    paths: list[list[MplPath]] = [[] for _ in range(len(geoms))]
    for poly, i in zip(parts, owner, strict=True):
        if poly is None or poly.is_empty or poly.geom_type != "Polygon":
            continue
        rings = [poly.exterior, *poly.interiors]
        paths[i].append(MplPath.make_compound_path(*[MplPath(np.asarray(r.coords)[:, :2]) for r in rings]))
    return [MplPath.make_compound_path(*p) if p else MplPath(np.zeros((0, 2))) for p in paths]


def static_map(path: str | os.PathLike[str], communes: gpd.GeoDataFrame, departements: gpd.GeoDataFrame,
               layer: ThemeLayer, title: str, provenance: str,
               point_sets: list[tuple[str, gpd.GeoDataFrame, list[LegendItem]]] | None = None,
               dpi: int = 150) -> Path:
    """Write one PNG map (about 1800 × 1575 px at 150 dpi): main frame, overseas insets, legend at the right.

    ``point_sets`` are (legend title, points GeoDataFrame with a ``colour`` column, legend items).
    """
    frame, base, epsg, paths = _base(communes)
    sets = point_sets or []
    overseas = sorted(set(communes["dep_code"].astype(str)) - set(frame["dep_code"].astype(str)))
    overseas = [d for d in overseas if d.startswith("97")]
    fig = plt.figure(figsize=(12, 10.5))
    prov_lines = textwrap.wrap(provenance, 190)
    foot = 0.012 + 0.0125 * len(prov_lines)  # the provenance lines (6 pt) under everything
    inset_h = 0.15 if overseas else 0.0
    bottom = foot + inset_h + (0.03 if overseas else 0.01)
    ax = fig.add_axes((0.01, bottom, 0.70, 0.90 - bottom))
    _draw(ax, base, paths, layer, departements, epsg, sets, 9)
    scale_bar(ax)
    width = 0.70 / max(len(overseas), 1)
    for n, dep in enumerate(overseas):
        sub = communes[communes["dep_code"].astype(str).eq(dep)]
        d_epsg = metric_crs_for(dep)
        d_base = sub.to_crs(d_epsg)
        iax = fig.add_axes((0.01 + n * width + 0.005, foot + 0.01, width - 0.01, inset_h))
        _draw(iax, d_base, _paths(d_base), layer, departements, d_epsg, sets, 6)
        scale_bar(iax, fontsize=6)
        iax.set_title(OVERSEAS_NAMES.get(dep, dep), fontsize=8)
        iax.set_axis_on()
        iax.set_xticks([])
        iax.set_yticks([])
        iax.set_xlabel("")
        iax.set_ylabel("")
        for sp in iax.spines.values():
            sp.set_color("#999999")
            sp.set_linewidth(0.5)
    handles: list[Any] = [Patch(facecolor=it.colour, edgecolor="#777777", label=it.label) for it in layer.legend]
    labels_title = [layer.legend_title]
    for set_title, _pts, items in sets:
        marker = {"dia": "D", "sq": "s"}.get(items[0].shape if items else "", "o")
        handles += [Line2D([], [], marker=marker, linestyle="", markerfacecolor=it.colour, markeredgecolor="#222222",
                           label=it.label) for it in items]
        if items and set_title:
            labels_title.append(set_title)
    lax = fig.add_axes((0.72, bottom, 0.27, 0.90 - bottom))
    lax.set_axis_off()
    legend_title = "\n".join(textwrap.wrap(" / ".join(labels_title), 34))
    lax.legend(handles=handles, title=legend_title, loc="upper left", fontsize=8, title_fontsize=9, frameon=False,
               alignment="left")
    if layer.note:
        lax.text(0.0, 0.02, "\n".join(textwrap.wrap(layer.note, 40)), fontsize=7, color="#333333", va="bottom",
                 transform=lax.transAxes)
    fig.suptitle("\n".join(textwrap.wrap(title, 90)), fontsize=13, y=0.975)
    fig.text(0.01, 0.005, "\n".join(prov_lines), fontsize=6, color="#333333", va="bottom")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    plt.close(fig)
    return Path(path)
