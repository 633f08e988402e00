"""Demo files for the commune sources: IGN GeoPackages, Etalab communes.json, INSEE density grid and
zonings, and the ANCT programme lists (Action Cœur de Ville, Petites villes de demain, Villages d'avenir).

Layouts copy the real files of the mirror (see docs/demo.md for the list).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from coworking_geo.demo.fmt import (
    csv_text,
    fmt_float,
    geojson_text,
    gzip_bytes,
    largest_remainder,
    write_bytes,
)
from coworking_geo.demo.model import CENTRAL_NAME, DemoTerritory
from coworking_geo.demo.names import commune_siren, epci_siren, type_liaison, upper_name

LIBDENS = {1: "Grands centres urbains", 2: "Centres urbains intermédiaires", 3: "Petites villes",
           4: "Ceintures urbaines", 5: "Bourgs ruraux", 6: "Rural à habitat dispersé",
           7: "Rural à habitat très dispersé"}
GEOM_SOURCE = "coworking-geo synthetic demo (not ADMIN EXPRESS)"


def lonlat(terr: DemoTerritory) -> pd.DataFrame:
    """Commune centroids in EPSG:4326 (columns lon, lat), indexed by code."""
    pts = gpd.GeoSeries(gpd.points_from_xy(terr.communes["cx"], terr.communes["cy"]), crs=2154).to_crs(4326)
    return pd.DataFrame({"lon": pts.x.to_numpy(), "lat": pts.y.to_numpy()}, index=terr.communes.index)


def _write_gpkg(gdf: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    """One-layer GeoPackage, MultiPolygon, EPSG:4326, with a fixed 'last_change' date (reproducible)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        tmp_path = Path(tmp) / path.name
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2024-01-01T00:00:00.000Z"})
        try:
            pyogrio.write_dataframe(gdf, tmp_path, layer=layer, driver="GPKG", promote_to_multi=True,
                                    geometry_type="MultiPolygon")
        finally:
            pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
        os.replace(tmp_path, path)


def write_ign(terr: DemoTerritory, folder: Path) -> None:
    """communes / departements / regions GeoPackages in the CARTElette layout (COG 2024, PL 2021)."""
    c = terr.communes
    g = c.to_crs(4326)
    com = gpd.GeoDataFrame({
        "INSEE_COM": c["code"].to_numpy(), "NOM": c["name"].to_numpy(),
        "NOM_M": [upper_name(n) for n in c["name"]], "STATUT": c["statut"].to_numpy(),
        "INSEE_DEP": c["dep"].to_numpy(), "INSEE_REG": c["reg"].to_numpy(),
        "INSEE_ARR": c["arr_num"].astype(str).to_numpy(), "INSEE_CAN": c["canton"].to_numpy(),
        "SIREN_EPCI": c["epci"].to_numpy(), "POPULATION": c["pop2021"].astype(np.int64).to_numpy(),
        "ID": [f"COMMUNE_DEMO{int(k):012d}" for k in range(1, len(c) + 1)], "geom_source": GEOM_SOURCE,
    }, geometry=g.geometry.to_numpy(), crs=4326)
    _write_gpkg(com, folder / "communes_cog2024_simplifiees.gpkg", "communes")
    deps = g.dissolve(by="dep", aggfunc={"pop2021": "sum", "reg": "first"}).sort_index()
    dep = gpd.GeoDataFrame({"INSEE_DEP": deps.index.to_numpy(),
                            "NOM_DEP": [terr.dep_names[d] for d in deps.index],
                            "INSEE_REG": deps["reg"].to_numpy(),
                            "POPULATION": deps["pop2021"].astype(np.int64).to_numpy()},
                           geometry=deps.geometry.to_numpy(), crs=4326)
    _write_gpkg(dep, folder / "departements_cog2024_from_communes.gpkg", "departements")
    if c["reg"].nunique() == 1:
        reg = gpd.GeoDataFrame({"INSEE_REG": [c["reg"].iat[0]], "NOM_REG": [terr.reg_names[c["reg"].iat[0]]],
                                "POPULATION": np.array([int(c["pop2021"].sum())], dtype=np.int64)},
                               geometry=[g.geometry.union_all()], crs=4326)
    else:  # dissolve the départements (fewer vertices than the communes)
        regs = dep.dissolve(by="INSEE_REG", aggfunc={"POPULATION": "sum"}).sort_index()
        reg = gpd.GeoDataFrame({"INSEE_REG": regs.index.to_numpy(),
                                "NOM_REG": [terr.reg_names[r] for r in regs.index],
                                "POPULATION": regs["POPULATION"].astype(np.int64).to_numpy()},
                               geometry=regs.geometry.to_numpy(), crs=4326)
    _write_gpkg(reg, folder / "regions_cog2024_from_communes.gpkg", "regions")


