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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib
import matplotlib.patches
import numpy as np
import pandas as pd
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


def _frame(communes: gpd.GeoDataFrame) -> tuple[np.ndarray, int]:
    """Positions of the communes of the main frame and its metric CRS (Lambert-93 unless all are overseas)."""
    dep = communes["dep_code"].astype(str)
    metro = np.flatnonzero(~dep.str.startswith("97").to_numpy())
    if len(metro):
        return metro, METRO_METRIC_CRS
    return np.arange(len(communes)), metric_crs_for(str(dep.iloc[0]))


def _metric(gdf: gpd.GeoDataFrame, pos: np.ndarray, epsg: int, metric: np.ndarray | None) -> gpd.GeoDataFrame:
    """Rows ``pos`` of ``gdf`` in ``epsg`` (metres): the given metric geometries when there are some (already in
    their metric CRS, see :func:`coworking_geo.atlas.simplify.simplify_coverage_metric`), else projected."""
    sub = gdf.iloc[pos]
    if metric is None:
        return sub.to_crs(epsg)
    return gpd.GeoDataFrame(sub.drop(columns=sub.geometry.name), geometry=metric[pos], crs=epsg)


@dataclass(frozen=True)
class FlatRings:
    """Every ring of a set of polygons as one flat vertex array with matplotlib path codes.

    ``xy`` (metres, the frame's CRS) holds the vertices of every exterior and interior ring one after the other,
    ``codes`` the matching :class:`matplotlib.path.Path` codes (a MOVETO opens each ring, a CLOSEPOLY ends it), and
    ``owner`` the position of the polygon row each vertex belongs to (a row's vertices are contiguous)."""

    xy: np.ndarray
    codes: np.ndarray
    owner: np.ndarray


def flat_rings(geoms: np.ndarray) -> FlatRings:
    """:class:`FlatRings` of ``geoms`` (Polygons or MultiPolygons; others and empties are skipped), vectorised
    with shapely: no Python loop over polygons or rings. Rings are oriented (holes opposite to exteriors)."""
    parts, part_owner = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    keep = (shapely.get_type_id(parts) == shapely.GeometryType.POLYGON) & ~shapely.is_empty(parts)
    # exteriors counter-clockwise, holes clockwise: matplotlib fills by the non-zero winding rule, so a hole
    # stays a hole whatever the source's ring orientation
    parts, part_owner = shapely.orient_polygons(parts[keep], exterior_cw=False), part_owner[keep]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy = shapely.get_coordinates(rings)
    ends = np.cumsum(shapely.get_num_coordinates(rings))
    codes = np.full(len(xy), MplPath.LINETO, dtype=MplPath.code_type)
    codes[ends[ends > 0] - 1] = MplPath.CLOSEPOLY
    codes[(ends - shapely.get_num_coordinates(rings))[ends > 0]] = MplPath.MOVETO
    owner = np.repeat(part_owner[ring_part], shapely.get_num_coordinates(rings))
    return FlatRings(xy, codes, owner)


def colour_paths(flat: FlatRings, colours: np.ndarray) -> tuple[list[MplPath], list[str]]:
    """One compound path per distinct colour of ``colours`` (one colour per polygon row): the few paths of a
    single :class:`~matplotlib.collections.PathCollection`, built by array slicing."""
    cls, uniques = pd.factorize(pd.Series(colours, dtype=object))
    vcls = cls[flat.owner]
    order = np.argsort(vcls, kind="stable")  # rings stay whole and in their order within a colour
    bounds = np.searchsorted(vcls[order], np.arange(len(uniques) + 1))
    paths, names = [], []
    for k, colour in enumerate(uniques):
        sl = order[bounds[k]:bounds[k + 1]]
        if len(sl):
            paths.append(MplPath(flat.xy[sl], flat.codes[sl]))
            names.append(str(colour))
    return paths, names


# one entry: the communes frame last drawn, its projected copy and its flat rings
_BASE_CACHE: dict[str, Any] = {}


def _base(communes: gpd.GeoDataFrame, metric: np.ndarray | None) -> tuple[gpd.GeoDataFrame, int, FlatRings]:
    """The drawn frame in its metric CRS (metres) and its rings as flat arrays (holes kept).

    Built once per communes frame and reused by every theme."""
    if _BASE_CACHE.get("communes") is communes and _BASE_CACHE.get("metric") is metric:
        return _BASE_CACHE["base"], _BASE_CACHE["epsg"], _BASE_CACHE["flat"]
    pos, epsg = _frame(communes)
    base = _metric(communes, pos, epsg, metric)
    flat = flat_rings(base.geometry.to_numpy())
    _BASE_CACHE.update(communes=communes, metric=metric, base=base, epsg=epsg, flat=flat)
    return base, epsg, flat


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


