"""The one-page atlas: commune polygons shipped once, the indicator chosen from a menu.

Three files in ``results/{territory}/atlas/``: ``communes.js`` (written once by ``atlas_geometry``: the simplified
commune polygons, EPSG:4326, integer-quantised deltas, see
:func:`coworking_geo.atlas.encoding.encode_polygons`, with names and codes),
``data.js`` (per indicator: class index of every commune or a value for the
proportional symbols; places, laureates, priorities and proposed sites) and
``atlas.html`` (Leaflet inlined, plain JS in ``assets/atlas/atlas.js``). They are
loaded with ``<script src>`` so the page opens from disk, offline.

Class limits are FIXED per indicator (:data:`CLASSES`), so that a département and
France are read with the same legend; they were chosen from mapclassify's
Fisher-Jenks and quantile breaks of the 2026 France indicators, then rounded to
readable values (tests/test_atlas_single.py checks that no fibre class holds most
communes). Rates are choropleths, counts are proportional symbols.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from coworking_geo.atlas import themes
from coworking_geo.atlas.build import AtlasInputs, model_colours
from coworking_geo.atlas.encoding import ASSETS, asset_text, encode_polygons
from coworking_geo.labels import SOURCE_FR
from coworking_geo.spaces.vocabulary import TYPE_LABELS_FR

if TYPE_CHECKING:
    import geopandas as gpd


@dataclass(frozen=True)
class Classes:
    """Fixed class limits of a rate indicator: ``edges`` (len(labels)+1) in the table's unit, colour map."""

    edges: tuple[float, ...]
    labels: tuple[str, ...]
    cmap: str


INF = float("inf")
CLASSES: dict[str, Classes] = {
    "fibre_share": Classes((0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.9999, INF),
                           ("moins de 50 %", "50 à 80 %", "80 à 90 %", "90 à 95 %", "95 à 98 %", "98 à 99,9 %",
                            "100 %"), "YlGnBu"),
    "fibre_change": Classes((-INF, 1e-9, 0.5, 0.8, 0.95, INF),
                            ("baisse ou aucune progression", "+0 à +50 points", "+50 à +80 points",
                             "+80 à +95 points", "+95 points et plus"), "PuBuGn"),
    "commuting_share": Classes((0, 0.6, 0.7, 0.8, 0.9, INF),
                               ("moins de 60 %", "60 à 70 %", "70 à 80 %", "80 à 90 %", "90 % et plus"), "OrRd"),
    "access_distance": Classes((0, 2, 5, 10, 20, 30, INF),
                               ("moins de 2 km", "2 à 5 km", "5 à 10 km", "10 à 20 km", "20 à 30 km",
                                "30 km et plus"), "YlOrBr"),
    "access_2sfca": Classes((-INF, 1e-12, 0.05, 0.15, 0.3, INF),
                            ("0 (aucun lieu accessible)", "moins de 0,05", "0,05 à 0,15", "0,15 à 0,3",
                             "0,3 et plus"), "BuPu"),
    "priority": Classes((0, 10.5, 25.5, INF), ("rang 1 à 10", "rang 11 à 25", "rang 26 et au-delà"), "RdPu_r"),
}
#: proportional symbols: a circle of ``rmax`` px for ``ref`` (area ∝ value), the same in every territory;
#: the legend shows ``ref``, ``ref/5`` and ``ref/25``
SYMBOLS: dict[str, dict[str, float]] = {"spaces": {"ref": 100, "rmax": 24},
                                        "long_commuters": {"ref": 10000, "rmax": 24}}
#: a commune with at least this share of FttH premises at the first vintage is "déjà fibrée"
ALREADY_FIBRED = 0.95
ALREADY_COLOUR = "#f4a582"


