"""Atlas: coverage simplification, compact polygons, themes, offline folium maps, PNGs, index."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from jinja2.utils import htmlsafe_json_dumps

from coworking_geo.atlas import encoding, maps, themes
from coworking_geo.atlas.build import (
    PROGRAMME_STYLE,
    THEMES,
    AtlasInputs,
    build_map,
    build_static,
    priority_points,
    site_points,
    view_bounds,
)
from coworking_geo.atlas.index import index_page, size_label
from coworking_geo.atlas.simplify import round_coordinates, simplify_coverage
from coworking_geo.geodesy import metric_crs_for
from coworking_geo.sources.catalogue import load_sources

REPO = Path(__file__).resolve().parents[1]
SOURCE_IDS = {"spaces": ["cget_tierslieux_2019", "anct_fabriques_territoire", "anct_manufactures_proximite"],
              "territories": ["ign_admin_express_communes", "insee_grille_densite"],
              "fibre": ["arcep_ftth_2018t1", "arcep_ftth_latest"], "commuting": ["insee_mobpro_orne"],
              "population": ["eurostat_popgrid_1km"]}


def make_frames(nx: int = 6, ny: int = 5) -> dict[str, object]:
    """A 6 × 5 grid of 0.1° communes in two départements (61 Orne, 72 Sarthe) and every atlas input."""
    polys, codes = [], []
    for i in range(nx):
        for j in range(ny):
            x0, y0 = 0.0 + i * 0.1, 48.0 + j * 0.1
            polys.append(shapely.box(x0, y0, x0 + 0.1, y0 + 0.1))
            codes.append(f"{'61' if i < 3 else '72'}{i * ny + j:03d}")
    n = len(codes)
    k = np.arange(n)
    classes = np.array(["metropole", "ville_moyenne", "petite_ville", "periurbain", "rural_sous_influence"])[k % 5]
    communes = gpd.GeoDataFrame({
        "insee_code": codes, "name": [f"Saint-Évroult {c}" for c in codes], "dep_code": [c[:2] for c in codes],
        "reg_code": ["28" if c[:2] == "61" else "52" for c in codes], "epci_code": ["200000" + c[:2] for c in codes],
        "population": k * 100 + 50, "metropolis": k % 5 == 0, "territory_class": classes,
    }, geometry=polys, crs=4326)
    deps = communes.dissolve("dep_code").reset_index()[["dep_code", "reg_code", "geometry"]]
    deps["dep_name"] = ["Orne", "Sarthe"]
    ind = pd.DataFrame({
        "insee_code": codes, "ftth_share_2018T1": np.linspace(0, 0.5, n), "ftth_share_latest": np.linspace(0.3, 1, n),
        "flows_covered": k % 7 != 0, "share_outside": np.linspace(0.4, 0.95, n), "long_commuters": k * 40.0,
        "pop_weighted_dist_km": np.linspace(0.5, 30, n), "access_2sfca_per_10k": np.r_[0, 0, np.linspace(0.1, 5, n - 2)],
        "pop_within_10km": k * 50.0,
    })
    ind["ftth_share_change"] = ind["ftth_share_latest"] - ind["ftth_share_2018T1"]
    lon = [0.05 + 0.1 * i for i in range(8)]
    spaces = gpd.GeoDataFrame({
        "space_id": [f"s{i}" for i in range(8)], "source": "cget_tierslieux_2019",
        "name": [f"La Fabrique <{i}>" for i in range(8)], "types": ["coworking", "fablab;atelier"] * 4,
        "insee_code": [codes[5 * i] for i in range(6)] + [codes[1], codes[1]], "lon": lon, "lat": [48.05] * 8,
        "fabrique": ["fabt-1", "fabt-2"] + [""] * 6, "manufacture": ["", "", "manup-1"] + [""] * 5,
        "sources": ["cget_tierslieux_2019;anct_fabriques_territoire"] * 2
        + ["cget_tierslieux_2019;anct_manufactures_proximite"] + ["cget_tierslieux_2019"] * 5,
        "vintages": ["2019;2024"] * 3 + ["2019"] * 5, "location_precision": "address",
    }, geometry=gpd.points_from_xy(lon, [48.05] * 8), crs=4326)
    models = pd.DataFrame({"space_id": spaces["space_id"], "model_id": [0, 1] * 4,
                           "model_name": ["Coworking de centre-ville", "Fablab rural"] * 4})
    programmes = gpd.GeoDataFrame({
        "programme_id": ["fabt-1", "fabt-2", "manup-1"],
        "programme": ["Fabrique de territoire", "Fabrique de territoire", "Manufacture de proximité"],
        "name": ["Fab A", "Fab B", "Manu C"], "insee_code": codes[:3], "matched_space_id": ["s0", None, None],
    }, geometry=gpd.points_from_xy([0.05, 0.05, 0.05], [48.05, 48.15, 48.25]), crs=4326)
    profiles = pd.DataFrame({"insee_code": codes, "profile_id": k % 3,
                             "profile_name": np.array(["Rural connecté", "Périurbain navetteur", "Urbain dense"])[k % 3]})
    priority = pd.DataFrame({"insee_code": codes[10:16], "rank": range(1, 7), "score": np.linspace(1, 0.5, 6)})
    sites = pd.DataFrame({"rank": [1, 2], "insee_code": codes[10:12], "covered_long_commuters": [120.0, 80.0]})
    return {"communes": communes, "departements": deps, "indicators": ind, "spaces": spaces, "space_models": models,
            "programmes": programmes, "profiles": profiles, "priority": priority, "sites": sites}


def make_inputs() -> AtlasInputs:
    f = make_frames()
    f["communes"] = simplify_coverage(f["communes"], 300, 4)  # type: ignore[arg-type]
    f["departements"] = simplify_coverage(f["departements"], 300, 4)  # type: ignore[arg-type]
    return AtlasInputs(**f)  # type: ignore[arg-type]


def enc(text: str) -> str:
    """``text`` as it appears inside a JSON string of the page (non-ASCII and <>& escaped)."""
    return str(htmlsafe_json_dumps(text))[1:-1]


@pytest.fixture(scope="module")
def inputs() -> AtlasInputs:
    return make_inputs()


@pytest.fixture(scope="module")
def sources():
    return load_sources(REPO / "config" / "sources.yaml")


def test_coverage_simplification_keeps_shared_borders() -> None:
    # two communes split by a wiggly border (wiggles of ~50 m, under the 300 m tolerance)
    ys = np.linspace(48.0, 48.2, 41)
    xs = 0.1 + 0.0006 * np.sin(np.arange(41))
    border = list(zip(xs, ys, strict=True))
    west = shapely.Polygon([(0.0, 48.0)] + border + [(0.0, 48.2)])
    east = shapely.Polygon([(0.2, 48.0)] + border + [(0.2, 48.2)])
    gdf = gpd.GeoDataFrame({"insee_code": ["61001", "61002"], "dep_code": ["61", "61"]},
                           geometry=[west, east], crs=4326)
    out = simplify_coverage(gdf, 300, 4)
    w, e = out.geometry.values
    assert shapely.get_num_coordinates(w) < shapely.get_num_coordinates(west) / 2   # 44 -> 16 vertices
    assert shapely.intersection(w, e).area < 1e-10                       # no overlap
    assert shapely.union(w, e).area == pytest.approx(west.area + east.area, rel=1e-3)  # no gap
    border_w = shapely.intersection(w, e)                                # the same simplified line on both sides
    assert border_w.geom_type in ("LineString", "MultiLineString") and border_w.length > 0.199
    coords = shapely.get_coordinates(out.geometry.values)
    assert np.allclose(coords, np.round(coords, 4))


def test_round_coordinates_and_metric_crs() -> None:
    g = round_coordinates(np.array([shapely.Point(2.123456, 48.987654)]), 3)
    assert shapely.get_coordinates(g).tolist() == [[2.123, 48.988]]
    assert metric_crs_for("974") == 2975       # La Réunion, RGR92 / UTM 40S
    assert metric_crs_for("971") == 5490       # Guadeloupe, RGAF09 / UTM 20N
    assert metric_crs_for("75") == 2154        # Paris, Lambert-93


def test_encode_polygons_round_trip() -> None:
    sq = shapely.Polygon([(0.1234, 48.5), (0.2, 48.5), (0.2, 48.6), (0.1234, 48.6)],
                         holes=[[(0.15, 48.52), (0.16, 48.52), (0.16, 48.53)]])
    multi = shapely.MultiPolygon([sq, shapely.box(1, 47, 1.1, 47.1)])
    enc = encoding.encode_polygons(np.array([sq, multi], dtype=object), 4)
    assert len(enc) == 2 and len(enc[0]) == 1 and len(enc[0][0]) == 2 and len(enc[1]) == 2
    ring = enc[0][0][0]
    assert ring[:2] == [1234, 485000]           # absolute first vertex, 10^-4 degrees
    xy = np.cumsum(np.array(ring).reshape(-1, 2), axis=0) / 1e4
    assert xy.tolist() == [[0.1234, 48.5], [0.2, 48.5], [0.2, 48.6], [0.1234, 48.6]]  # closing vertex dropped


def test_french_formatting_and_classes() -> None:
    assert themes.fr_percent(0.298) == "29,8\u202f%"
    assert themes.fr_number(1463) == "1\u202f463"
    assert themes.vintage_label("ftth_share_2018T1") == "2018 T1"
    v = pd.Series([0.1, 0.5, 0.97, np.nan, 1.3], index=list("abcde"))
    colours, legend = themes.classify(v.clip(upper=1), [0, 0.2, 0.4, 0.6, 0.8, 0.95, 1.0],
                                      ["a", "b", "c", "d", "e", "f"], "YlGnBu")
    labels = {it.colour: it.label for it in legend}
    assert [labels[c] for c in colours] == ["a", "c", "f", themes.MISSING_LABEL, "f"]


def test_theme_layers(inputs: AtlasInputs) -> None:
    tc = themes.territory_class_layer(inputs.communes)
    assert [it.label for it in tc.legend] == ["Grande agglomération", "Ville moyenne", "Petite ville",
                                              "Couronne périurbaine", "Rural sous influence d\u2019un pôle"]
    assert tc.labels["61000"] == "Grande agglomération" and tc.counts["rural_sous_influence"] == 6
    fs = themes.fibre_share_layer(inputs.communes, inputs.indicators)
    assert fs.title == "Part des locaux raccordables FttH (dernier trimestre)"
    assert fs.labels["61000"] == "30,0\u202f%"
    fc = themes.fibre_change_layer(inputs.communes, inputs.indicators)
    assert "2018 T1 → dernier trimestre" in fc.title and fc.labels["61000"] == "+30,0 points"
    cs = themes.commuting_share_layer(inputs.communes, inputs.indicators)
    assert cs.labels["61000"] == themes.MISSING_LABEL          # flows_covered False → not shown as a value
    assert cs.colours["61000"] == themes.MISSING_COLOUR
    sp = themes.spaces_count_layer(inputs.communes, inputs.spaces)
    assert len(sp.colours) == 7 and sp.labels["61001"] == "2"    # only communes with spaces; 61001 holds 2
    pr = themes.priority_layer(inputs.communes, inputs.priority)
    assert len(pr.colours) == 6 and pr.labels["61010"] == "1"


def test_build_map_offline_with_legend_tooltip_title_provenance(inputs: AtlasInputs, sources) -> None:
    page, summary = build_map("fibre_share", inputs, "none", "dep-61", "Orne", SOURCE_IDS, sources)
    assert maps.external_links(page) == []
    assert "https://cdn" not in page and "jquery" not in page.lower() and "bootstrap" not in page.lower()
    assert 'version="1.9.4"' in page                         # Leaflet inlined
    assert "L.tileLayer" not in page                          # tiles "none": no tile layer
    assert "Part des locaux raccordables FttH (dernier trimestre) — Orne" in page
    assert "cg-legend" in page and "95 % et plus" in page and "L.control.layers" in page
    assert '"label":"Part FttH"' in page and "Saint-Évroult 61000 (61000)" in page
    assert "Observatoire HD/THD" in page and "Licence Ouverte 2.0" in page   # provenance line
    assert "Mission Coworking" not in page                    # only the fibre sources and the geometry
    assert summary["polygons"] == 30 and summary["bytes"] == len(page.encode())


def test_spaces_map_popups_and_programme_layers(inputs: AtlasInputs, sources) -> None:
    page, summary = build_map("spaces", inputs, "OpenStreetMap", "demo", "démo", SOURCE_IDS, sources)
    assert "(données de démonstration synthétiques)" in page and "L.tileLayer" in page
    assert "L.markerClusterGroup" in page and enc("Fabriques de territoire (lauréats 2024) (2)") in page
    assert enc("Manufactures de proximité (lauréats 2024) (1)") in page
    # the title names the lists and their years; one switchable layer per list and per programme
    assert enc("Lieux recensés en 2019 (CGET) et lauréats 2024 des programmes de l\u2019ANCT — démo") in page \
        or "Lieux recensés en 2019 (CGET) et lauréats 2024 des programmes de l\u2019ANCT — démo" in page
    assert summary["title"].startswith("Lieux recensés en 2019 (CGET) et lauréats 2024 des programmes")
    assert enc("Lieux recensés en 2019 (CGET) (8)") in page
    # popup: name (HTML-escaped), type, commune, model, source
    assert enc("<b>La Fabrique &lt;0&gt;</b><br>Type : Coworking / bureaux partagés<br>Commune : Saint-Évroult 61000 (61000)"
               "<br>Modèle : Coworking de centre-ville<br>Source : Mission Coworking (CGET, 2019)") in page
    assert enc("Fablab / makerspace, Atelier artisanal partagé") in page
    assert summary["points"] == 8 + 3 and summary["polygons"] == 7
    # programmes: outlined diamonds/squares (DOM markers) in colours outside the model palette, legend alike
    assert page.count("L.divIcon") == 2 and 'cg-mk dia' in page and 'cg-mk sq' in page
    assert not {c for _, c, _ in PROGRAMME_STYLE.values()} & set(themes.qualitative(20))
    assert enc('<i class="dia" style="background:#111111">') in page
    # provenance: a one-line summary that unfolds into the full line; the title keeps clear of the layer control
    assert enc("<details><summary>Sources : ") in page and enc("CC0)</details>") in page
    assert "cg-fit" not in page and "t.style.right = (w + 20)" in page


def test_priority_map_marks_every_priority_commune(inputs: AtlasInputs, sources) -> None:
    page, summary = build_map("priority", inputs, "none", "dep-61", "Orne", SOURCE_IDS, sources)
    layer = themes.priority_layer(inputs.communes, inputs.priority)
    pts = priority_points(inputs, layer)
    assert len(pts) == 6 and summary["points"] == 6 + len(site_points(inputs))
    by_title = {p[4].split(" : ")[0]: p for p in pts}
    assert set(by_title) == {f"Priorité n°{i}" for i in range(1, 7)}
    assert by_title["Priorité n°1"][2] == layer.colours[inputs.priority["insee_code"].iloc[0]]
    assert enc("Priorité n°1 : ") in page and enc("survoler pour voir son rang") in page


def test_every_theme_builds_and_index(inputs: AtlasInputs, sources, tmp_path: Path) -> None:
    summaries = []
    for key in THEMES:
        page, s = build_map(key, inputs, "none", "dep-61", "Orne", SOURCE_IDS, sources)
        assert maps.external_links(page) == [], key
        summaries.append(s)
    assert [s["key"] for s in summaries] == list(THEMES)
    inds = [{"key": s["key"], "title": s["title"]} for s in summaries]
    idx = index_page("Atlas", "10 indicateurs", "<section id=\"synthese\"></section>", inds, 4_900_000,
                     "Sources : test", {"priority"})
    assert idx.count('class="card"') == 10 and 'href="atlas.html#fibre_change"' in idx and "../maps/priority.png" in idx
    assert idx.index('id="synthese"') < idx.index('class="card"') and "4,9\u202fMo" in idx
    assert size_label(4_002_967) == "4,0\u202fMo" and size_label(220_000) == "220\u202fko"
    assert view_bounds(inputs.communes) == pytest.approx((0.0, 48.0, 0.6, 48.5))


def test_static_png(inputs: AtlasInputs, sources, tmp_path: Path) -> None:
    for key in ("spaces", "territory_class"):
        out = tmp_path / f"{key}.png"
        build_static(key, inputs, str(out), "demo", "démo", SOURCE_IDS, sources)
        data = out.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


@pytest.mark.mirror
def test_france_commune_map_size(repo_root: Path, sources) -> None:
    """Real France communes (34,935): one theme map stays well under 15 MB."""
    path = repo_root / "data" / "processed" / "france" / "communes.parquet"
    if not path.exists():
        pytest.skip("data/processed/france/communes.parquet not built (snakemake --config territory=france)")
    c = gpd.read_parquet(path, columns=["insee_code", "name", "dep_code", "territory_class", "geometry"])
    cs = simplify_coverage(c, 300, 4)
    layer = themes.territory_class_layer(cs)
    m = maps.new_map(view_bounds(cs), "none")
    maps.add_choropleth(m, cs, layer)
    maps.add_legend(m, [(layer.legend_title, layer.legend, "")])
    page = maps.render_map(m, "France")
    assert len(c) == 34935
    assert len(page.encode()) < 15e6
    assert re.search(r"L'Abergement-Clémenciat \(01001\)", page)