def _draw(ax: Any, base: gpd.GeoDataFrame, flat: FlatRings, layer: ThemeLayer, deps: gpd.GeoDataFrame,
          deps_metric: np.ndarray | None, epsg: int,
          point_sets: list[tuple[str, gpd.GeoDataFrame, list[LegendItem]]], markersize: float) -> None:
    """Communes coloured by ``layer``, département borders and the points inside the frame (metric CRS)."""
    codes = base["insee_code"].astype(str).to_numpy()
    pos = pd.Index(layer.colours.index.astype(str)).get_indexer(codes)
    # position -1 (a commune the layer does not colour) reads the trailing None
    known = np.concatenate([np.asarray(layer.colours, dtype=object), np.array([None], dtype=object)])
    found = known[pos]
    colours = np.where((pos >= 0) & pd.notna(found), found, "#f3f3f3")
    paths, facecolours = colour_paths(flat, colours)  # not coloured by the theme: light grey
    ax.add_collection(PathCollection(paths, facecolors=facecolours, edgecolors="none", linewidths=0))
    ax.autoscale_view()
    # département borders: one path of every ring, stroked (GeoSeries.plot would re-draw the whole figure)
    dep_pos = np.flatnonzero(pd.Index(pd.unique(base["dep_code"].astype(str)))
                             .get_indexer(deps["dep_code"].astype(str)) >= 0)
    borders = flat_rings(_metric(deps, dep_pos, epsg, deps_metric).geometry.to_numpy())
    if len(borders.xy):
        ax.add_collection(PathCollection([MplPath(borders.xy, borders.codes)], facecolors="none",
                                         edgecolors="#444444", linewidths=0.4), autolim=False)
    xmin, ymin, xmax, ymax = base.total_bounds
    for _title, pts, items in point_sets:
        marker = {"dia": "D", "sq": "s"}.get(items[0].shape if items else "", "o")
        if len(pts):
            p = pts.to_crs(epsg).cx[xmin:xmax, ymin:ymax]
            if len(p):
                ax.scatter(p.geometry.x.to_numpy(), p.geometry.y.to_numpy(), s=markersize, c=p["colour"].tolist(),
                           marker=marker, edgecolors="#222222", linewidths=0.3, zorder=5)
    ax.set_axis_off()
    ax.set_aspect("equal")


def static_map(path: str | os.PathLike[str], communes: gpd.GeoDataFrame, departements: gpd.GeoDataFrame,
               layer: ThemeLayer, title: str, provenance: str,
               point_sets: list[tuple[str, gpd.GeoDataFrame, list[LegendItem]]] | None = None,
               dpi: int = 150, communes_metric: np.ndarray | None = None,
               departements_metric: np.ndarray | None = None) -> Path:
    """Write one PNG map (about 1800 × 1575 px at 150 dpi): main frame, overseas insets, legend at the right.

    ``point_sets`` are (legend title, points GeoDataFrame with a ``colour`` column, legend items).
    ``communes_metric`` / ``departements_metric``: the same polygons, one per row, each already in the metric CRS
    of its département (:func:`coworking_geo.atlas.simplify.simplify_coverage_metric`); without them the
    polygons are projected here.
    """
    base, epsg, flat = _base(communes, communes_metric)
    sets = point_sets or []
    overseas = sorted(set(pd.unique(communes["dep_code"].astype(str))) - set(pd.unique(base["dep_code"].astype(str))))
    overseas = [d for d in overseas if d.startswith("97")]
    fig = plt.figure(figsize=(12, 10.5))
    prov_lines = textwrap.wrap(provenance, 190)
    foot = 0.012 + 0.0125 * len(prov_lines)  # the provenance lines (6 pt) under everything
    inset_h = 0.15 if overseas else 0.0
    bottom = foot + inset_h + (0.03 if overseas else 0.01)
    ax = fig.add_axes((0.01, bottom, 0.70, 0.90 - bottom))
    _draw(ax, base, flat, layer, departements, departements_metric, epsg, sets, 9)
    scale_bar(ax)
    width = 0.70 / max(len(overseas), 1)
    for n, dep in enumerate(overseas):
        d_epsg = metric_crs_for(dep)
        d_base = _metric(communes, np.flatnonzero(communes["dep_code"].astype(str).eq(dep).to_numpy()), d_epsg,
                         communes_metric)
        iax = fig.add_axes((0.01 + n * width + 0.005, foot + 0.01, width - 0.01, inset_h))
        _draw(iax, d_base, flat_rings(d_base.geometry.to_numpy()), layer, departements, departements_metric, d_epsg,
              sets, 6)
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
