"""Duplicate detection: the same place twice in one source, or once in each of two sources.

Rule (thresholds in config ``spaces:``): two located records are the same
place when their *normalised names* are equal and either

* they are closer than ``duplicate_distance_m`` (any communes), or
* they are in the same current commune and closer than ``duplicate_same_commune_m``
  (the CGET list's known duplicates, Coworking Republic in Paris and
  Yelloworking in Aix, are two addresses 190 m and 240 m apart);

or when their coordinates are identical and one normalised name contains the
other. Distances are metres in Lambert-93 (EPSG:2154), or great-circle overseas.
Groups are closed transitively; one record is kept per group (best location
precision, then best geocoder score, then source order in config, then file
order), the others are *merged* into it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from coworking_geo.spaces.vocabulary import fold

STOP_WORDS = frozenset({
    "coworking", "co", "working", "cowork", "espace", "tiers", "lieu", "lieux", "tierslieu", "le", "la", "les",
    "l", "de", "du", "des", "d", "et", "a", "au", "aux", "en", "the", "by", "sas", "sarl", "association", "asso",
})

PRECISION_RANK = {"address": 0, "manual": 1, "street": 2, "unknown": 3, "approximate": 4, "commune": 5}


def normalise_name(names: pd.Series) -> pd.Series:
    """Accents stripped, lower case, punctuation removed, stop words dropped ('Le Coworking République' → 'republique').

    When only stop words remain, the folded name is kept whole.
    """
    folded = fold(names)
    kept = folded.str.split(" ").map(lambda ws: " ".join(w for w in ws if w and w not in STOP_WORDS))
    kept = kept.astype("string")
    return kept.mask(kept.eq(""), folded)


def _metric_xy(lon: pd.Series, lat: pd.Series) -> np.ndarray:
    """Metres: Lambert-93 for metropolitan points, an equirectangular local projection elsewhere."""
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 2154, always_xy=True).transform(lon.to_numpy(float), lat.to_numpy(float))
    over = (lat < 40).to_numpy()  # overseas: local equirectangular (great-circle accurate at these distances)
    r = 6_371_000.0
    x = np.where(over, np.radians(lon) * r * np.cos(np.radians(lat)) + 1e8, x)
    y = np.where(over, np.radians(lat) * r + 1e8, y)
    return np.column_stack([x, y])


def find_duplicates(df: pd.DataFrame, distance_m: float, same_commune_m: float,
                    source_order: list[str] | None = None) -> pd.Series:
    """For each row of ``df`` (columns name, lon, lat, insee_code, source, location_precision,
    geocode_score, row), the index label of the row it is merged into, or NA for kept rows.
    """
    out = pd.Series(pd.NA, index=df.index, dtype="object")
    ok = df["lon"].notna() & df["lat"].notna()
    d = df[ok]
    if len(d) < 2:
        return out
    xy = _metric_xy(d["lon"], d["lat"])
    tree = cKDTree(xy)
    pairs = tree.query_pairs(max(distance_m, same_commune_m), output_type="ndarray")
    if len(pairs) == 0:
        return out
    i, j = pairs[:, 0], pairs[:, 1]
    name = normalise_name(d["name"]).to_numpy(dtype=object)
    code = d["insee_code"].astype("string").fillna("").to_numpy(dtype=object)
    dist = np.hypot(*(xy[i] - xy[j]).T)
    same_name = name[i] == name[j]
    same_commune = (code[i] == code[j]) & (code[i] != "")
    contained = np.array([(a in b or b in a) and min(len(a), len(b)) >= 4 for a, b in zip(name[i], name[j])], dtype=bool)
    dup = same_name & ((dist <= distance_m) | (same_commune & (dist <= same_commune_m)))
    dup |= (dist < 1.0) & contained
    i, j = i[dup], j[dup]
    if len(i) == 0:
        return out
    n = len(d)
    graph = coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    order = {s: k for k, s in enumerate(source_order or [])}
    rank = pd.DataFrame({
        "group": labels,
        "prec": d["location_precision"].map(PRECISION_RANK).fillna(9).to_numpy(),
        "score": -d["geocode_score"].fillna(-1).to_numpy(dtype=float),
        "src": d["source"].map(order).fillna(len(order)).to_numpy(),
        "row": d["row"].to_numpy(),
        "label": d.index.to_numpy(),
    })
    sizes = rank["group"].map(rank["group"].value_counts())
    rank = rank[sizes > 1].sort_values(["group", "prec", "score", "src", "row"])
    keeper = rank.groupby("group")["label"].transform("first")
    merged = rank[rank["label"] != keeper]
    out.loc[merged["label"].to_numpy()] = keeper[merged.index].to_numpy()
    return out
