"""Demo file for INSEE MOBPRO: the national 'base flux' (RP2022) zip, ';'-separated, with the central city
split into municipal arrondissements at both ends, intra-commune flows and flows to communes outside the
territory. Flows follow a gravity model towards the metropolis and the medium cities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

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


def flows_knn(terr: DemoTerritory, rng: np.random.Generator, n_flows: int, decay_km: float = 12.0,
              min_flow: float = 0.05) -> pd.DataFrame:
    """Like :func:`flows` for large territories, without the n × n matrix: each origin sends its workers
    to its own commune and to the ``top_k`` destinations of highest gravity weight among its nearest
    3 × top_k communes (scipy cKDTree), ``top_k`` chosen so that about ``n_flows`` pairs come out."""
    c = terr.communes
    k = c["kind"].to_numpy()
    n = len(c)
    top_k = int(np.clip(round(n_flows / n) - 1, 1, n - 1))
    pop = c["pop2021"].to_numpy().astype(float)
    employed = pop * rng.uniform(0.38, 0.46, n)
    jobs = pop ** 1.1 * np.array([JOB_FACTOR.get(x, 1.0) for x in k])
    xy = c[["cx", "cy"]].to_numpy()
    m = min(n, 3 * top_k + 1)
    dist, nb = cKDTree(xy).query(xy, k=m)
    dist, nb = dist[:, 1:] / 1000.0, nb[:, 1:]  # drop the origin itself
    w = jobs[nb] * np.exp(-dist / decay_km)
    keep = np.argsort(-w, axis=1, kind="stable")[:, :top_k]
    w = np.take_along_axis(w, keep, axis=1)
    nb = np.take_along_axis(nb, keep, axis=1)
    w = w / w.sum(axis=1, keepdims=True)
    self_share = np.array([SELF_SHARE[x] for x in k]) * rng.uniform(0.85, 1.15, n)
    out_share = np.where(rng.random(n) < 0.4, rng.uniform(0.005, 0.03, n), 0.0)
    mat = w * ((1 - self_share - out_share) * employed)[:, None] * rng.lognormal(0, 0.15, w.shape)
    codes = c["code"].to_numpy()
    i = np.repeat(np.arange(n), top_k)
    df = pd.DataFrame({"CODGEO": codes[np.r_[i, np.arange(n)]], "DCLT": codes[np.r_[nb.ravel(), np.arange(n)]],
                       "flow": np.r_[mat.ravel(), self_share * employed]})
    ext = [o[0] for o in terr.outside]
    oi = np.flatnonzero(out_share > 0)
    ext_rows = pd.DataFrame({"CODGEO": codes[oi], "DCLT": np.array(ext)[rng.integers(len(ext), size=len(oi))],
                             "flow": out_share[oi] * employed[oi]})
    df = pd.concat([df, ext_rows], ignore_index=True)
    return df[df["flow"] >= min_flow]


def split_central(terr: DemoTerritory, df: pd.DataFrame, rng: np.random.Generator,
                  min_flow: float = 0.5) -> pd.DataFrame:
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
    return out[out["flow"] >= min_flow]


def write_mobpro(terr: DemoTerritory, rng: np.random.Generator, path: Path,
                 n_flows: int | None = None) -> pd.DataFrame:
    """The zip holding base-flux-mobilite-domicile-lieu-travail-2022.csv; returns the flows written.

    ``n_flows`` (about that many rows, large territories): nearest-neighbour gravity model instead of the
    dense one, flows down to 0.05 worker kept, and the smallest flows dropped beyond ``n_flows``."""
    if n_flows is None:
        df = split_central(terr, flows(terr, rng), rng)
    else:
        df = split_central(terr, flows_knn(terr, rng, n_flows), rng, min_flow=0.05)
        if len(df) > n_flows:
            df = df.nlargest(n_flows, "flow", keep="first")
    names = dict(zip(terr.communes["code"], terr.communes["name"], strict=True))
    names |= dict(zip(terr.arrondissements["code"], terr.arrondissements["name"], strict=True))
    names |= {code: name for code, name, _ in terr.outside}
    df = df.sort_values(["CODGEO", "DCLT"]).reset_index(drop=True)
    obj = {c: df[c].to_numpy(dtype=object) for c in ("CODGEO", "DCLT")}
    rows = zip(obj["CODGEO"], df["CODGEO"].map(names).to_numpy(dtype=object), obj["DCLT"],
               df["DCLT"].map(names).to_numpy(dtype=object), [fmt_float(v, 8) for v in df["flow"].to_numpy()],
               strict=True)
    text = csv_text(COLUMNS, rows, sep=";")
    write_bytes(path, zip_bytes([(MEMBER, text.encode("utf-8"))]))
    return df
