"""Portraits de territoire: one HTML page per département, each figure beside its région and France.

Inputs are the processed tables (docs/contract.md): communes (EPSG:4326 polygons
not needed), départements with polygons in EPSG:4326, spaces, space models,
indicators, and the results tables of priorities and proposed sites. Shares are
fractions 0–1 shown as percentages, distances great-circle km. The locator map
and the charts are inline SVG (no script, prints cleanly).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coworking_geo.territories import classify
from coworking_geo.atlas.themes import fr_number, fr_percent
from coworking_geo.labels import TERRITORY_CLASS_FR
from coworking_geo.spaces.vocabulary import TYPE_LABELS_FR
from coworking_geo.report.summary import diagnosis_by

COLOURS = {"dep": "#1f3b57", "reg": "#6f9fc8", "fr": "#c9c9c9"}


def dep_label(code: str, name: str | None) -> str:
    """'Orne (61)'; the code alone when the name is unknown."""
    return f"{name} ({code})" if name else str(code)


def territory_label(spec: str, departements: pd.DataFrame, regions: pd.DataFrame) -> str:
    """French name of a territory setting: 'France', 'Normandie', 'Orne (61)', 'territoire de démonstration'."""
    if spec == "demo":
        return "territoire de démonstration"
    if spec == "france":
        return "France"
    if spec == "metropole":
        return "France métropolitaine"
    kind, code = spec.split("-", 1)
    if kind == "reg":
        names = regions.set_index("reg_code")["reg_name"]
        return str(names.get(code, f"région {code}"))
    names = departements.set_index("dep_code")["dep_name"]
    return dep_label(code, names.get(code))


def _pct(v: Any) -> str:
    return fr_percent(float(v)) if v is not None and pd.notna(v) else "–"


def _int(v: Any) -> str:
    return fr_number(round(float(v))) if v is not None and pd.notna(v) else "–"


def _dec(v: Any) -> str:
    return fr_number(float(v), 2) if v is not None and pd.notna(v) else "–"


def _km(v: Any) -> str:
    return f"{fr_number(float(v), 1)}\u202fkm" if v is not None and pd.notna(v) else "–"


#: rows of the comparison table: column of the diagnosis frame → (French label, formatter)
INDICATORS: list[tuple[str, str, Any]] = [
    ("communes", "Communes", _int),
    ("population", "Population", _int),
    ("spaces", "Lieux de coworking et tiers-lieux", _int),
    ("spaces_per_100k", "Lieux pour 100 000 habitants", _dec),
    ("communes_with_space", "Communes avec au moins un lieu", _int),
    ("population_share_within_10km", "Part de la population à moins de 10 km d\u2019un lieu", _pct),
    ("dist_km", "Distance moyenne au lieu le plus proche (pondérée par la population)", _km),
    ("fibre_share", "Part des locaux raccordables à la fibre (FttH)", _pct),
    ("flows_share", "Part des communes dont les flux domicile-travail sont connus", _pct),
    ("long_commuters", "Navetteurs de longue distance (communes aux flux connus)", _int),
]


@dataclass
class PortraitData:
    """Everything the portraits read, per territory; frames indexed as in docs/contract.md."""

    communes: pd.DataFrame
    departements: gpd.GeoDataFrame
    regions: pd.DataFrame
    spaces: pd.DataFrame
    space_models: pd.DataFrame
    indicators: pd.DataFrame
    priority: pd.DataFrame
    sites: pd.DataFrame
    long_commute_km: float = 20.0


def comparison_frames(d: PortraitData) -> dict[str, pd.DataFrame]:
    """The diagnosis by département, by région and for the whole territory (one row each, ``total``).

    Adds ``dist_km`` (grid-population-weighted mean of the communes'
    ``pop_weighted_dist_km``) and ``flows_share`` (share of communes with flows).
    """
    c = pd.DataFrame(d.communes.drop(columns="geometry", errors="ignore"))
    out = {}
    ind = d.indicators
    w = c[["insee_code", "dep_code", "reg_code"]].merge(
        ind[["insee_code", "pop_weighted_dist_km", "access_population"]], on="insee_code", how="left")
    w["wd"] = w["pop_weighted_dist_km"] * w["access_population"]
    w["ww"] = w["access_population"].where(w["pop_weighted_dist_km"].notna())
    for key in ("dep_code", "reg_code"):
        t = diagnosis_by(c, d.spaces, ind, key).set_index(key)
        g = w.groupby(key)[["wd", "ww"]].sum()
        g.loc["total"] = w[["wd", "ww"]].sum()
        t["dist_km"] = g["wd"] / g["ww"].where(g["ww"] > 0)
        t["flows_share"] = t["communes_with_flows"] / t["communes"]
        t.loc[t["communes_with_flows"] == 0, "long_commuters"] = np.nan
        out[key] = t
    return out


def class_shares(communes: pd.DataFrame, key: str | None) -> pd.DataFrame:
    """Population share of each territory class (columns, classification order) per value of ``key``
    (rows; ``None``: one row ``total``)."""
    c = pd.DataFrame(communes.drop(columns="geometry", errors="ignore"))
    grp = c.assign(_all="total").groupby(key or "_all")
    pop = grp.apply(lambda g: g.groupby("territory_class")["population"].sum())
    if isinstance(pop, pd.Series):
        pop = pop.unstack(fill_value=0)
    pop = pop.reindex(columns=[k for k in [*classify.TERRITORY_CLASSES, "unknown"] if k in pop.columns]).fillna(0)
    return pop.div(pop.sum(axis=1).where(lambda s: s > 0), axis=0)


# ---------- SVG -----------------------------------------------------------------------------------------------


def _path(geom: Any, tx: Any) -> str:
    parts = []
    for poly in getattr(geom, "geoms", [geom]):
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        for ring in [poly.exterior]:
            xy = tx(np.asarray(ring.coords))
            parts.append("M" + "L".join(f"{x:.0f},{y:.0f}" for x, y in xy) + "Z")
    return "".join(parts)


def locator_paths(departements: gpd.GeoDataFrame, width: int = 220, tolerance: float = 0.04) -> dict[str, Any]:
    """SVG paths of the départements, per group (metropolitan France, then each overseas département alone).

    Returns ``{"paths": {dep_code: (group, d)}, "size": {group: (w, h)}}``; coordinates are
    degrees (EPSG:4326) projected equirectangularly with the group's mean-latitude scale.
    """
    g = departements.to_crs(4326)
    geoms = shapely.simplify(g.geometry.values, tolerance, preserve_topology=True)
    codes = g["dep_code"].astype(str).tolist()
    groups = ["metro" if not c.startswith("97") else c for c in codes]
    paths: dict[str, tuple[str, str]] = {}
    size: dict[str, tuple[int, int]] = {}
    for grp in dict.fromkeys(groups):
        idx = [i for i, x in enumerate(groups) if x == grp]
        minx, miny, maxx, maxy = shapely.total_bounds(geoms[idx])
        k = math.cos(math.radians((miny + maxy) / 2))
        sx = width / max((maxx - minx) * k, 1e-9)
        h = int(round((maxy - miny) * sx)) + 4

        def tx(a: np.ndarray, minx: float = minx, maxy: float = maxy, k: float = k, sx: float = sx) -> np.ndarray:
            return np.column_stack([(a[:, 0] - minx) * k * sx + 2, (maxy - a[:, 1]) * sx + 2])

        size[grp] = (width + 4, h)
        for i in idx:
            paths[codes[i]] = (grp, _path(geoms[i], tx))
    return {"paths": paths, "size": size}


def locator_svg(loc: dict[str, Any], code: str, reg_codes: set[str], label: str) -> str:
    """Small locator map: the département in dark blue, the rest of its région light blue, others grey."""
    grp, _ = loc["paths"][code]
    w, h = loc["size"][grp]
    items = []
    for c, (g, d) in loc["paths"].items():
        if g != grp or not d:
            continue
        fill = COLOURS["dep"] if c == code else COLOURS["reg"] if c in reg_codes else "#ececec"
        items.append(f'<path d="{d}" fill="{fill}" stroke="#fff" stroke-width="0.6"/>')
    return (f'<svg class="locator" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
            f'aria-label="{html.escape("Situation : " + label)}">{"".join(items)}</svg>')


def bar_chart(title: str, rows: list[tuple[str, list[float]]], series: list[tuple[str, str]], fmt: Any,
              vmax: float | None = None, width: int = 420) -> str:
    """Horizontal grouped bars (SVG): one group per row label, one bar per series (label, colour)."""
    bar, gap = 11, 9
    # room for the longest label (about 7 px a character at the chart's font size), never cut
    lab_w = max(120, 16 + 7 * max((len(label) for label, _ in rows), default=0))
    width = max(width, lab_w + 250)
    vals = [v for _, vs in rows for v in vs if v is not None and not math.isnan(v)]
    top = vmax if vmax is not None else (max(vals) if vals else 1.0) or 1.0
    plot = width - lab_w - 70
    y = 6
    parts = []
    for label, vs in rows:
        parts.append(f'<text x="{lab_w - 6}" y="{y + bar * len(vs) / 2 + 4:.0f}" text-anchor="end">'
                     f"{html.escape(label)}</text>")
        for (_, colour), v in zip(series, vs, strict=True):
            ok = v is not None and not math.isnan(v)
            bw = max(0.0, plot * (v / top)) if ok else 0
            parts.append(f'<rect x="{lab_w}" y="{y}" width="{bw:.1f}" height="{bar - 1}" fill="{colour}"/>')
            parts.append(f'<text x="{lab_w + bw + 4:.1f}" y="{y + bar - 1}" class="v">'
                         f"{html.escape(fmt(v) if ok else 'non connu')}</text>")
            y += bar
        y += gap
    legend = " ".join(f'<span><i style="background:{c}"></i>{html.escape(s)}</span>' for s, c in series)
    return (f'<figure class="chart"><figcaption>{html.escape(title)}</figcaption>'
            f'<svg viewBox="0 0 {width} {y}" width="100%" style="max-width:{width}px" role="img" '
            f'aria-label="{html.escape(title)}">{"".join(parts)}</svg><div class="lg">{legend}</div></figure>')


# ---------- page -----------------------------------------------------------------------------------------------

CSS = """body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1000px;margin:0 auto;
padding:0 20px 40px;color:#1a1a1a}h1{font-size:25px;margin:22px 0 2px;hyphens:manual}h2{font-size:18px;margin-top:28px;
border-bottom:2px solid #1f3b57;padding-bottom:2px}.head{display:flex;gap:20px;align-items:flex-start;flex-wrap:wrap}
.head .txt{flex:1 1 300px}.locator{flex:0 0 auto;max-width:100%;height:auto}table{border-collapse:collapse;
width:100%;font-size:13.5px}th,td{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f3f6f9}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.tw{overflow-x:auto}.note{color:#555;font-size:13px}.charts{display:flex;flex-wrap:wrap;gap:18px}
.chart{margin:8px 0;flex:1 1 380px}.chart figcaption{font-weight:600;font-size:14px}.chart svg{font:12px system-ui,
sans-serif}.chart text.v{fill:#333}.lg{font-size:12px}.lg span{margin-right:12px}.lg i{display:inline-block;
width:11px;height:11px;margin-right:4px;vertical-align:-1px}nav a{margin-right:12px;color:#1f5fa0}a{color:#1f5fa0}
@media print{nav{display:none}body{max-width:none;padding:0;font-size:10.5pt}a{color:inherit;text-decoration:none}
h2{break-after:avoid}table,tr,figure{break-inside:avoid}.tw{overflow:visible}}"""


def _table(head: list[str], rows: list[list[str]], num: set[int], attrs: str = "") -> str:
    th = "".join(f'<th{" class=num" if i in num else ""}>{html.escape(h)}</th>' for i, h in enumerate(head))
    body = "".join("<tr>" + "".join(f'<td{" class=num" if i in num else ""}>{c}</td>' for i, c in enumerate(r))
                   + "</tr>" for r in rows)
    return f'<div class="tw"><table{attrs}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>'


def _num(row: pd.Series, key: str) -> float:
    """``row[key]`` as a float (pandas-stubs types a row's cell as any scalar)."""
    return float(cast(float, row[key]))


def _types_fr(t: Any) -> str:
    return ", ".join(TYPE_LABELS_FR.get(x.strip(), x.strip()) for x in str(t or "").split(";") if x.strip())


def rows_by_departement(d: PortraitData) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """For each département code: its communes (indexed by ``insee_code``) and its places with their
    ``model_name`` (split once for all the portraits)."""
    c = pd.DataFrame(d.communes.drop(columns="geometry", errors="ignore"))
    c_dep = c["dep_code"].astype(str)
    sp = d.spaces.merge(d.space_models[["space_id", "model_name"]], on="space_id", how="left")
    sp_dep = sp["insee_code"].map(pd.Series(c_dep.to_numpy(), index=c["insee_code"]))
    places = dict(tuple(sp.groupby(sp_dep, sort=False)))
    return {str(code): (g.set_index("insee_code"), places.get(code, sp.iloc[:0]))
            for code, g in c.groupby(c_dep, sort=False)}


def portrait_page(code: str, d: PortraitData, comp: dict[str, pd.DataFrame], shares: dict[str, pd.DataFrame],
                  loc: dict[str, Any], generated: str, territory_label: str,
                  local: tuple[pd.DataFrame, pd.DataFrame]) -> str:
    """HTML of the portrait of département ``code``; ``local`` holds its communes and places
    (:func:`rows_by_departement`)."""
    deps = d.departements.set_index("dep_code")
    name = str(deps["dep_name"].get(code, code))
    label = dep_label(code, name)
    reg = str(deps["reg_code"].get(code, ""))
    reg_name = str(d.regions.set_index("reg_code")["reg_name"].get(reg, reg))
    dep_row, reg_row, fr_row = (cast(pd.Series, comp["dep_code"].loc[code]), cast(pd.Series, comp["reg_code"].loc[reg]),
                               cast(pd.Series, comp["dep_code"].loc["total"]))
    fr_label = territory_label
    # a territory of one département holds neither its whole région nor France: no comparison columns then
    alone = len(comp["dep_code"]) == 2
    scopes = [("dep", label, dep_row, code, COLOURS["dep"])]
    if not alone:
        scopes += [("reg", reg_name, reg_row, reg, COLOURS["reg"]), ("fr", fr_label, fr_row, "total", COLOURS["fr"])]
    rows = []
    for key, lab, fmt in INDICATORS:
        rows.append([html.escape(lab)] + [f'<span data-ind="{key}" data-scope="{sc}" data-value="{_raw(r.get(key))}">'
                                          f"{html.escape(fmt(r.get(key)))}</span>" for sc, _, r, _, _ in scopes])
    comp_table = _table(["Indicateur", *[s[1] for s in scopes]], rows, set(range(1, len(scopes) + 1)),
                        ' data-table="comparison"')
    alone_note = ("<p class=\"note\">Ce portrait est construit pour le seul département : la comparaison avec "
                  "la région et la France figure dans les portraits de l\u2019analyse nationale "
                  "(territoire France).</p>" if alone else "")
    series = [(s[1], s[4]) for s in scopes]
    shares_of = {"dep": shares["dep"], "reg": shares["reg"], "fr": shares["fr"]}
    chart1 = bar_chart("Population par classe de territoire (part)",
                       [(TERRITORY_CLASS_FR.get(k, k), [float(cast(float, shares_of[sc].at[i, k])) if i in shares_of[sc].index
                                                        else 0.0 for sc, _, _, i, _ in scopes])
                        for k in shares["fr"].columns], series, fr_percent, vmax=1.0)
    chart2 = bar_chart("Part de la population à moins de 10 km d\u2019un lieu ; part des locaux raccordables",
                       [("Lieu à < 10 km", [_num(r, "population_share_within_10km") for _, _, r, _, _ in scopes]),
                        ("Fibre (FttH)", [_num(r, "fibre_share") for _, _, r, _, _ in scopes])],
                       series, fr_percent, vmax=1.0)
    chart3 = bar_chart("Lieux pour 100 000 habitants",
                       [("Lieux", [_num(r, "spaces_per_100k") for _, _, r, _, _ in scopes])],
                       series, lambda v: fr_number(v, 2))

    com, sp = local
    models = sp["model_name"].fillna("Non classé").value_counts()
    models_html = (_table(["Modèle", "Lieux"], [[html.escape(str(m)), _int(n)] for m, n in models.items()], {1})
                   if len(models) else "<p>Aucun lieu recensé dans le département.</p>")
    places = sp.assign(commune=sp["insee_code"].map(com["name"])).sort_values(["commune", "name"])
    places_html = _table(["Lieu", "Commune", "Type", "Modèle"],
                         [[f'<span translate="no">{html.escape(str(r["name"]))}</span>', html.escape(str(r["commune"])), html.escape(_types_fr(r["types"])),
                           html.escape(str(r["model_name"]) if pd.notna(r["model_name"]) else "Non classé")]
                          for r in places.to_dict("records")], set()) if len(places) else ""

    pr = d.priority[d.priority["dep_code"].astype(str) == code] if "dep_code" in d.priority else d.priority.iloc[:0]
    pr_html = (_table(["Rang national", "Commune", "Population", "Lieu le plus proche"],
                      [[_int(r["rank"]), html.escape(str(r["name"])), _int(r.get("population")),
                        _km(r.get("dist_nearest_space_km"))] for r in pr.sort_values("rank").to_dict("records")],
                      {0, 2, 3}) if len(pr) else "<p>Aucune commune du département parmi les territoires prioritaires.</p>")
    st = d.sites[d.sites["dep_code"].astype(str) == code] if "dep_code" in d.sites else d.sites.iloc[:0]
    rank_col = "site_rank" if "site_rank" in st.columns else "rank"
    st_html = (_table(["Rang", "Commune", "Demande couverte (personnes)", "Communes desservies"],
                      [[_int(r[rank_col]), html.escape(str(r["name"])), _int(r.get("assigned_population")),
                        _int(r.get("n_communes_covered"))] for r in st.sort_values(rank_col).to_dict("records")],
                      {0, 2, 3}) if len(st) else "<p>Aucun nouveau lieu proposé dans le département.</p>")
    cls_counts = com["territory_class"].astype(str).value_counts()
    cls_text = " · ".join(f"{TERRITORY_CLASS_FR.get(k, k)} : {fr_number(int(cls_counts[k]))}"
                         for k in [*classify.TERRITORY_CLASSES, "unknown"] if k in cls_counts)
    flows = _num(dep_row, "communes_with_flows")
    commute = (f"Flux domicile-travail connus pour {fr_number(int(flows))} communes sur "
               f"{fr_number(int(_num(dep_row, 'communes')))} : {_int(dep_row['long_commuters'])} actifs font plus de "
               f"{fr_number(d.long_commute_km)} km pour aller travailler." if flows > 0 else
               "Les flux domicile-travail de ce département ne figurent pas dans les données lues : les navettes "
               "n\u2019y sont pas connues.")
    reg_codes = set(deps.index[deps["reg_code"].astype(str) == reg].astype(str))
    title = f"Portrait de territoire — {label}"
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{CSS}</style></head><body>
<nav><a href="index.html">Tous les portraits</a><a href="../report.html">Rapport</a><a href="../atlas/index.html">Atlas</a></nav>
<div class="head"><div class="txt"><h1>{html.escape(title)}</h1>
<p>Région {html.escape(reg_name)} · {html.escape(generated)}</p>
<p>{_int(dep_row['spaces'])} lieux de coworking et tiers-lieux dans {_int(dep_row['communes_with_space'])} communes sur
{_int(dep_row['communes'])} ; {_pct(dep_row['population_share_within_10km'])} de la population à moins de 10 km d\u2019un
lieu{"" if alone else f" (région : {_pct(reg_row['population_share_within_10km'])}, {html.escape(fr_label)} : "
f"{_pct(fr_row['population_share_within_10km'])})"}.</p>
<p>Communes par classe de territoire : {html.escape(cls_text)}.</p></div>
{locator_svg(loc, code, reg_codes, label)}</div>
<h2>{"Le département" if alone else "Le département, sa région et " + html.escape(fr_label)}</h2>
{alone_note}{comp_table}
<p class="note">Distances à vol d\u2019oiseau ; population de la grille carroyée de 1 km ; fibre : dernier millésime lu.</p>
<div class="charts">{chart1}{chart2}{chart3}</div>
<h2>Navettes domicile-travail</h2><p>{html.escape(commute)}</p>
<h2>Modèles de lieux présents</h2>{models_html}
<h2>Territoires prioritaires</h2>{pr_html}
<h2>Nouveaux lieux proposés</h2>{st_html}
{"<h2>Les lieux</h2>" + places_html if places_html else ""}
</body></html>
"""


def _raw(v: Any) -> str:
    return "" if v is None or pd.isna(v) else repr(float(v))


def portraits_index(d: PortraitData, territory_label: str, generated: str) -> str:
    """The list of the portraits, by région."""
    deps = d.departements.sort_values("dep_code")
    regs = d.regions.set_index("reg_code")["reg_name"]
    items = []
    for reg, g in deps.groupby("reg_code", sort=True):
        links = " · ".join(f'<a href="{html.escape(str(c))}.html">{html.escape(dep_label(str(c), str(n)))}</a>'
                           for c, n in zip(g["dep_code"], g["dep_name"], strict=True))
        items.append(f"<li><b>{html.escape(str(regs.get(reg, reg)))}</b> : {links}</li>")
    title = f"Portraits de territoire — {territory_label}"
    return (f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title><style>{CSS}</style>'
            f'</head><body><nav><a href="../report.html">Rapport</a><a href="../atlas/index.html">Atlas</a></nav>'
            f"<h1>{html.escape(title)}</h1><p>{html.escape(generated)} · un portrait par département, chaque "
            f"chiffre comparé à sa région et à l\u2019ensemble.</p><ul>{''.join(items)}</ul></body></html>")


def build_portraits(d: PortraitData, territory_label: str, generated: str) -> dict[str, str]:
    """File name → HTML: one ``<dep_code>.html`` per département of the communes, plus ``index.html``."""
    comp = comparison_frames(d)
    shares = {"dep": class_shares(d.communes, "dep_code"), "reg": class_shares(d.communes, "reg_code"),
              "fr": class_shares(d.communes, None)}
    present = set(d.communes["dep_code"].astype(str))
    deps = d.departements[d.departements["dep_code"].astype(str).isin(present)]
    loc = locator_paths(deps)
    d = PortraitData(**{**d.__dict__, "departements": deps})
    local = rows_by_departement(d)
    pages = {f"{c}.html": portrait_page(str(c), d, comp, shares, loc, generated, territory_label, local[c])
             for c in sorted(deps["dep_code"].astype(str))}
    pages["index.html"] = portraits_index(d, territory_label, generated)
    return pages