def class_index(values: pd.Series, c: Classes) -> np.ndarray:
    """Class index (0…) of each value under fixed limits; -1 where missing."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    idx = np.searchsorted(np.asarray(c.edges[1:-1], dtype="float64"), v, side="right")
    return np.where(np.isnan(v), -1, idx).astype(int)


def _legend(c: Classes) -> list[dict[str, str]]:
    return [{"c": col, "l": lab} for col, lab in zip(themes.palette(c.cmap, len(c.labels)), c.labels, strict=True)]


def _by_code(communes: pd.DataFrame, table: pd.DataFrame, col: str) -> pd.Series:
    if col not in table.columns:
        return pd.Series(np.nan, index=communes.index)
    s = table.drop_duplicates("insee_code").set_index("insee_code")[col]
    out = communes["insee_code"].map(s).reset_index(drop=True)
    return out if out.dtype == bool or col == "flows_covered" else pd.to_numeric(out, errors="coerce").astype("float64")


def _coverage(communes: pd.DataFrame, ind: pd.DataFrame) -> tuple[pd.Series, str]:
    cov = _by_code(communes, ind, "flows_covered").astype("boolean").fillna(False).astype(bool)
    n, tot = int(cov.sum()), len(communes)
    note = "" if n == tot else (f"Connu pour {themes.fr_number(n)} communes sur {themes.fr_number(tot)} "
                                "(là où les flux domicile-travail ont été lus) ; gris : non connu.")
    return cov, note


def choropleth(key: str, title: str, value_label: str, v: pd.Series, fmt: dict[str, Any],
               sources: str, note: str = "", na: str = themes.MISSING_LABEL) -> dict[str, Any]:
    """One rate indicator: fixed classes, legend, raw values scaled to integers for the tooltip;
    ``na`` labels the communes without a value."""
    c = CLASSES[key]
    return {"key": key, "title": title, "kind": "choro", "label": value_label, "legend": _legend(c),
            "c": class_index(v, c).tolist(), "v": _scaled(v, fmt["scale"]), "fmt": fmt, "note": note,
            "sources": sources, "na": na}


def _scaled(v: pd.Series, scale: float) -> list[int | None]:
    x = pd.to_numeric(v, errors="coerce") * scale
    return [None if pd.isna(a) else int(round(a)) for a in x]


def indicators(inp: AtlasInputs) -> list[dict[str, Any]]:
    """The atlas indicators (menu order), each a dict ready for ``data.js``."""
    com = inp.communes.reset_index(drop=True)
    ind = inp.indicators
    out: list[dict[str, Any]] = []
    n = inp.spaces["insee_code"].dropna().value_counts() if "insee_code" in inp.spaces else pd.Series(dtype=int)
    out.append({"key": "spaces", "title": "Lieux de coworking et tiers-lieux par commune", "kind": "symbols",
                "label": "Lieux", "legend": [], "s": [int(x) for x in com["insee_code"].map(n).fillna(0)],
                "fmt": {"scale": 1, "dec": 0, "unit": ""}, "note": "Cercle proportionnel au nombre de lieux.",
                "sources": "spaces", **SYMBOLS["spaces"]})
    classes = [k for k in themes.TERRITORY_CLASSES]
    cls = com["territory_class"].astype(str)
    out.append({"key": "territory_class", "title": "Classe de territoire", "kind": "cat", "label": "Classe",
                "legend": [{"c": themes.TERRITORY_CLASSES[k][1], "l": themes.TERRITORY_CLASSES[k][0]} for k in classes],
                "c": [classes.index(x) if x in classes else -1 for x in cls], "note": "", "sources": "territories"})
    cols = themes.fibre_columns(ind)
    if cols:
        last = cols[-1]
        vint = themes.vintage_label(last)
        out.append(choropleth("fibre_share", f"Part des locaux raccordables à la fibre (FttH, {vint})", "Part FttH",
                              _by_code(com, ind, last).clip(upper=1.0),
                              {"scale": 1000, "dec": 1, "unit": "\u202f%", "div": 10}, "fibre"))
        if len(cols) >= 2 and "ftth_share_change" in ind.columns:
            first = _by_code(com, ind, cols[0])
            change = _by_code(com, ind, "ftth_share_change")
            item = choropleth("fibre_change", f"Progression de la fibre ({themes.vintage_label(cols[0])} → {vint})",
                              "Progression", change, {"scale": 1000, "dec": 1, "unit": " points", "div": 10,
                                                      "sign": True}, "fibre")
            already = pd.to_numeric(first, errors="coerce").astype("float64").ge(ALREADY_FIBRED).to_numpy()
            k = len(item["legend"])
            item["c"] = [k if a else x for a, x in zip(already, item["c"], strict=True)]
            item["legend"].append({"c": ALREADY_COLOUR,
                                   "l": f"déjà fibrée à {themes.fr_number(ALREADY_FIBRED * 100)} % ou plus en "
                                        f"{themes.vintage_label(cols[0])}"})
            out.append(item)
    cov, note = _coverage(com, ind)
    if "share_outside" in ind.columns:
        v = _by_code(com, ind, "share_outside").where(cov)
        out.append(choropleth("commuting_share", "Part des actifs travaillant hors de leur commune"
                              + (" (communes aux flux connus)" if note else ""), "Hors commune", v,
                              {"scale": 1000, "dec": 1, "unit": "\u202f%", "div": 10}, "commuting", note,
                              "Non connu (flux non lus)"))
    if "long_commuters" in ind.columns:
        v = _by_code(com, ind, "long_commuters").where(cov)
        out.append({"key": "long_commuters",
                    "title": f"Navetteurs de plus de {themes.fr_number(inp.long_commute_km)} km"
                             + (" (communes aux flux connus)" if note else ""),
                    "kind": "symbols", "label": "Navetteurs", "legend": [],
                    "s": [None if pd.isna(x) else int(round(x)) for x in v],
                    "fmt": {"scale": 1, "dec": 0, "unit": ""},
                    "note": "Cercle proportionnel au nombre d\u2019actifs. " + note, "sources": "commuting",
                    **SYMBOLS["long_commuters"]})
    if "pop_weighted_dist_km" in ind.columns:
        out.append(choropleth("access_distance", "Distance au lieu le plus proche (à vol d\u2019oiseau)", "Distance",
                              _by_code(com, ind, "pop_weighted_dist_km"),
                              {"scale": 10, "dec": 1, "unit": "\u202fkm", "div": 10}, "spaces",
                              "Moyenne pondérée par la population de la commune."))
    if "access_2sfca" in ind.columns:
        out.append(choropleth("access_2sfca", "Accessibilité aux lieux (score 2SFCA)", "Score",
                              _by_code(com, ind, "access_2sfca"), {"scale": 1000, "dec": 3, "unit": "",
                                                                   "div": 1000}, "spaces",
                              "Lieux pour 10 000 habitants dans un rayon de 20 km, demande partagée."))
    prof = inp.profiles
    if len(prof) and "profile_name" in prof.columns:
        key = "insee_code" if "insee_code" in prof.columns else "epci_code"
        order = (prof.sort_values("profile_id") if "profile_id" in prof.columns else prof)["profile_name"]
        names = list(dict.fromkeys(order.astype(str)))
        m = prof.drop_duplicates(key).set_index(key)["profile_name"].astype(str)
        v = com[key].map(m)
        out.append({"key": "territory_profiles", "title": "Profils de territoires (typologie)", "kind": "cat",
                    "label": "Profil", "legend": [{"c": c, "l": nm} for nm, c in
                                                  zip(names, themes.qualitative(len(names)), strict=True)],
                    "c": [names.index(x) if isinstance(x, str) and x in names else -1 for x in v], "note": "",
                    "sources": "territories"})
    pr = inp.priority
    if len(pr) and {"insee_code", "rank"} <= set(pr.columns):
        v = _by_code(com, pr.assign(insee_code=pr["insee_code"].astype(str).str.zfill(5)), "rank")
        item = choropleth("priority", "Territoires prioritaires", "Rang", v, {"scale": 1, "dec": 0, "unit": ""},
                          "spaces", "Rang : ordre d\u2019entrée dans la liste, partagée entre classes de territoire au prorata "
                          "de leurs habitants loin d\u2019un lieu (forte demande, lieu lointain).",
                          "Commune non prioritaire")
        out.append(item)
    return out


def _types(t: Any) -> list[str]:
    return [x.strip() for x in str(t or "").split(";") if x.strip()]


def places(inp: AtlasInputs) -> dict[str, Any]:
    """Places as rows ``[lat, lon, name, commune index, type indices, model index, label index, vintage index]``."""
    s = pd.DataFrame(inp.spaces.drop(columns="geometry", errors="ignore"))
    if s.empty:
        return {"rows": [], "types": [], "models": [], "labels": [], "vintages": [], "colours": []}
    s = s.merge(inp.space_models[["space_id", "model_name"]], on="space_id", how="left")
    colours = model_colours(inp.space_models)
    models = list(colours)
    codes = {c: i for i, c in enumerate(inp.communes["insee_code"].astype(str))}
    type_codes = list(dict.fromkeys(t for x in s["types"] for t in _types(x)))
    labels = ["Fabrique de territoire", "Manufacture de proximité"]
    vint = s["vintage"].astype("string").fillna("").astype(str) if "vintage" in s.columns else pd.Series("", index=s.index)
    src = s["source"].astype(str).map(lambda x: SOURCE_FR.get(x, x)) if "source" in s.columns else vint
    vintages = sorted(set(vint) - {""})
    lat, lon = pd.to_numeric(s["lat"], errors="coerce"), pd.to_numeric(s["lon"], errors="coerce")
    rows = []
    for i, r in enumerate(s.to_dict("records")):
        if pd.isna(lat.iloc[i]) or pd.isna(lon.iloc[i]):
            continue
        lab = []
        for j, col in enumerate(("fabrique", "manufacture")):
            if col in r and str(r[col] or "").strip() not in ("", "nan", "False", "<NA>"):
                lab.append(j)
        mname = r.get("model_name")
        rows.append([round(float(lat.iloc[i]), 5), round(float(lon.iloc[i]), 5), str(r["name"]),
                     codes.get(str(r.get("insee_code")), -1), [type_codes.index(t) for t in _types(r["types"])],
                     models.index(mname) if isinstance(mname, str) and mname in models else -1, lab,
                     vintages.index(vint.iloc[i]) if vint.iloc[i] in vintages else -1, str(src.iloc[i])])
    return {"rows": rows, "types": [TYPE_LABELS_FR.get(t, t) for t in type_codes], "models": models,
            "colours": [colours[m] for m in models], "labels": labels, "vintages": vintages}


def sites(inp: AtlasInputs) -> list[list[Any]]:
    """Proposed new places ``[lat, lon, rank, commune name]``."""
    s = inp.sites
    if s.empty or not {"lon", "lat"} <= set(s.columns):
        return []
    rank = "site_rank" if "site_rank" in s.columns else "rank"
    return [[round(float(r["lat"]), 5), round(float(r["lon"]), 5), int(r[rank]), str(r.get("name", ""))]
            for r in s.to_dict("records") if pd.notna(r["lat"])]


def geometry_file(communes: gpd.GeoDataFrame, departements: gpd.GeoDataFrame, precision: int = 3) -> str:
    """``communes.js``: the commune polygons (quantised deltas at ``precision`` decimals of a degree), names
    and codes, and the départements' outlines (bounding boxes are computed in the page while decoding).
    Written once per territory by the rule ``atlas_geometry``, from its simplified layers (EPSG:4326)."""
    com = communes.reset_index(drop=True)
    return _js("CG_GEOM", {"p": precision, "g": encode_polygons(com.geometry.values, precision),
                           "n": com["name"].astype(str).tolist(), "k": com["insee_code"].astype(str).tolist(),
                           "d": encode_polygons(departements.geometry.values, precision)})


def _js(var: str, payload: Any) -> str:
    """``window.VAR=JSON.parse('…');`` (JSON.parse of a string is faster to load than a large JS literal)."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return f"window.{var}=JSON.parse('" + text.replace("\\", "\\\\").replace("'", "\\'") + "');\n"


