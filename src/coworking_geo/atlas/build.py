"""Assemble the atlas maps: one self-contained HTML page per theme.

The themes (file ``atlas/<key>.html``) are listed in :data:`THEMES`. Commune
polygons come simplified (:mod:`coworking_geo.atlas.simplify`), EPSG:4326.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coworking_geo.atlas import themes
from coworking_geo.atlas.encoding import EncodedPolygons, popup_html
from coworking_geo.atlas.themes import LegendItem, ThemeLayer
from coworking_geo.labels import SOURCE_FR
from coworking_geo.sources.catalogue import Source, provenance, provenance_line, title_for
from coworking_geo.spaces.titles import place_layers
from coworking_geo.spaces.vocabulary import TYPE_LABELS_FR

# key -> short description (French) for the index page
THEMES: dict[str, str] = {
    "spaces": "Lieux de chaque liste (année de la liste), colorés par modèle ; lauréats des Fabriques de "
              "territoire et des Manufactures de proximité",
    "territory_class": "Classe de territoire de chaque commune, sur la grille de densité et les aires "
                       "d'attraction des villes de l'INSEE (grande agglomération, ville moyenne, petite ville, "
                       "couronne périurbaine, trois types de rural)",
    "fibre_share": "Part des locaux raccordables à la fibre (FttH), dernier millésime",
    "fibre_change": "Évolution de la part des locaux raccordables FttH entre millésimes",
    "commuting_share": "Part des actifs occupés travaillant hors de leur commune de résidence",
    "long_commuters": "Nombre d'actifs faisant un long trajet domicile-travail",
    "access_distance": "Distance pondérée par la population à l'espace le plus proche",
    "access_2sfca": "Score d'accessibilité aux espaces (méthode 2SFCA)",
    "territory_profiles": "Profils de territoires issus de la typologie",
    "priority": "Territoires prioritaires et nouveaux lieux proposés",
}

#: programme -> (label, colour, marker shape): outlined diamonds and squares in colours outside the model
#: palette (tab10/tab20), so a laureate is never read as a model
PROGRAMME_STYLE = {"fabrique": ("Fabriques de territoire", "#111111", "dia"),
                   "manufacture": ("Manufactures de proximité", "#00e5ff", "sq")}
SHAPES = {"dia": "diamond", "sq": "square"}
SITE_COLOUR = "#d7191c"


@dataclass
class AtlasInputs:
    """Everything the maps read. ``communes``/``departements`` simplified, EPSG:4326; ``communes_metric`` /
    ``departements_metric`` the same simplified polygons (one per row) in the metric CRS of each département
    (Lambert-93 or UTM, metres), for the static maps (None: projected when drawn)."""

    communes: gpd.GeoDataFrame
    departements: gpd.GeoDataFrame
    indicators: pd.DataFrame
    spaces: gpd.GeoDataFrame
    space_models: pd.DataFrame
    programmes: gpd.GeoDataFrame
    profiles: pd.DataFrame
    priority: pd.DataFrame
    sites: pd.DataFrame
    long_commute_km: float = 20.0
    precision: int = 4
    extra: dict[str, Any] = field(default_factory=dict)
    communes_metric: np.ndarray | None = None
    departements_metric: np.ndarray | None = None


def theme_layer(key: str, inp: AtlasInputs) -> ThemeLayer:
    """The :class:`ThemeLayer` of theme ``key``."""
    c, ind = inp.communes, inp.indicators
    builders = {
        "spaces": lambda: themes.spaces_count_layer(c, inp.spaces),
        "territory_class": lambda: themes.territory_class_layer(c),
        "fibre_share": lambda: themes.fibre_share_layer(c, ind),
        "fibre_change": lambda: themes.fibre_change_layer(c, ind),
        "commuting_share": lambda: themes.commuting_share_layer(c, ind),
        "long_commuters": lambda: themes.long_commuters_layer(c, ind, inp.long_commute_km),
        "access_distance": lambda: themes.distance_layer(c, ind),
        "access_2sfca": lambda: themes.access_2sfca_layer(c, ind),
        "territory_profiles": lambda: themes.profiles_layer(c, inp.profiles),
        "priority": lambda: themes.priority_layer(c, inp.priority),
    }
    return builders[key]()


def model_colours(space_models: pd.DataFrame) -> dict[str, str]:
    """Model name → colour, in model_id order."""
    sm = space_models.dropna(subset=["model_name"])
    order = sm.sort_values("model_id")["model_name"].astype(str).drop_duplicates().tolist() \
        if "model_id" in sm else sorted(sm["model_name"].astype(str).unique())
    return dict(zip(order, themes.qualitative(len(order)), strict=True))


def _types_fr(types: pd.Series) -> pd.Series:
    return types.fillna("").astype(str).map(
        lambda t: ", ".join(TYPE_LABELS_FR.get(x.strip(), x.strip()) for x in t.split(";") if x.strip()))


def space_points(inp: AtlasInputs, mask: pd.Series | None = None) -> tuple[list[list[Any]], list[LegendItem]]:
    """Marker rows for the places (those of ``mask``, default all), coloured by model; popup gives name,
    type, commune, model, source."""
    s = pd.DataFrame(inp.spaces.drop(columns="geometry", errors="ignore"))
    if mask is not None:
        s = s[mask.to_numpy()]
    s = s.merge(inp.space_models[["space_id", "model_name"]], on="space_id", how="left")
    names = inp.communes.set_index("insee_code")["name"]
    s["commune"] = s["insee_code"].map(names)
    colours = model_colours(inp.space_models)
    s["model_name"] = s["model_name"].astype("string").fillna("Non classé")
    s["colour"] = s["model_name"].map(colours).fillna(themes.MISSING_COLOUR)
    lat = pd.to_numeric(s["lat"], errors="coerce")
    lon = pd.to_numeric(s["lon"], errors="coerce")
    ok = lat.notna() & lon.notna()
    s, lat, lon = s[ok], lat[ok].round(5), lon[ok].round(5)
    types = _types_fr(s["types"])
    pts = [[la, lo, col, popup_html(str(n), {"Type": t, "Commune": f"{cm} ({ic})" if pd.notna(cm) else ic,
                                                  "Modèle": mo, "Source": src}), str(n)]
           for la, lo, col, n, t, cm, ic, mo, src in zip(lat, lon, s["colour"], s["name"], types, s["commune"],
                                                         s["insee_code"], s["model_name"], s["source"].astype(str).map(lambda x: SOURCE_FR.get(x, x)), strict=True)]
    legend = [LegendItem(c, n) for n, c in colours.items()]
    if (s["colour"] == themes.MISSING_COLOUR).any():
        legend.append(LegendItem(themes.MISSING_COLOUR, "Non classé"))
    return pts, legend


def programme_points(inp: AtlasInputs, kind: str) -> list[list[Any]]:
    """Marker rows for the places of the register labelled ``kind`` (``fabrique`` or ``manufacture``);
    a laureate without a place of a list sits at its commune's centroid."""
    p = pd.DataFrame(inp.spaces.drop(columns="geometry", errors="ignore"))
    if kind not in p or p.empty:
        return []
    p = p[p[kind].astype("string").fillna("").ne("") & pd.to_numeric(p["lat"], errors="coerce").notna()]
    names = inp.communes.set_index("insee_code")["name"]
    label, colour, _ = PROGRAMME_STYLE[kind]
    lat, lon = pd.to_numeric(p["lat"]).round(5), pd.to_numeric(p["lon"]).round(5)
    where = p["location_precision"].astype("string").fillna("") if "location_precision" in p else \
        pd.Series("", index=p.index)
    return [[la, lo, colour, popup_html(str(n), {
        "Programme": label, "Commune": f"{names.get(ic, '')} ({ic})",
        "Position": "centre de la commune" if pr == "commune" else "adresse du lieu"}), f"{label} : {n}"]
            for la, lo, n, ic, pr in zip(lat, lon, p["name"], p["insee_code"], where, strict=True)]