def write_etalab(terr: DemoTerritory, path: Path) -> None:
    """communes.json of @etalab/decoupage-administratif 4.1.0 (COG 2024, PL 2022), gzipped."""
    c = terr.communes
    entries: list[tuple[str, int, dict[str, object]]] = []
    former = terr.former.groupby("parent")
    recs = c[["dep", "arr_num", "name", "reg", "cn_n", "kind", "postcode", "pop2022"]].to_dict("records")
    for j, (code, r) in enumerate(zip(c.index, recs, strict=True)):
        arr = f"{r['dep']}{r['arr_num']}"
        e: dict[str, object] = {"code": code, "nom": r["name"], "typeLiaison": type_liaison(r["name"]),
                                "zone": "metro", "arrondissement": arr, "departement": r["dep"],
                                "region": r["reg"], "type": "commune-actuelle", "rangChefLieu": 0}
        siren = commune_siren(code)
        if r["cn_n"] > 0:
            olds = former.get_group(code)
            e["anciensCodes"] = sorted(o for o in olds["old_code"] if o != code)
            siren = epci_siren(5000 + j % 4999)  # 4 digits on large territories
            for _, o in olds.iterrows():
                entries.append((o["old_code"], 1, {
                    "code": o["old_code"], "nom": o["name"], "typeLiaison": type_liaison(o["name"]), "zone": "metro",
                    "type": "commune-deleguee", "chefLieu": code, "arrondissement": arr, "departement": r["dep"],
                    "region": r["reg"]}))
        e["siren"] = siren
        e["codesPostaux"] = ([f"{r['dep']}{i:03d}" for i in range(1, len(terr.arrondissements) + 1)]
                             if r["kind"] == "central" else [r["postcode"]])
        e["population"] = int(r["pop2022"])
        entries.append((code, 0, e))
    central = terr.central
    for _, a in terr.arrondissements.iterrows():
        pop = int(round(a["population"] * central["pop2022"] / central["pop2021"]))
        entries.append((a["code"], 2, {
            "code": a["code"], "nom": a["name"], "typeLiaison": 0, "zone": "metro",
            "type": "arrondissement-municipal", "commune": a["parent"],
            "arrondissement": f"{central['dep']}{central['arr_num']}", "departement": central["dep"],
            "region": central["reg"], "codesPostaux": [a["postcode"]], "population": pop}))
    entries.sort(key=lambda t: (t[0], t[1]))
    text = "[\n" + ",\n".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) for _, _, e in entries) + "\n]\n"
    write_bytes(path, gzip_bytes(text.encode("utf-8")))


def _density_shares(rng: np.random.Generator, dens: np.ndarray) -> np.ndarray:
    """P1…P7 in hundredths of a percent: most population in the commune's own level."""
    n = len(dens)
    out = np.zeros((n, 7), dtype=np.int64)
    for i, d in enumerate(dens):
        main = rng.uniform(0.55, 1.0) if rng.random() < 0.8 else 1.0
        w = np.zeros(7)
        w[d - 1] = main
        others = [lv for lv in (d - 2, d, d + 1) if 0 <= lv < 7 and lv != d - 1]
        if main < 1.0 and others:
            w[others] = rng.dirichlet(np.ones(len(others))) * (1 - main) * 0.999
            w[others] = np.minimum(w[others], main * 0.9)
        out[i] = largest_remainder(w, 10000)
    return out


def write_grille(terr: DemoTerritory, path: Path, rng: np.random.Generator) -> None:
    """INSEE grille communale de densité 2024 as CSV (comma, CRLF, shares with 2 decimals)."""
    c = terr.communes
    shares = _density_shares(rng, c["dens"].to_numpy())
    rows = []
    cols = zip(c.index, c["name"].to_numpy(dtype=object), c["dens"].to_numpy(), c["pop2021"].to_numpy(),
               strict=True)
    for i, (code, name, dens, pop) in enumerate(cols):
        rows.append([code, name, int(dens), LIBDENS[int(dens)], int(pop),
                     *[fmt_float(v / 100, 2) for v in shares[i]]])
    header = ["CODGEO", "LIBGEO", "DENS", "LIBDENS", "PMUN21", *[f"P{i}" for i in range(1, 8)]]
    write_bytes(path, csv_text(header, rows, newline="\r\n").encode("utf-8"))


