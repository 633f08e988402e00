"""Demo files for ARCEP FttH: the 2018 T1 workbook export (COG 2018, padded numbers, '-' for none) and the
third-party 'latest' shares (COG 2024, one decimal, capped at 100, empty for the central city)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from coworking_geo.demo.fmt import write_bytes
from coworking_geo.demo.model import DemoTerritory
from coworking_geo.demo.names import strip_accents

QUARTERS = ["T3 2017", "T4 2017", "T1 2018"]


def _pad(v: int) -> str:
    """ARCEP export number: ' 2 670    ', and ' -    ' for zero."""
    if v == 0:
        return " -    "
    return f" {v:,}    ".replace(",", " ")


def category(share: np.ndarray) -> np.ndarray:
    """ARCEP FttH category of a share of premises: 0, 5 (<10 %), 10, 25, 50, 80 (≥80 %)."""
    s = np.asarray(share, dtype=float)
    return np.select([s <= 0, s < 0.10, s < 0.25, s < 0.5, s < 0.8], [0, 5, 10, 25, 50], default=80)


def fibre_table(terr: DemoTerritory, rng: np.random.Generator) -> pd.DataFrame:
    """Per COG 2024 commune: premises (logements, établissements), FttH-connectable premises per quarter
    and the latest share. A handful of shares exceed 100 % (a too-small INSEE denominator)."""
    c = terr.communes
    k = c["kind"].to_numpy()
    n = len(c)
    logements = np.round(c["pop2021"].to_numpy() / rng.uniform(1.9, 2.3, n)).astype(np.int64)
    etab = np.round(logements * rng.uniform(0.03, 0.09, n)).astype(np.int64)
    locaux = logements + etab
    base = {"central": 0.78, "metro_inner": 0.55, "metro_outer": 0.3, "medium": 0.45, "medium_ring": 0.15,
            "small_town": 0.08, "couronne_metro": 0.05, "couronne_medium": 0.0, "rural": 0.0}
    share = np.array([base[x] for x in k]) * rng.uniform(0.6, 1.25, n)
    share[(k == "small_town") & (rng.random(n) < 0.5)] = 0.0
    rip = np.flatnonzero(np.isin(k, ["rural", "couronne_medium"]))
    rip = rng.choice(rip, size=max(5, len(rip) // 7), replace=False)
    share[rip] = rng.uniform(0.4, 0.99, len(rip))
    over = rip[:5]
    share[over] = rng.uniform(1.03, 1.45, len(over))  # shares above 100 %
    t1 = np.round(locaux * share).astype(np.int64)
    df = pd.DataFrame({"code": c["code"].to_numpy(), "logements": logements, "etablissements": etab,
                       "locaux": locaux, "T1 2018": t1,
                       "T4 2017": np.round(t1 * rng.uniform(0.85, 1.0, n)).astype(np.int64)}, index=c.index)
    df["T3 2017"] = np.round(df["T4 2017"] * rng.uniform(0.8, 1.0, n)).astype(np.int64)
    df["T3 2017"] = np.where(rng.random(n) < 0.1, 0, df["T3 2017"])
    share18 = np.minimum(t1 / np.maximum(locaux, 1), 1.0)
    latest = np.where(np.isin(k, ["rural"]), rng.uniform(0.55, 1.0, n), rng.uniform(0.82, 1.0, n))
    df["latest_pct"] = np.round(100 * np.maximum(latest, share18), 1)
    df["rip"] = np.isin(np.arange(n), rip)
    df["over_100"] = np.isin(np.arange(n), over)
    return df


def _cog2018_rows(terr: DemoTerritory, fib: pd.DataFrame) -> pd.DataFrame:
    """The 2018 commune list: communes nouvelles created in 2019 or later are still their former communes,
    whose counts split the new commune's by population."""
    c = terr.communes
    rows = fib.join(c[["name", "dep", "reg", "epci", "kind", "dens"]])
    f = terr.former[terr.former["year"] >= 2019]
    if len(f) == 0:
        return rows
    parts = []
    for parent, g in f.groupby("parent"):
        w = g["population"].to_numpy() / g["population"].sum()
        p = rows.loc[parent]
        sub = pd.DataFrame({"code": g["old_code"].to_numpy(), "name": g["name"].to_numpy()})
        for col in ["logements", "etablissements", "T1 2018", "T4 2017", "T3 2017"]:
            v = np.floor(w * p[col]).astype(np.int64)
            v[0] += int(p[col] - v.sum())
            sub[col] = v
        sub["locaux"] = sub["logements"] + sub["etablissements"]
        for col in ["dep", "reg", "epci", "kind", "dens", "rip", "over_100"]:
            sub[col] = p[col]
        parts.append(sub.set_index("code", drop=False))
    return pd.concat([rows.drop(index=list(f["parent"].unique())), *parts])