def site_points(inp: AtlasInputs) -> list[list[Any]]:
    """Marker rows for the proposed new places (lon/lat columns, else the commune's inner point)."""
    s = inp.sites.copy()
    if s.empty:
        return []
    names = inp.communes.set_index("insee_code")["name"]
    if "insee_code" in s:
        s["insee_code"] = s["insee_code"].astype("string").str.zfill(5)
    if not {"lon", "lat"} <= set(s.columns):
        reps = inp.communes.set_index("insee_code").geometry.representative_point()
        s["lon"] = s["insee_code"].map(reps.x)
        s["lat"] = s["insee_code"].map(reps.y)
    s = s.dropna(subset=["lon", "lat"])
    extra = [c for c in s.columns if c not in {"lon", "lat", "insee_code", "geometry", "name"}][:5]
    pts = []
    for i, row in enumerate(s.to_dict("records"), start=1):
        code = row.get("insee_code")
        title = f"Lieu proposé n°{row.get('rank', i)}"
        rows = {"Commune": f"{names.get(code, '')} ({code})" if code else None}
        rows.update({k: _fmt_cell(row[k]) for k in extra})
        pts.append([round(float(row["lat"]), 5), round(float(row["lon"]), 5), SITE_COLOUR,
                    popup_html(title, rows), f"{title} : {names.get(code, '')}"])
    return pts