def read_js(text: str) -> Any:
    """The payload of a file written by :func:`_js` (for the summary and the tests)."""
    body = text.split("JSON.parse('", 1)[1].rsplit("');", 1)[0]
    return json.loads(re.sub(r"\\(.)", r"\1", body, flags=re.S))


def atlas_summary(files: dict[str, str], geometry_bytes: int, label: str, prov: dict[str, Any]) -> dict[str, Any]:
    """What the atlas home page reads of the atlas (``atlas.json``): title, sizes in bytes of the files
    (``files`` as UTF-8, and ``communes.js`` of ``geometry_bytes``), the indicators (key, title, note), the
    number of places and the provenance."""
    data = read_js(files["data.js"])
    sizes = {"atlas.html": len(files["atlas.html"].encode("utf-8")), "communes.js": geometry_bytes,
             "data.js": len(files["data.js"].encode("utf-8"))}
    return {"title": label, "bytes": sum(sizes.values()), "files": sizes,
            "indicators": [{"key": i["key"], "title": i["title"], "note": i.get("note", "")}
                           for i in data["indicators"]],
            "places": len(data["places"]["rows"]), "provenance": prov}


PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{leaflet_css}</style><style>{css}</style></head><body>
<div id="map"></div>
<header class="cg-head"><h1>{title}</h1>
<div class="cg-ctl"><label>Indicateur <select id="cg-ind" aria-label="Indicateur"></select></label>
<span class="cg-search"><input id="cg-q" type="search" placeholder="Rechercher une commune ou un lieu" autocomplete="off"
 aria-label="Rechercher une commune ou un lieu"><ul id="cg-res" role="listbox"></ul></span>