def _zoning_rows(communes: pd.DataFrame, former: pd.DataFrame, cog: int) -> pd.DataFrame:
    """One row per commune of COG ``cog``: in 2023 the 2024 commune nouvelle is still its former communes."""
    c = communes.copy()
    c["libgeo"] = c["name"]
    if cog == 2023:
        f = former[former["year"] == 2024]
        if len(f):
            base = c.loc[f["parent"]].copy()
            base["code"] = f["old_code"].to_numpy()
            base["libgeo"] = f["name"].to_numpy()
            c = pd.concat([c.drop(index=list(f["parent"].unique())), base.set_index("code", drop=False)]).sort_index()
    return c


def write_demo_appartenance(terr: DemoTerritory, folder: Path) -> None:
    """INSEE table d'appartenance (COG 2023), AAV/UU by commune (COG 2024) and the zone labels."""
    aav = terr.aavs.set_index("code")
    uu = terr.uus.set_index("code")
    c = terr.communes
    bv = c["code"].to_numpy()[c["bv_pole"].to_numpy()]
    c = c.assign(bv=bv)
    t23 = _zoning_rows(c, terr.former, 2023)
    t23 = t23.assign(code=t23.index)
    taav_, tdaav_ = t23["aav"].map(aav["taav"]), t23["aav"].map(aav["tdaav"])
    tuu_, tduu_ = t23["uu"].map(uu["tuu"]), t23["uu"].map(uu["tduu"])
    table = pd.DataFrame({
        "CODGEO": t23["code"], "LIBGEO": t23["libgeo"], "DEP": t23["dep"], "REG": t23["reg"], "EPCI": t23["epci"],
        "NATURE_EPCI": t23["epci_nature"], "ARR": t23["dep"] + t23["arr_num"].astype(str),
        "CV": t23["dep"] + t23["canton"], "ZE2020": t23["ze"], "UU2020": t23["uu"], "TUU2017": tuu_,
        "TDUU2017": tduu_, "AAV2020": t23["aav"], "TAAV2017": taav_, "TDAAV2017": tdaav_,
        "CATEAAV2020": t23["cateaav"], "BV2022": t23["bv"]})
    write_bytes(folder / "table_appartenance_geo_communes_cog2023.csv",
                csv_text(list(table.columns), table.itertuples(index=False)).encode("utf-8"))
    table = pd.DataFrame({
        "CODGEO": c["code"], "LIBGEO": c["name"], "DEP": c["dep"], "REG": c["reg"], "EPCI": c["epci"],
        "AAV2020": c["aav"], "LIBAAV2020": c["aav_name"], "TAAV2017": c["aav"].map(aav["taav"]),
        "TDAAV2017": c["aav"].map(aav["tdaav"]), "CATEAAV2020": c["cateaav"],
        "CATEAAV2020_source": "COG2023 table, same CODGEO and same AAV2020", "UU2020": c["uu"],
        "LIBUU2020": c["uu_name"], "TUU2017": c["uu"].map(uu["tuu"]), "TDUU2017": c["uu"].map(uu["tduu"])})
    write_bytes(folder / "aav2020_uu2020_communes_cog2024.csv",
                csv_text(list(table.columns), table.itertuples(index=False)).encode("utf-8"))
    # labels of the supra-communal zones, 2024 block then 2023 block, each closed by an empty row
    rows = []
    com_names = c["name"].to_dict()
    for cog, tab in ((2024, c), (2023, t23)):
        top = tab.sort_values("pop2021").groupby(["dep", "arr_num"]).agg(name=("name", "last"), n=("name", "size"))
        arr_names = {f"{d}{a}": (name, n) for (d, a), name, n in zip(top.index, top["name"], top["n"], strict=True)}
        epci_names = tab.groupby("epci")["epci_name"].first().to_dict()
        ze_names = tab.groupby("ze")["ze_name"].first().to_dict()
        blocks: dict[str, list[tuple[Any, Any, Any]]] = {
            "AAV2020": [(k, aav.at[k, "name"], n) for k, n in tab.groupby("aav").size().to_dict().items()],
            "ARR": [(k, v[0], v[1]) for k, v in sorted(arr_names.items())],
            "BV2022": [(k, com_names[k], n) for k, n in tab.groupby("bv").size().to_dict().items()],
            "DEP": [(k, terr.dep_names[str(k)], n) for k, n in tab.groupby("dep").size().to_dict().items()],
            "EPCI": [(k, epci_names[k], n) for k, n in tab.groupby("epci").size().to_dict().items()],
            "REG": [(k, terr.reg_names[str(k)], n) for k, n in tab.groupby("reg").size().to_dict().items()],
            "UU2020": [(k, uu.at[k, "name"], n) for k, n in tab.groupby("uu").size().to_dict().items()],
            "ZE2020": [(k, ze_names[k], n) for k, n in tab.groupby("ze").size().to_dict().items()],
        }
        for niv, items in blocks.items():
            rows += [[niv, k, name, int(n), cog] for k, name, n in items]
        rows.append(["", "", "", "", cog])
    write_bytes(folder / "libelles_zonages_supracommunaux_cog2023_2024.csv",
                csv_text(["NIVGEO", "CODGEO", "LIBGEO", "NB_COM", "COG"], rows).encode("utf-8"))