def write_arcep_2018(terr: DemoTerritory, fib: pd.DataFrame, folder: Path) -> None:
    """export/communes.csv and export/ftthCommunes.csv: 4 title lines, header on line 5."""
    rows = _cog2018_rows(terr, fib)
    lines = ["Réseaux en fibre optique jusqu'à l'abonné (FttH)" + "," * 12,
             "Informations à l'échelle de la commune" + "," * 12, "," * 12, "," * 12,
             "Code commune,Nom commune,Code région,Code département,Siren EPCI,Logements,Établissements,"
             "Zones très denses,Engagements L. 33-13,Intentions privées hors engagement L. 33-13,Commune rurale,"
             "Commune de montagne,OI 2018 T1"]
    order = sorted(rows.index, key=lambda code: (strip_accents(rows.at[code, "name"]).lower(), code))
    recs = rows.drop(columns=[c for c in ("code",) if c in rows.columns]).to_dict("index")
    for code in order:
        r = recs[code]
        kind = r["kind"]
        amii = kind in ("central", "metro_inner", "metro_outer", "medium", "medium_ring")
        ztd = " 1    " if kind == "central" else " -    "
        l3313 = ("SFR0 " if int(code[-1]) % 3 == 0 else "FRTE ") if amii and kind != "central" else " -    "
        rural = " 1    " if r["dens"] >= 5 else " -    "
        mountain = " 1    " if r["dep"] == "42" and r["dens"] >= 6 else " -    "
        oi = ""
        if r["T1 2018"] > 0:
            oi = "FREE-FRTE-SFR0-UPCF" if kind == "central" else ("THDD" if r["rip"] else l3313.strip() or "FRTE")
        name = r["name"]
        name = f'"{name}"' if "," in name else name
        lines.append(",".join([code, name, r["reg"], r["dep"], r["epci"], _pad(int(r["logements"])),
                               _pad(int(r["etablissements"])), ztd, l3313, " -    ", rural, mountain, oi]))
    write_bytes(folder / "export" / "communes.csv", ("\n".join(lines) + "\n").encode("utf-8"))
    lines = ["Réseaux en fibre optique jusqu'à l'abonné (FttH),,,,", "Déploiement par Commune,,,,", ",,,,", ",,,,",
             "Code commune,Champ," + ",".join(QUARTERS)]
    for code in sorted(rows.index):
        r = recs[code]
        counts = [int(r[q]) for q in QUARTERS]
        cats = category(np.array(counts) / max(int(r["locaux"]), 1))
        lines.append(f"{code},Locaux Raccordables," + ",".join(str(v) for v in counts))
        lines.append(f"{code},Catégorie," + ",".join(str(int(v)) for v in cats))
    write_bytes(folder / "export" / "ftthCommunes.csv", ("\n".join(lines) + "\n").encode("utf-8"))


def write_arcep_latest(terr: DemoTerritory, fib: pd.DataFrame, path: Path) -> None:
    """arcep_ftth_pct_communes_latest.csv: code_insee,nom,code_dep,population,fibre_pct."""
    c = terr.communes
    lines = ["code_insee,nom,code_dep,population,fibre_pct"]
    latest = fib["latest_pct"].to_dict()
    for code, r in c[["name", "dep", "pop2023", "kind"]].to_dict("index").items():
        pct = "" if r["kind"] == "central" else f"{min(latest[code], 100.0):.1f}"
        name = f'"{r["name"]}"' if "," in r["name"] else r["name"]
        lines.append(f"{code},{name},{r['dep']},{int(r['pop2023'])},{pct}")
    write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8"))