<label><input id="cg-showp" type="checkbox" checked> Lieux</label>
<button id="cg-fbtn" type="button" aria-expanded="false">Filtres des lieux</button>
<a href="index.html">Synthèse</a> · <a href="../report.html">Rapport</a></div>
<div id="cg-filters" hidden></div></header>
<aside id="cg-legend" class="cg-legend"></aside>
<div id="cg-insets"></div>
<footer class="cg-prov"><details><summary>{prov_short}</summary>{prov}</details></footer>
<script>{leaflet_js}</script>
<script src="communes.js"></script><script src="data.js"></script>
<script>window.CG_TILES={tiles};</script>
<script>{atlas_js}</script>
</body></html>
"""


def atlas_files(inp: AtlasInputs, title: str, tiles: str, prov: str, prov_short: str) -> dict[str, str]:
    """The atlas page and its data (name → text): ``atlas.html``, ``data.js`` (``communes.js`` is
    :func:`geometry_file`)."""
    pl = places(inp)
    data = {"indicators": indicators(inp), "places": pl, "sites": sites(inp),
            "insets": _insets(inp),
            "view": list(_view(inp))}
    years = [str(y) for y in pl["vintages"]]
    if years:  # a dated title: the vintages of the lists of places shown
        title += f" (lieux recensés en {' et '.join([', '.join(years[:-1]), years[-1]] if len(years) > 1 else years)})"
    tile = None if str(tiles).strip().lower() in {"", "none", "null", "off"} else _tile_url(tiles)
    page = PAGE.format(title=html.escape(title), leaflet_css=asset_text("leaflet/leaflet.css"),
                       css=(ASSETS / "atlas" / "atlas.css").read_text(encoding="utf-8"),
                       leaflet_js=asset_text("leaflet/leaflet.js").replace("</script", "<\\/script"),
                       atlas_js=(ASSETS / "atlas" / "atlas.js").read_text(encoding="utf-8"),
                       tiles=json.dumps(tile), prov=html.escape(prov), prov_short=html.escape(prov_short))
    return {"atlas.html": page, "data.js": _js("CG_DATA", data)}


def _insets(inp: AtlasInputs) -> list[list[str]]:
    """``[code, name]`` of the overseas départements of the territory (one inset each)."""
    names = (inp.departements.set_index("dep_code")["dep_name"].astype(str)
             if "dep_name" in inp.departements.columns else pd.Series(dtype=str))
    codes = sorted({c for c in inp.communes["dep_code"].astype(str) if c.startswith("97")})
    return [[c, str(names.get(c, c))] for c in codes]


def _view(inp: AtlasInputs) -> tuple[float, float, float, float]:
    c = inp.communes
    metro = c[~c["dep_code"].astype(str).str.startswith("97")]
    g = metro if len(metro) else c
    minx, miny, maxx, maxy = g.total_bounds
    return float(minx), float(miny), float(maxx), float(maxy)


TILES = {"openstreetmap": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© contributeurs OpenStreetMap"),
         "cartodb positron": ("https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}.png",
                              "© contributeurs OpenStreetMap, © CARTO")}


def _tile_url(tiles: str) -> dict[str, str]:
    url, attr = TILES.get(str(tiles).strip().lower(), (str(tiles), ""))
    return {"url": url, "attr": attr}