def write_programmes(terr: DemoTerritory, out_root: Path, rng: np.random.Generator) -> None:
    """Action Cœur de Ville (CSV), Petites villes de demain and Villages d'avenir (GeoJSON points)."""
    c = terr.communes
    ll = lonlat(terr)
    # ACV: the medium cities, the first one with a pôle neighbour under the same programme id
    medium = c[c["kind"] == "medium"]
    acv = [(code, None) for code in medium.index]
    first = medium.iloc[0]
    pole = c[(c["kind"] == "medium_ring") & c["pole"] & (c["group"] == first["group"])]
    if len(pole):
        acv.append((pole.index[0], first["code"]))
    acv.sort(key=lambda t: c.loc[t[0], "name"])
    ids: dict[str, str] = {}
    rows = []
    n = 101
    for code, same_as in acv:
        if same_as is None:
            ids[code] = f"ACV{n:03d}"
            n += 1
    for code, same_as in acv:
        r = c.loc[code]
        rows.append([code, ids[same_as or code], r["name"], r["name"], "FR", int(r["pop2021"]), r["dep"], r["reg"],
                     r["epci"], r["reg_name"], fmt_float(round(ll.loc[code, "lon"], 4), 4),
                     fmt_float(round(ll.loc[code, "lat"], 4), 4)])
    header = ["insee_com", "id_acv", "lib_com", "lib_com_carto", "iso_territoire_2", "pop", "insee_dep",
              "insee_reg", "siren_epci", "lib_reg", "lon", "lat"]
    write_bytes(out_root / "anct_action_coeur_de_ville" / "acv_communes_2024.csv",
                csv_text(header, rows).encode("utf-8"))
    # PVD: the small towns
    towns = c[c["kind"] == "small_town"].sort_values(["dep", "code"])
    feats = []
    counter: dict[str, int] = {}
    for code, r in towns.iterrows():
        counter[r["dep"]] = counter.get(r["dep"], 0) + 1
        label = r["name"].replace("Saint-", "St ", 1) if r["name"].startswith("Saint-") else r["name"]
        date = ["2021-03-12", "2021-05-28", "2021-06-30", "2022-01-14"][counter[r["dep"]] % 4]
        feats.append(({"id_territoire": f"pvd-{r['reg']}-{r['dep']}-{counter[r['dep']]}", "lib_territoire": label,
                       "date_signature": date, "liste_geo": f"{r['name']} ({code})"},
                      (ll.loc[code, "lon"], ll.loc[code, "lat"])))
    write_bytes(out_root / "anct_petites_villes_de_demain" / "pvd_geom.geojson",
                geojson_text("pvd_geom", feats).encode("utf-8"))
    # Villages d'avenir: rural communes of 300–2,000 inhabitants
    cand = c[(c["kind"] == "rural") & c["pop2021"].between(300, 2000)]
    n_va = min(len(cand), max(5, len(c) // 20))
    va = cand.iloc[np.sort(rng.choice(len(cand), n_va, replace=False))].sort_values(["dep", "code"])
    feats = []
    counter = {}
    for code, r in va.iterrows():
        counter[r["dep"]] = counter.get(r["dep"], 0) + 1
        feats.append(({"id_territoire": f"va-{r['dep']}-{counter[r['dep']]:02d}", "lib_territoire": r["name"],
                       "liste_geo": f"{r['name']} ({code})"}, (ll.loc[code, "lon"], ll.loc[code, "lat"])))
    write_bytes(out_root / "anct_villages_avenir" / "va_geom.geojson", geojson_text("va_geom", feats).encode("utf-8"))


__all__ = ["write_ign", "write_etalab", "write_grille", "write_demo_appartenance", "write_programmes", "lonlat",
           "CENTRAL_NAME"]
