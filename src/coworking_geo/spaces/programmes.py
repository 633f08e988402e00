"""ANCT programme laureates (Fabriques de territoire, Manufactures de proximité) and their link to the register.

The published files give one feature per commune (its centroid, EPSG:4326), with
the laureates of that commune joined by ';' in ``id_territoire`` and
``lib_territoire``. Each laureate becomes one row of the register (a place typed
``tiers-lieu``, labelled ``fabrique`` / ``manufacture``, at the centroid of its
current commune); where a place of a list sits in the same commune with a name
alike, the laureate is *matched* with it (one place, both labels), else it is a
place of its own.
"""

from __future__ import annotations

import os

import geopandas as gpd
import pandas as pd

from coworking_geo.errors import InputFileError
from coworking_geo.spaces.dedup import normalise_name
from coworking_geo.spaces.privacy import scrub_frame

PROGRAMME_COLUMN = {"fabriques": "fabrique", "manufactures": "manufacture"}
PROGRAMME_LABEL = {"fabriques": "Fabrique de territoire", "manufactures": "Manufacture de proximité"}
REQUIRED = ("id_geo", "id_territoire", "lib_territoire")


def read_laureates(path: str | os.PathLike[str], kind: str) -> pd.DataFrame:
    """One row per laureate: ``programme_id, programme, kind, name, declared_insee, names_paired``,
    ``pii_scrubbed`` (e-mails and phone numbers removed from the name). The published point (a commune
    centroid, empty for 97801) is not used: the register places each laureate at the centroid of its
    current commune."""
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputFileError(path, f"cannot be read as GeoJSON ({exc})") from None
    missing = [c for c in REQUIRED if c not in gdf.columns]
    if missing:
        raise InputFileError(path, f"missing required column(s) {missing}; columns found: {list(gdf.columns)}")
    if gdf.empty:
        raise InputFileError(path, "the file has no features")
    ids = gdf["id_territoire"].astype("string").str.split(";")
    names = gdf["lib_territoire"].astype("string").fillna("").str.split(";")
    same_count = ids.str.len().eq(names.str.len())
    # When names and ids do not pair up, every laureate of the feature gets the whole label.
    names = names.where(same_count, pd.Series([[n] * k for n, k in zip(gdf["lib_territoire"].fillna(""),
                                                                        ids.str.len())], index=gdf.index))
    base = pd.DataFrame({"declared_insee": gdf["id_geo"].astype("string"), "ids": ids, "names": names,
                         "names_paired": same_count})
    out = base.explode(["ids", "names"], ignore_index=True)
    out["programme_id"] = out["ids"].astype("string").str.strip()
    out["name"] = out["names"].astype("string").str.replace(r"\s+", " ", regex=True).str.strip()
    out, scrubbed = scrub_frame(out, ["name"])
    out["name"] = out["name"].astype("string")
    out["pii_scrubbed"] = scrubbed.str.replace("name:", "lib_territoire:", regex=False)
    out["programme"] = PROGRAMME_LABEL[kind]
    out["kind"] = kind
    return out[["programme_id", "programme", "kind", "name", "declared_insee", "names_paired", "pii_scrubbed"]]


def name_similarity(a: pd.Series, b: pd.Series) -> pd.Series:
    """Similarity 0–1 of two name columns: 1 when one normalised name contains the other, else token Jaccard."""
    na, nb = normalise_name(a), normalise_name(b)
    out = []
    for x, y in zip(na, nb):
        if not x or not y:
            out.append(0.0)
        elif (x in y or y in x) and min(len(x), len(y)) >= 4:
            out.append(1.0)
        else:
            tx, ty = set(x.split()), set(y.split())
            out.append(len(tx & ty) / len(tx | ty))
    return pd.Series(out, index=a.index, dtype="float64")


def laureates_frame(laureates: pd.DataFrame, source: str, vintage: str) -> pd.DataFrame:
    """The laureates as a standard frame of :mod:`.readers`: typed ``tiers-lieu``, labelled with their
    programme, no coordinates (the register places them at their commune's centroid)."""
    from coworking_geo.spaces.readers import STANDARD_COLUMNS

    n = len(laureates)
    out = pd.DataFrame({
        "row": pd.Series(range(1, n + 1), dtype="int64"),
        "source": source,
        "source_id": laureates["programme_id"].astype("string").to_numpy(),
        "name": laureates["name"].astype("string").to_numpy(),
        "types": "tiers-lieu",
        "declared_insee": laureates["declared_insee"].astype("string").to_numpy(),
        "vintage": vintage,
        "label": laureates["kind"].map(PROGRAMME_COLUMN).to_numpy(),
        "pii_scrubbed": laureates["pii_scrubbed"].astype("string").to_numpy(),
    })
    for c in STANDARD_COLUMNS:
        if c not in out:
            out[c] = pd.Series(float("nan") if c == "geocode_score" else pd.NA, index=out.index,
                               dtype="float64" if c == "geocode_score" else "string")
    return out[list(STANDARD_COLUMNS)]


