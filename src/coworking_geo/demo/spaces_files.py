"""Demo files for the spaces sources: the CGET 2019 list (with its messy rows), the France Tiers-Lieux
2026 census layout, and the Fabriques / Manufactures laureates (commune-centroid points).

The messy CGET rows are deliberate and listed in ``MESSY`` so that tests and readers can check them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from coworking_geo.demo.admin_files import lonlat
from coworking_geo.demo.fmt import csv_text, fmt_float, geojson_text, write_bytes
from coworking_geo.demo.model import METRO_NAME, DemoTerritory, arrondissement_of
from coworking_geo.demo.names import strip_accents

CGET_COLUMNS = ["ID", "NOM_TL", "ADRESSE", "CP", "COMINIT", "INSEECOM", "NOMCOM", "WEB", "TWITTER", "FACEBOOK",
                "TYPO", "LAT", "LONG", "GEOCOD", "PRECISION", "CONTACT", "MAIL", "METRO", "NOMMETRO", "INSEEREG",
                "NOMREG", "INSEEMETRO", "INSEEDEP", "NOMCOMMETRO", "POPCOM", "COMCLASS", "INSEE_ZE", "NOM_ZE",
                "CLASS_ZE", "POP_ZE"]
FTL_COLUMNS = ["ID_UNIQUE", "NOM", "ADRESSE", "CODPOST", "VILLE", "DEPARTEMENT_TL", "REGION_TL", "LATITUDE",
               "LONGITUDE", "INTERNET", "EMAIL", "TELEPHONE", "DATE_OUV", "NOM_STRC_GEST", "TYPE_STRUCTURE_GEST",
               "familles_tiers_lieux", "initiative_origine", "état du projet"]
TYPO_COWORKING = "Tiers lieux à dominante coworking"
TYPO_FABLAB = "Tiers lieux à dominante fablab"
FAKE_EMAIL = "demo@example.invalid"
FAKE_PHONE = "00 00 00 00 00"

COWORK_WORDS = ["La Ruche", "Le Hub", "Cowork", "L'Escale", "Le Bureau partagé", "La Passerelle", "Le Comptoir",
                "La Cordée fictive", "L'Établi numérique", "Le Quai", "La Grange connectée", "Le Relais"]
FABLAB_WORDS = ["Fablab", "L'Atelier", "La Fabrique", "Le Labo", "Makerspace", "La Manufacture"]
RECORD_COLUMNS = ["kind", "code", "postcode", "name", "epci_nature", "dep", "dep_name", "reg", "reg_name", "pop2021",
                  "ze", "ze_name"]  # the commune attributes a space row reads
STREETS = ["rue de la Synthèse", "place du Marché", "avenue des Données", "boulevard Fictif", "rue Victor-Démo",
           "chemin des Pixels", "rue de l'Échantillon", "quai de la Démone", "allée des Vecteurs", "rue du Modèle"]


@dataclass
class SpacesTruth:
    """What the demo planted in the spaces files (row ids of the CGET file and census twins)."""

    swapped: list[int] = field(default_factory=list)
    lambert93: list[int] = field(default_factory=list)
    decimal_comma: list[int] = field(default_factory=list)
    empty_coords: list[int] = field(default_factory=list)
    insee_zero: list[int] = field(default_factory=list)
    former_code: list[int] = field(default_factory=list)
    duplicates: list[tuple[int, int]] = field(default_factory=list)
    arrondissement: list[int] = field(default_factory=list)
    census_twins: list[tuple[str, int]] = field(default_factory=list)
    xy: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))  # EPSG:2154 true location of each row
    pos: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=int))  # commune position of each row


def _comclass(pop: float) -> str:
    return ("0-5000" if pop < 5000 else "5000-20000" if pop < 20000 else "20000-50000" if pop < 50000
            else "50000-100000" if pop < 100000 else "100000 et plus")


def _class_ze(pop: float) -> str:
    return ("0-50 000" if pop < 50000 else "50 000-100 000" if pop < 100000 else "100 000-200 000" if pop < 200000
            else "200 000-500 000" if pop < 500000 else "500 000-6 000 000")


def random_points(rng: np.random.Generator, polys: np.ndarray) -> np.ndarray:
    """One uniform random point (EPSG:2154) inside each polygon, by rejection in its bounding box."""
    out = np.empty((len(polys), 2))
    bounds = shapely.bounds(polys)
    for i, (poly, b) in enumerate(zip(polys, bounds, strict=True)):
        while True:
            cand = np.column_stack([rng.uniform(b[0], b[2], 32), rng.uniform(b[1], b[3], 32)])
            ok = shapely.contains_xy(poly, cand[:, 0], cand[:, 1])
            if ok.any():
                out[i] = cand[np.argmax(ok)]
                break
    return out


def _pick_communes(rng: np.random.Generator, terr: DemoTerritory, n: int) -> np.ndarray:
    """Positions (in terr.communes) of ``n`` spaces: a third in the central city, the rest by group."""
    c = terr.communes
    k = c["kind"].to_numpy()
    pop = c["pop2021"].to_numpy().astype(float)
    groups = [(np.isin(k, ["central"]), 0.33, 1.0), (np.isin(k, ["metro_inner", "metro_outer"]), 0.13, 1.0),
              (np.isin(k, ["medium", "medium_ring"]), 0.17, 1.3), (k == "small_town", 0.14, 0.5),
              (np.isin(k, ["couronne_metro", "couronne_medium", "rural"]), 0.23, 0.6)]
    counts = [int(round(share * n)) for _, share, _ in groups]
    counts[-1] = n - sum(counts[:-1])
    picks = []
    for (mask, _, power), m in zip(groups, counts, strict=True):
        idx = np.flatnonzero(mask)
        w = pop[idx] ** power
        picks.append(rng.choice(idx, size=m, replace=True, p=w / w.sum()))
    out = np.concatenate(picks)
    return out[rng.permutation(len(out))]


def de(name: str) -> str:
    """'de X' with French elision and contraction: "d'Abscisse", "du Centilly", "des Vignes", "de la Forêt"."""
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    if name.startswith("La "):
        return "de la " + name[3:]
    if name.startswith("L'"):
        return "de l'" + name[2:]
    return ("d'" if strip_accents(name)[0] in "AEIOUY" else "de ") + name


def _names(rng: np.random.Generator, communes: pd.Series, fablab: np.ndarray) -> list[str]:
    out, seen = [], set()
    for name, fab in zip(communes, fablab, strict=True):
        words = FABLAB_WORDS if fab else COWORK_WORDS
        for _ in range(50):
            cand = f"{words[rng.integers(len(words))]} {de(name) if rng.random() < 0.6 else name}"
            if rng.random() < 0.3:
                cand += f" {rng.integers(2, 9)}"
            if cand not in seen:
                break
        seen.add(cand)
        out.append(cand)
    return out


def _slug(name: str) -> str:
    s = strip_accents(name).lower()
    return "".join(ch if ch.isalnum() else "-" for ch in s).strip("-").replace("--", "-")


def build_spaces(terr: DemoTerritory, rng: np.random.Generator,
                 n_rows: int | None = None) -> tuple[pd.DataFrame, SpacesTruth]:
    """The CGET 2019 rows (as strings, in file order) and what was planted in them: ``n_rows`` rows
    (default: half the number of communes, at least 40)."""
    c = terr.communes
    n = max(40, int(round(len(c) * 0.5))) if n_rows is None else max(40, int(n_rows))
    n_added = max(3, int(round(0.04 * n)))  # the 2019 additions: no TYPO, no address
    n_main = n - n_added - 2  # two more rows are duplicates of existing places
    pos = _pick_communes(rng, terr, n_main + n_added)
    polys = c.geometry.to_numpy()[pos]
    xy = random_points(rng, polys)
    fab = rng.random(len(pos)) < 0.24
    names = _names(rng, c["name"].to_numpy()[pos], fab)
    to_ll = Transformer.from_crs(2154, 4326, always_xy=True)
    ze_pop = c.groupby("ze")["pop2021"].sum()
    arr_pc = terr.arrondissements.set_index("code")["postcode"]
    recs = c[RECORD_COLUMNS].to_dict("records")
    pos_all = np.asarray(pos)
    arr_code = np.where(c["kind"].to_numpy()[pos_all] == "central",
                        arrondissement_of(terr, xy[:, 0], xy[:, 1]), "")

    def make_row(i: int, p: int, x: float, y: float, name: str, fablab: bool, added: bool) -> dict[str, object]:
        r = recs[p]
        central = r["kind"] == "central"
        lo, la = to_ll.transform(x, y)
        code = (arr_code[i] if i < len(arr_code) and pos_all[i] == p else
                arrondissement_of(terr, np.array([x]), np.array([y]))[0]) if central else r["code"]
        cp = arr_pc[code] if central else r["postcode"]
        street = f"{rng.integers(1, 120)} {STREETS[rng.integers(len(STREETS))]}"
        metro = r["epci_nature"] == "ME"
        return {
            "ID": i + 1, "NOM_TL": name, "ADRESSE": "" if added else street, "CP": "0" if added else cp,
            "COMINIT": "" if added else (r["name"].upper() if rng.random() < 0.1 else r["name"]),
            "INSEECOM": "0" if added else code, "NOMCOM": "" if added else r["name"],
            "WEB": "" if rng.random() < 0.3 else f"www.{_slug(name)}.example",
            "TWITTER": "", "FACEBOOK": "", "TYPO": "" if added else (TYPO_FABLAB if fablab else TYPO_COWORKING),
            "LAT": fmt_float(la, 6), "LONG": fmt_float(lo, 6),
            "GEOCOD": "" if added else f"{street[0].upper()}{street[1:]} {cp} {r['name']}",
            "PRECISION": "" if added else fmt_float(rng.choice([0.94, 0.93, 0.92, 0.95, 0.91, 0.86, 0.77, 0.99]), 2),
            "CONTACT": "", "MAIL": "", "METRO": "1" if metro else "0", "NOMMETRO": METRO_NAME if metro else "",
            "INSEEREG": r["reg"], "NOMREG": r["reg_name"], "INSEEMETRO": r["code"], "INSEEDEP": r["dep"],
            "NOMCOMMETRO": r["name"], "POPCOM": str(int(r["pop2021"])), "COMCLASS": _comclass(r["pop2021"]),
            "INSEE_ZE": r["ze"], "NOM_ZE": r["ze_name"].upper(), "CLASS_ZE": _class_ze(ze_pop[r["ze"]]),
            "POP_ZE": str(int(ze_pop[r["ze"]])),
        }

    truth = SpacesTruth()
    rows = [make_row(i, p, xy[i, 0], xy[i, 1], names[i], bool(fab[i]), i >= n_main) for i, p in enumerate(pos)]
    truth.arrondissement = [i + 1 for i, p in enumerate(pos) if c["kind"].iat[p] == "central" and i < n_main]
    df = pd.DataFrame(rows, columns=CGET_COLUMNS)
    main = [i for i in range(n_main) if c["kind"].iat[pos[i]] != "central"]
    pick = list(rng.choice(main, size=14, replace=False))
    swapped, lam, comma, empty, zero, prec9 = pick[:2], pick[2:3], pick[3:4], pick[4:7], pick[7:10], pick[10:14]
    for i in swapped:
        lat, lon = str(df.at[i, "LAT"]), str(df.at[i, "LONG"])
        df.loc[i, "LAT"], df.loc[i, "LONG"] = lon, lat
    for i in lam:
        df.loc[i, "LAT"], df.loc[i, "LONG"] = fmt_float(xy[i, 1], 2), fmt_float(xy[i, 0], 2)
    for i in comma:
        df.loc[i, "LAT"], df.loc[i, "LONG"] = str(df["LAT"].at[i]).replace(".", ","), str(df["LONG"].at[i]).replace(".", ",")
    for i in empty:
        df.loc[i, ["LAT", "LONG", "GEOCOD", "PRECISION"]] = ["", "", "", ""]
    for i in zero:
        df.loc[i, "INSEECOM"] = "0"
    df.loc[zero[0], "CP"] = "0"
    for i in prec9:
        df.loc[i, "PRECISION"] = "9"
    df.loc[pick[11], "POPCOM"] = str(df["POPCOM"].at[pick[11]]) + ",4187"
    df.loc[pick[12], ["CONTACT", "MAIL"]] = ["Contact Démo", FAKE_EMAIL]
    truth.swapped = [int(i) + 1 for i in swapped]
    truth.lambert93 = [int(i) + 1 for i in lam]
    truth.decimal_comma = [int(i) + 1 for i in comma]
    truth.empty_coords = [int(i) + 1 for i in empty]
    truth.insee_zero = sorted([int(i) + 1 for i in zero] + list(range(n_main + 1, n_main + n_added + 1)))
    # two rows declared with a former (pre-merger) commune code, points inside the commune nouvelle
    f = terr.former[(terr.former["year"] >= 2019) & ~terr.former["chef_lieu"]]
    f = f.drop_duplicates("parent")
    used = set(pick)
    for _, o in f.head(2).iterrows():
        p = c.index.get_loc(o["parent"])
        cand = [i for i in range(n_main) if pos[i] == p and i not in used]
        if cand:
            i = cand[0]
        else:  # no space there yet: move an unused rural row into the commune nouvelle
            i = next(i for i in range(n_main) if i not in used and c["kind"].iat[pos[i]] == "rural")
            x, y = random_points(rng, np.array([c.geometry.iat[p]]))[0]
            pos[i], xy[i] = p, (x, y)
            name = _names(rng, pd.Series([c["name"].iat[p]]), np.array([False]))[0]
            df.loc[i] = pd.Series(make_row(i, p, x, y, name, False, False))
        used.add(i)
        df.loc[i, ["INSEECOM", "NOMCOM", "COMINIT"]] = [o["old_code"], o["name"], o["name"]]
        truth.former_code.append(int(i) + 1)
    # two duplicate places: same name, a second row 15–25 m away
    dup_src = [i for i in range(n_main) if i not in used][:2]
    extra = []
    for j, i in enumerate(dup_src):
        d = rng.uniform(15, 25)
        a = rng.uniform(0, 2 * np.pi)
        lo, la = to_ll.transform(xy[i, 0] + d * np.cos(a), xy[i, 1] + d * np.sin(a))
        row = df.loc[i].copy()
        row["ID"] = n_main + n_added + j + 1
        row["LAT"], row["LONG"] = fmt_float(la, 6), fmt_float(lo, 6)
        row["ADRESSE"] = row["ADRESSE"].upper()
        extra.append(row)
        truth.duplicates.append((int(i) + 1, n_main + n_added + j + 1))
    df = pd.concat([df, pd.DataFrame(extra)], ignore_index=True)
    df["ID"] = df["ID"].astype(int).astype(str)
    truth.xy = np.vstack([xy, xy[dup_src]])
    truth.pos = np.concatenate([pos, pos[dup_src]])
    return df, truth


def write_cget(df: pd.DataFrame, path: Path) -> None:
    """CGET_TiersLieux_2019.csv: comma-separated UTF-8 without BOM, minimal quoting."""
    write_bytes(path, csv_text(CGET_COLUMNS, df[CGET_COLUMNS].itertuples(index=False)).encode("utf-8"))


def _variant(rng: np.random.Generator, name: str) -> str:
    """The same name as another register would spell it (case, accents, hyphens)."""
    k = rng.integers(4)
    if k == 0:
        return name.upper()
    if k == 1:
        return strip_accents(name)
    if k == 2:
        return name.replace("'", "’").replace(" de ", " De ")
    return " ".join(name.lower().split())


def build_census(terr: DemoTerritory, cget: pd.DataFrame, truth: SpacesTruth,
                 rng: np.random.Generator, n_rows: int | None = None) -> pd.DataFrame:
    """France Tiers-Lieux 2026 census rows: ~40 % are CGET places (name variant, 30–120 m away);
    ``n_rows`` rows (default: a fifth of the number of communes, at least 20)."""
    c = terr.communes
    n = max(20, int(round(len(c) * 0.2))) if n_rows is None else max(20, int(n_rows))
    to_ll = Transformer.from_crs(2154, 4326, always_xy=True)
    bad = set(truth.swapped + truth.lambert93 + truth.decimal_comma + truth.empty_coords + truth.former_code
              + [i for pair in truth.duplicates for i in pair])
    ids = cget["ID"].astype(int).to_numpy()
    ok = list(np.flatnonzero(~np.isin(ids, sorted(bad)) & (cget["TYPO"].to_numpy() != "")))
    twins = sorted(rng.choice(ok, size=int(0.4 * n), replace=False))
    xy_all = truth.xy
    pos_all = truth.pos
    new_pos = _pick_communes(rng, terr, n - len(twins))
    k = c["kind"].to_numpy()
    # the census has more rural places than 2019: move half of the new ones to rural communes
    rural = np.flatnonzero(np.isin(k, ["rural", "couronne_medium", "small_town"]))
    new_pos[: len(new_pos) // 2] = rng.choice(rural, size=len(new_pos) // 2)
    new_xy = random_points(rng, c.geometry.to_numpy()[new_pos])
    families = ["Bureaux partagés / coworking", "Fablab / makerspace / hackerspace", "Ateliers artisanaux partagés",
                "Tiers-lieu nourricier", "Tiers-lieu culturel / lieu intermédiaire", "Cuisine partagée / foodlab"]
    rows = []
    used_names = set(cget["NOM_TL"])
    recs = c[RECORD_COLUMNS].to_dict("records")
    arr_pc = terr.arrondissements.set_index("code")["postcode"]
    for j in range(n):
        if j < len(twins):
            i = twins[j]
            d, a = rng.uniform(30, 120), rng.uniform(0, 2 * np.pi)
            x, y = xy_all[i, 0] + d * np.cos(a), xy_all[i, 1] + d * np.sin(a)
            p = pos_all[i]
            name = _variant(rng, str(cget["NOM_TL"].at[i]))
            fam = families[1] if cget.at[i, "TYPO"] == TYPO_FABLAB else families[0]
            truth.census_twins.append((f"FTL{j + 1:05d}", int(cast(int, cget.at[i, "ID"]))))
        else:
            p = new_pos[j - len(twins)]
            x, y = new_xy[j - len(twins)]
            name = _names(rng, pd.Series([c["name"].iat[p]]), np.array([rng.random() < 0.2]))[0]
            while name in used_names:
                name += " bis"
            fam = ", ".join(sorted(set(rng.choice(families, size=rng.integers(1, 3)))))
        used_names.add(name)
        r = recs[p]
        lo, la = to_ll.transform(x, y)
        street = f"{rng.integers(1, 120)} {STREETS[rng.integers(len(STREETS))]}"
        cp = r["postcode"]
        if r["kind"] == "central":
            code = arrondissement_of(terr, np.array([x]), np.array([y]))[0]
            cp = arr_pc[code]
        rows.append([f"FTL{j + 1:05d}", name, street, cp, r["name"], r["dep_name"], r["reg_name"],
                     fmt_float(la, 6).replace(".", ","), fmt_float(lo, 6).replace(".", ","),
                     "" if rng.random() < 0.3 else f"https://{_slug(name)}.example", FAKE_EMAIL, FAKE_PHONE,
                     str(int(rng.integers(2012, 2026))), f"Association {name}",
                     ["Association", "SCIC", "SAS", "Collectivité"][rng.integers(4)], fam,
                     ["Un collectif citoyen", "Une collectivité publique", "Un entrepreneur ou une entreprise"][
                         rng.integers(3)], "Ouvert" if rng.random() < 0.85 else "En projet"])
    return pd.DataFrame(rows, columns=FTL_COLUMNS)


def write_census(df: pd.DataFrame, path: Path) -> None:
    """bdftl-2026-01-fiche-identite.csv: ';'-separated UTF-8 with a BOM, decimal commas in coordinates."""
    text = csv_text(FTL_COLUMNS, df.itertuples(index=False), sep=";")
    write_bytes(path, b"\xef\xbb\xbf" + text.encode("utf-8"))


def write_demo_laureates(terr: DemoTerritory, cget: pd.DataFrame, out_root: Path, rng: np.random.Generator) -> None:
    """Fabriques de territoire (~12) and Manufactures de proximité (~5) as commune-centroid points."""
    c = terr.communes
    ll = lonlat(terr)
    names = c["name"].to_dict()
    kinds = c["kind"].to_dict()
    typed = cget[cget["TYPO"] != ""]
    for sid, fname, prefix, n_lau, n_named in (
            ("anct_fabriques_territoire", "fabt_geom", "fabt", 12, 6),
            ("anct_manufactures_proximite", "manuprox_geom", "manuprox", 5, 2)):
        k = c["kind"].to_numpy()
        central = c.index[k == "central"][0]
        in_central = typed[typed["INSEEMETRO"] == central]
        elsewhere = typed[typed["INSEEMETRO"] != central]
        named = pd.concat([in_central.iloc[rng.choice(len(in_central), 2, replace=False)],
                           elsewhere.iloc[rng.choice(len(elsewhere), n_named - 2, replace=False)]])
        communes = list(named["INSEEMETRO"])
        labels = list(named["NOM_TL"])
        rest = n_lau - n_named
        pool = np.flatnonzero(np.isin(k, ["rural", "small_town", "couronne_medium", "medium"]))
        extra = c.index[rng.choice(pool, rest, replace=False)]
        communes += list(extra)
        labels += [f"{['La Fabrique', 'Le Tiers-lieu', 'Les Ateliers', 'La Coopérative'][j % 4]} "
                   f"{de(names[cm])}" for j, cm in enumerate(extra)]
        if prefix == "fabt":
            ids = [f"fabt-{v}" for v in rng.choice(np.arange(1, 383), n_lau, replace=False)]
        else:
            ids = [f"manuprox-{1 + v % 2}-{v}" for v in rng.choice(np.arange(1, 112), n_lau, replace=False)]
        by_commune: dict[str, list[tuple[str, str]]] = {}
        for cm, i, lab in zip(communes, ids, labels, strict=True):
            by_commune.setdefault(cm, []).append((i, lab))
        feats = []
        empty_geom = prefix == "fabt"
        for cm in sorted(by_commune):
            items = by_commune[cm]
            name = names[cm]
            props = {"id_geo": cm, "lib_geo": name, "id_territoire": "; ".join(i for i, _ in items),
                     "liste_geo": f"{name} ({cm})", "lib_territoire": "; ".join(lab for _, lab in items)}
            pt: tuple[float, float] | None = (cast(float, ll.at[cm, "lon"]), cast(float, ll.at[cm, "lat"]))
            if empty_geom and kinds[cm] == "rural":
                pt, empty_geom = None, False  # one feature without geometry, as in the ANCT file
            feats.append((props, pt))
        write_bytes(out_root / sid / f"{fname}.geojson", geojson_text(fname, feats).encode("utf-8"))