def priority_points(inp: AtlasInputs, layer: ThemeLayer) -> list[list[Any]]:
    """One marker per priority commune at its inner point, coloured like its rank tier; tooltip gives the rank."""
    p = inp.priority.copy()
    if p.empty or "insee_code" not in p:
        return []
    p["insee_code"] = p["insee_code"].astype("string").str.zfill(5)
    if "rank" not in p:
        p["rank"] = np.arange(1, len(p) + 1)
    com = inp.communes.set_index("insee_code")
    # Index.get_indexer, not Series.isin: isin on Arrow-backed strings walks them in Python (issue 19)
    p = p[com.index.get_indexer(p["insee_code"]) >= 0].drop_duplicates("insee_code").sort_values(
        "rank", ascending=False)
    reps = com.geometry.loc[p["insee_code"]].representative_point()
    names = com["name"]
    records = p.to_dict("records")
    pts = []
    for rec, pt in zip(records, reps, strict=True):
        code, rank = rec["insee_code"], rec["rank"]
        nm = str(names.get(code, ""))
        rows: dict[str, Any] = {"Commune": f"{nm} ({code})"}
        for col, lab in (("population", "Population"), ("territory_class", "Classe"),
                         ("dist_nearest_space_km", "Espace le plus proche")):
            if col in p:
                v = rec[col]
                rows[lab] = (themes.TERRITORY_CLASSES.get(str(v), (str(v),))[0] if col == "territory_class"
                             else f"{themes.fr_number(v, 1)}\u202fkm" if col.endswith("_km") else themes.fr_number(v))
        title = f"Priorité n°{int(rank)}"
        pts.append([round(pt.y, 5), round(pt.x, 5), layer.colours.get(code, themes.MISSING_COLOUR),
                    popup_html(title, rows), f"{title} : {nm}"])
    return pts


def provenance_short(prov: dict[str, Any]) -> str:
    """A one-line summary of the sources (publishers and vintages) for the map's folded provenance."""
    parts = []
    for src in prov["sources"]:
        pub = re.sub(r"\s*\(.*?\)", "", str(src["publisher"])).strip()
        vint = re.sub(r"\s*\(.*?\)", "", str(src["vintage"])).strip()
        item = f"{pub} {vint}".strip()
        if item not in parts:
            parts.append(item)
    return "Sources : " + " · ".join(parts) + " — détail et licences ▸"


def _fmt_cell(x: Any) -> str:
    if isinstance(x, float | np.floating):
        return themes.fr_number(float(x), 0 if abs(float(x)) >= 100 else 2)
    return str(x)