def match_laureates(laureates: pd.DataFrame, places: pd.DataFrame, min_similarity: float) -> pd.DataFrame:
    """The documented rule: a laureate is the place of its (current) commune whose name is most alike,
    when the similarity reaches ``min_similarity``; a *Manufacture* not matched so is the *Fabrique* of
    its commune with a name that alike (one place, two labels).

    ``laureates`` and ``places``: located rows (``name, insee_code, label``). Returns, indexed like
    ``laureates``: ``into`` (index label of the row it merges into, or NA), ``similarity`` (best, with
    a place of a list), ``n_places_in_commune``, ``distinct_ids`` (index labels of the places of its
    commune that are not alike, ';'-joined).
    """
    res = pd.DataFrame(index=laureates.index)
    res["into"] = pd.Series(pd.NA, index=laureates.index, dtype="object")
    lau = laureates[["name", "insee_code", "label"]].dropna(subset=["insee_code"]).rename_axis("lau").reset_index()
    pl = places[["name", "insee_code"]].dropna(subset=["insee_code"]).rename(columns={"name": "place_name"}).rename_axis("place").reset_index()
    pairs = lau.merge(pl, on="insee_code", how="inner")
    pairs["similarity"] = name_similarity(pairs["name"], pairs["place_name"]).to_numpy()
    best = pairs.sort_values(["lau", "similarity", "place"], ascending=[True, False, True]).drop_duplicates("lau")
    best = best.set_index("lau")
    res["similarity"] = best["similarity"].reindex(res.index).round(3)
    res["n_places_in_commune"] = pairs.groupby("lau").size().reindex(res.index).fillna(0).astype("int64")
    far = pairs[pairs["similarity"] < min_similarity]
    res["distinct_ids"] = far.groupby("lau")["place"].agg(lambda s: ";".join(map(str, s))).reindex(res.index)
    ok = res["similarity"].ge(min_similarity).fillna(False)
    res.loc[ok, "into"] = best.loc[ok[ok].index, "place"].to_numpy()

    # A Manufacture that is also a Fabrique of the same commune: one place with both labels.
    rest = laureates[~ok & laureates["insee_code"].notna()]
    fab = rest[rest["label"].eq("fabrique")][["name", "insee_code"]].rename(columns={"name": "fab_name"})
    man = rest[rest["label"].eq("manufacture")][["name", "insee_code"]]
    cross = man.rename_axis("man").reset_index().merge(fab.rename_axis("fab").reset_index(), on="insee_code")
    if len(cross):
        cross["similarity"] = name_similarity(cross["name"], cross["fab_name"]).to_numpy()
        cross = cross[cross["similarity"].ge(min_similarity)].sort_values(["man", "similarity"], ascending=[True, False])
        cross = cross.drop_duplicates("man")
        res.loc[cross["man"].to_numpy(), "into"] = cross["fab"].to_numpy()
    return res


def programme_tables(rows: pd.DataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """From the register's rows, the laureates in the territory (``programmes.parquet``) and their links.

    ``programmes``: ``programme_id, programme, name, insee_code, space_id`` (the register place that holds
    the laureate), ``matched_space_id`` (the place of another list it was matched with, else NA); point =
    the place. ``links``: ``programme_id, programme, name, declared_insee, insee_code, status,
    space_id, matched_space_id, match_name, similarity, n_spaces_in_commune, distinct_space_ids``.
    ``status``: 'matched' (one place with a place of a list), 'distinct' (places in the commune, none
    alike), 'no_space_in_commune', 'with_fabrique' (a Manufacture that is also the Fabrique), or
    'commune_not_found' (rejected: code not a commune).
    """
    lab = rows["label"].fillna("").ne("")
    lau = rows[lab & rows["status"].isin(["kept", "merged", "rejected"])].copy()
    by_label = {i: k for k, i in PROGRAMME_COLUMN.items()}
    lau["programme"] = lau["label"].map(lambda x: PROGRAMME_LABEL[by_label[x]])
    into = lau["merged_into"]
    has = into.notna()
    keeper = rows.reindex(into[has].astype("int64").to_numpy())
    keeper_lab = pd.Series(keeper["label"].fillna("").to_numpy(), index=into[has].index)
    space_id = lau["space_id"].where(~has, lau["merged_into_id"]).where(lau["status"].ne("rejected"))
    matched = has & keeper_lab.reindex(lau.index).eq("").fillna(False)
    with_fab = has & ~matched
    sid_of = rows["space_id"]
    distinct = lau["distinct_ids"].fillna("").map(
        lambda s: ";".join(str(sid_of.get(int(i), i)) for i in s.split(";") if i))
    status = pd.Series("no_space_in_commune", index=lau.index, dtype="string")
    status = status.mask(lau["n_places_in_commune"].fillna(0).gt(0), "distinct").mask(matched, "matched")
    status = status.mask(with_fab, "with_fabrique").mask(lau["status"].eq("rejected"), "commune_not_found")
    links = pd.DataFrame({
        "programme_id": lau["source_id"], "programme": lau["programme"], "name": lau["name"],
        "declared_insee": lau["declared_insee"], "insee_code": lau["insee_code"], "status": status,
        "space_id": space_id, "matched_space_id": lau["merged_into_id"].where(matched),
        "match_name": pd.Series(keeper["name"].to_numpy(), index=into[has].index).reindex(lau.index).where(matched),
        "similarity": lau["similarity"], "n_spaces_in_commune": lau["n_places_in_commune"].fillna(0).astype("int64"),
        "distinct_space_ids": distinct}).reset_index(drop=True)
    located = lau["status"].ne("rejected").to_numpy()
    lon = lau["lon"].where(~has, pd.Series(keeper["lon"].to_numpy(), index=into[has].index))
    lat = lau["lat"].where(~has, pd.Series(keeper["lat"].to_numpy(), index=into[has].index))
    prog = links.loc[located, ["programme_id", "programme", "name", "insee_code", "space_id", "matched_space_id"]]
    programmes = gpd.GeoDataFrame(prog.reset_index(drop=True),
                                  geometry=gpd.points_from_xy(lon[located], lat[located]), crs=4326)
    return programmes, links
