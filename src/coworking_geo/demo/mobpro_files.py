"""Demo file for INSEE MOBPRO: the national 'base flux' (RP2022) zip, ';'-separated, with the central city
split into municipal arrondissements at both ends, intra-commune flows and flows to communes outside the
territory. Flows follow a gravity model towards the metropolis and the medium cities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from coworking_geo.demo.fmt import csv_text, fmt_float, write_bytes, zip_bytes
from coworking_geo.demo.model import DemoTerritory

MEMBER = "base-flux-mobilite-domicile-lieu-travail-2022.csv"
COLUMNS = ["CODGEO", "LIBGEO", "DCLT", "L_DCLT", "NBFLUX_C22_ACTOCC15P"]
SELF_SHARE = {"central": 0.62, "medium": 0.55, "small_town": 0.45, "metro_inner": 0.32, "metro_outer": 0.25,
              "medium_ring": 0.22, "couronne_metro": 0.17, "couronne_medium": 0.2, "rural": 0.3}
JOB_FACTOR = {"central": 1.7, "medium": 1.5, "small_town": 1.4, "metro_inner": 1.1}


def flows(terr: DemoTerritory, rng: np.random.Generator, top_k: int = 9,
          decay_km: float = 12.0) -> pd.DataFrame:
    """Commune-to-commune flows (COG 2024 codes, central city not yet split): CODGEO, DCLT, flow."""
    c = terr.communes
    k = c["kind"].to_numpy()
    n = len(c)
    pop = c["pop2021"].to_numpy().astype(float)
    employed = pop * rng.uniform(0.38, 0.46, n)
    jobs = pop ** 1.1 * np.array([JOB_FACTOR.get(x, 1.0) for x in k])
    xy = c[["cx", "cy"]].to_numpy()
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1]) / 1000.0
    w = jobs[None, :] * np.exp(-d / decay_km)
    np.fill_diagonal(w, 0.0)
    # keep the top_k destinations of each origin
    cut = -np.sort(-w, axis=1)[:, top_k - 1:top_k]
    w = np.where(w >= cut, w, 0.0)
    w = w / w.sum(axis=1, keepdims=True)
    self_share = np.array([SELF_SHARE[x] for x in k]) * rng.uniform(0.85, 1.15, n)
    out_share = np.where(rng.random(n) < 0.4, rng.uniform(0.005, 0.03, n), 0.0)
    mat = w * ((1 - self_share - out_share) * employed)[:, None]
    mat[np.arange(n), np.arange(n)] = self_share * employed
    mat = mat * rng.lognormal(0, 0.15, mat.shape)
    i, j = np.nonzero(mat >= 0.5)
    codes = c["code"].to_numpy()
    df = pd.DataFrame({"CODGEO": codes[i], "DCLT": codes[j], "flow": mat[i, j]})
    ext = [o[0] for o in terr.outside]
    oi = np.flatnonzero(out_share > 0)
    ext_rows = pd.DataFrame({"CODGEO": codes[oi], "DCLT": np.array(ext)[rng.integers(len(ext), size=len(oi))],
                             "flow": out_share[oi] * employed[oi]})
    return pd.concat([df, ext_rows[ext_rows["flow"] >= 0.5]], ignore_index=True)


def split_central(terr: DemoTerritory, df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Replace the central city by its municipal arrondissements at both ends of each flow."""
    arr = terr.arrondissements
    central = terr.central["code"]
    res_w = arr["population"].to_numpy() / arr["population"].sum()
    job_w = res_w * rng.uniform(0.6, 1.6, len(arr))
    job_w /= job_w.sum()
    codes = arr["code"].to_numpy()
    parts = [df[(df["CODGEO"] != central) & (df["DCLT"] != central)]]
    to_c = df[(df["CODGEO"] != central) & (df["DCLT"] == central)]
    parts.append(pd.DataFrame({"CODGEO": np.repeat(to_c["CODGEO"].to_numpy(), len(arr)),
                               "DCLT": np.tile(codes, len(to_c)),
                               "flow": np.outer(to_c["flow"].to_numpy(), job_w).ravel()}))
    from_c = df[(df["CODGEO"] == central) & (df["DCLT"] != central)]
    parts.append(pd.DataFrame({"CODGEO": np.repeat(codes, len(from_c)),
                               "DCLT": np.tile(from_c["DCLT"].to_numpy(), len(arr)),
                               "flow": np.outer(res_w, from_c["flow"].to_numpy()).ravel()}))
    intra = float(df.loc[(df["CODGEO"] == central) & (df["DCLT"] == central), "flow"].sum())
    m = np.outer(res_w, job_w) + 0.4 * np.diag(res_w)
    m = m / m.sum() * intra
    parts.append(pd.DataFrame({"CODGEO": np.repeat(codes, len(arr)), "DCLT": np.tile(codes, len(arr)),
                               "flow": m.ravel()}))
    out = pd.concat(parts, ignore_index=True)
    return out[out["flow"] >= 0.5]


def write_mobpro(terr: DemoTerritory, rng: np.random.Generator, path: Path) -> pd.DataFrame:
    """The zip holding base-flux-mobilite-domicile-lieu-travail-2022.csv; returns the flows written."""
    df = split_central(terr, flows(terr, rng), rng)
    names = dict(zip(terr.communes["code"], terr.communes["name"], strict=True))
    names |= dict(zip(terr.arrondissements["code"], terr.arrondissements["name"], strict=True))
    names |= {code: name for code, name, _ in terr.outside}
    df = df.sort_values(["CODGEO", "DCLT"]).reset_index(drop=True)
    rows = zip(df["CODGEO"], df["CODGEO"].map(names), df["DCLT"], df["DCLT"].map(names),
               [fmt_float(v, 8) for v in df["flow"]], strict=True)
    text = csv_text(COLUMNS, rows, sep=";")
    write_bytes(path, zip_bytes([(MEMBER, text.encode("utf-8"))]))
    return df