def view_bounds(communes: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    """Initial view (degrees): metropolitan France when the territory has it, else all communes."""
    metro = communes[~communes["dep_code"].astype(str).str.startswith("97")] if "dep_code" in communes else communes
    g = metro if len(metro) else communes
    minx, miny, maxx, maxy = g.total_bounds
    return float(minx), float(miny), float(maxx), float(maxy)


def map_provenance(layer: ThemeLayer, source_ids: dict[str, list[str]], sources: dict[str, Source],
                   territory: str) -> dict[str, Any]:
    """Provenance of a map: the commune geometry plus the sources of the layer's themes."""
    ids = ["ign_admin_express_communes"]
    for t in layer.source_themes:
        ids += [i for i in source_ids.get(t, []) if i in sources and i not in ids]
    return provenance(sources, ids, territory, layer.title)


def encoded_polygons(inp: AtlasInputs) -> tuple[EncodedPolygons, EncodedPolygons]:
    """The communes' and départements' polygons encoded for the web maps, once per :class:`AtlasInputs`
    (kept in ``inp.extra``) and shared by every theme."""
    if "encoded" not in inp.extra:
        inp.extra["encoded"] = (EncodedPolygons.of(inp.communes.geometry.values, inp.precision),
                                EncodedPolygons.of(inp.departements.geometry.values, inp.precision))
    return inp.extra["encoded"]


def build_map(key: str, inp: AtlasInputs, tiles: str, territory: str, territory_label: str,
              source_ids: dict[str, list[str]], sources: dict[str, Source]) -> tuple[str, dict[str, Any]]:
    """Render theme ``key``; returns the HTML page and a summary (title, features, provenance)."""
    from coworking_geo.atlas import maps  # folium: only the per-theme interactive maps need it

    layer = theme_layer(key, inp)
    title = title_for(f"{layer.title} — {territory_label}", territory)
    prov = map_provenance(layer, source_ids, sources, territory)
    bounds = view_bounds(inp.communes)
    m = maps.new_map(bounds, tiles)
    legend: list[tuple[str, list[LegendItem], str]] = [(layer.legend_title, layer.legend, layer.note)]
    n_points = 0
    n_point_sections = 0
    name = {"spaces": "Communes avec au moins un espace", "priority": "Territoires prioritaires"}.get(
        key, layer.legend_title)
    enc_com, enc_dep = encoded_polygons(inp)
    maps.add_choropleth(m, inp.communes, layer, name=name, precision=inp.precision, encoded=enc_com)
    maps.add_outline(m, inp.departements, "Départements", precision=inp.precision, encoded=enc_dep)
    if key == "spaces":
        # one switchable layer per list of places (coloured by model) and one per programme label
        prog_items: list[LegendItem] = []
        model_legend: list[LegendItem] = []
        for lay in place_layers(inp.spaces):
            if lay.label:
                ppts = programme_points(inp, lay.label)
                _, colour, shape = PROGRAMME_STYLE[lay.label]
                maps.PointLayer(ppts, lay.name, cluster=False, radius=5, shape=SHAPES[shape]).add_to(m)
                prog_items.append(LegendItem(colour, f"{lay.name} ({themes.fr_number(len(ppts))})", shape))
                n_points += len(ppts)
            else:
                pts, model_legend = space_points(inp, lay.mask)
                maps.PointLayer(pts, f"{lay.name} ({themes.fr_number(len(pts))})", cluster=True).add_to(m)
                n_points += len(pts)
        legend.append(("Lieux, par modèle", model_legend, "Chiffre : lieux regroupés ; zoomer pour les détailler."))
        legend.append(("Lauréats des programmes de l\u2019État", prog_items,
                       "Chaque liste et chaque programme est une couche du sélecteur en haut à droite ; "
                       "un lieu présent dans deux listes figure dans les deux couches."))
        n_point_sections = 2
    elif key == "priority":
        ppts = priority_points(inp, layer)
        maps.PointLayer(ppts, "Territoires prioritaires (points)", cluster=False, radius=6).add_to(m)
        legend[0] = (layer.legend_title, layer.legend, "Point : une commune prioritaire ; "
                     "survoler pour voir son rang.")
        spts = site_points(inp)
        maps.PointLayer(spts, "Nouveaux lieux proposés", cluster=False, radius=9, shape="diamond").add_to(m)
        legend.append(("Nouveaux lieux proposés", [LegendItem(SITE_COLOUR, f"Lieu proposé ({len(spts)})", "dia")], ""))
        n_points += len(spts) + len(ppts)
        n_point_sections = 1
    maps.add_legend(m, legend, n_point_sections)
    maps.add_title(m, title)
    maps.add_provenance(m, provenance_line(prov), provenance_short(prov))
    maps.add_layer_control(m)
    page = maps.render_map(m, title)
    summary = {"key": key, "title": title, "description": THEMES[key], "polygons": int(len(layer.colours)),
               "points": n_points, "legend": [(it.label, it.colour) for it in layer.legend],
               "provenance": prov, "bytes": len(page.encode("utf-8"))}
    return page, summary


def _points_frame(points: list[list[Any]]) -> gpd.GeoDataFrame:
    lat = [p[0] for p in points]
    lon = [p[1] for p in points]
    return gpd.GeoDataFrame({"colour": [p[2] for p in points]}, geometry=gpd.points_from_xy(lon, lat), crs=4326)


def build_static(key: str, inp: AtlasInputs, path: str, territory: str, territory_label: str,
                 source_ids: dict[str, list[str]], sources: dict[str, Source]) -> dict[str, Any]:
    """Write the PNG of theme ``key`` (same classes and colours as the web map); returns a summary."""
    from coworking_geo.atlas.static import static_map

    layer = theme_layer(key, inp)
    title = title_for(f"{layer.title} — {territory_label}", territory)
    prov = map_provenance(layer, source_ids, sources, territory)
    sets: list[tuple[str, gpd.GeoDataFrame, list[LegendItem]]] = []
    if key == "spaces":
        # the legend's heading names each kind once; the items name every list and programme with its year
        heads = {"list": "Lieux, par modèle", "programme": "Lauréats"}
        for lay in place_layers(inp.spaces):
            head = heads.pop("programme" if lay.label else "list", "")
            if lay.label:
                ppts = programme_points(inp, lay.label)
                _, colour, shape = PROGRAMME_STYLE[lay.label]
                sets.append((head, _points_frame(ppts), [LegendItem(colour, f"{lay.name} ({len(ppts)})", shape)]))
            else:
                pts, model_legend = space_points(inp, lay.mask)
                sets.append((head, _points_frame(pts), model_legend if head else []))
    elif key == "priority":
        sets.append(("Territoires prioritaires", _points_frame(priority_points(inp, layer)), []))
        spts = site_points(inp)
        sets.append(("Nouveaux lieux", _points_frame(spts), [LegendItem(SITE_COLOUR, f"Lieu proposé ({len(spts)})")]))
    static_map(path, inp.communes, inp.departements, layer, title, provenance_line(prov), sets,
               communes_metric=inp.communes_metric, departements_metric=inp.departements_metric)
    return {"key": key, "title": title, "path": path}


def load_inputs(paths: dict[str, str], precision: int, long_commute_km: float) -> AtlasInputs:
    """Read the processed tables and results CSVs, and the communes and départements simplified once by
    the rule ``atlas_geometry`` (:func:`coworking_geo.atlas.simplify.atlas_layer`).

    ``paths`` keys: atlas_communes, atlas_departements, indicators (required); spaces, space_models,
    programmes, profiles, priority, sites (optional: empty frames when absent).
    """
    from coworking_geo.atlas.simplify import split_atlas_layer
    from coworking_geo.io import read_codes_csv, read_table

    communes, communes_metric = split_atlas_layer(read_table(paths["atlas_communes"]))
    deps, deps_metric = split_atlas_layer(read_table(paths["atlas_departements"]))

    def optional(key: str, reader: Any) -> Any:
        # the themes that do not show the typology are drawn without its tables (empty frames)
        return reader(paths[key]) if key in paths else (
            gpd.GeoDataFrame() if key in ("spaces", "programmes") else pd.DataFrame())

    return AtlasInputs(
        communes=communes, departements=deps, indicators=read_table(paths["indicators"]),
        spaces=optional("spaces", read_table), space_models=optional("space_models", read_table),
        programmes=optional("programmes", read_table), profiles=optional("profiles", read_table),
        priority=optional("priority", read_codes_csv), sites=optional("sites", read_codes_csv),
        long_commute_km=long_commute_km, precision=precision, communes_metric=communes_metric,
        departements_metric=deps_metric)
