"""Commune-code crosswalk: any code from an earlier COG → the current commune.

Built from the ``communes.json`` of @etalab/decoupage-administratif (COG of the
configured year): ``anciensCodes`` of current communes (communes nouvelles),
``chefLieu`` of delegated and associated communes and ``commune`` of the
municipal arrondissements of Paris, Lyon and Marseille. Every current commune
also gets an identity row, so that resolving a code is always one join.

Relations: ``identity``, ``merged``, ``arrondissement``, ``delegated``,
``associated`` (all ``summable``: every count on the old code goes to one
current commune) and ``split`` (a former commune whose territory now lies in
several communes: ``summable`` is False and ``insee_code`` is the commune that
holds its chef-lieu when known, else the lowest code).
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from pathlib import Path
from typing import Any

import pandas as pd

from coworking_geo.codes import normalise_insee
from coworking_geo.errors import InputFileError
from coworking_geo.io import read_nonempty_bytes
from coworking_geo.log import get_logger

log = get_logger(__name__)

CROSSWALK_COLUMNS = ["old_code", "insee_code", "relation", "summable", "source"]
_TYPE_RELATION = {
    "commune-deleguee": "delegated",
    "commune-associee": "associated",
    "arrondissement-municipal": "arrondissement",
}
# Precedence when one old code is reached through several routes.
_PRECEDENCE = {"identity": 0, "arrondissement": 1, "delegated": 2, "associated": 3, "merged": 4}


def read_decoupage(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read ``communes.json`` (plain or gzipped) of decoupage-administratif into a flat table.

    Columns: code, nom, type, zone, departement, region, parent (chefLieu or
    commune), anciensCodes (list), is_current (a commune of the 101
    départements, i.e. with ``rangChefLieu``/``siren``). Raises
    :class:`InputFileError` on an empty, truncated or non-JSON file.
    """
    p = Path(path)
    raw = read_nonempty_bytes(p)
    try:
        text = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        data: Any = json.loads(text)
    except (EOFError, OSError, zlib.error) as exc:
        raise InputFileError(p, f"the gzip stream is truncated or corrupt ({exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(p, f"not valid JSON, probably truncated ({exc})") from None
    if not isinstance(data, list) or not data or not all(isinstance(x, dict) and "code" in x for x in data[:10]):
        raise InputFileError(p, "expected a non-empty JSON list of commune objects with a 'code' key")
    df = pd.DataFrame.from_records(data)
    for col in ("chefLieu", "commune", "anciensCodes", "rangChefLieu", "siren", "zone", "type"):
        if col not in df.columns:
            df[col] = pd.NA
    out = pd.DataFrame({
        "code": df["code"].astype("string"),
        "nom": df["nom"].astype("string"),
        "type": df["type"].astype("string"),
        "zone": df["zone"].astype("string"),
        "departement": df["departement"].astype("string"),
        "region": df["region"].astype("string"),
        "parent": df["chefLieu"].astype("string").fillna(df["commune"].astype("string")),
        "anciensCodes": df["anciensCodes"],
        "is_current": df["type"].eq("commune-actuelle") & (df["siren"].notna() | df["rangChefLieu"].notna()),
    })
    return out


def build_crosswalk(decoupage: pd.DataFrame, source: str = "decoupage-administratif") -> pd.DataFrame:
    """Crosswalk old_code → insee_code (unique on ``old_code``) with relation, summable and source."""
    cur = decoupage[decoupage["is_current"]]
    current = set(cur["code"])
    identity = pd.DataFrame({"old_code": cur["code"], "insee_code": cur["code"], "relation": "identity"})
    sub = decoupage[decoupage["type"].isin(list(_TYPE_RELATION)) & decoupage["parent"].notna()]
    children = pd.DataFrame({
        "old_code": sub["code"], "insee_code": sub["parent"], "relation": sub["type"].map(_TYPE_RELATION),
    })
    anc = cur[["code", "anciensCodes"]].explode("anciensCodes").dropna(subset=["anciensCodes"])
    merged = pd.DataFrame({"old_code": anc["anciensCodes"].astype("string"), "insee_code": anc["code"],
                           "relation": "merged"})
    allrows = pd.concat([identity, children, merged], ignore_index=True)
    allrows = allrows[allrows["insee_code"].isin(current)]
    allrows["rank"] = allrows["relation"].map(_PRECEDENCE)
    # An old code reaching several current communes (not through identity) was split.
    targets = allrows.groupby("old_code")["insee_code"].nunique()
    split_codes = set(targets[targets > 1].index) - current
    allrows = allrows.sort_values(["old_code", "rank", "insee_code"])
    out = allrows.drop_duplicates("old_code", keep="first").copy()
    out.loc[out["old_code"].isin(split_codes), "relation"] = "split"
    out["summable"] = ~out["relation"].eq("split")
    out["source"] = source
    out = out[CROSSWALK_COLUMNS].sort_values("old_code").reset_index(drop=True)
    out["relation"] = out["relation"].astype("string")
    out["summable"] = out["summable"].astype(bool)
    log.info("crosswalk: %d codes → %d current communes (%s)", len(out), len(current),
             out["relation"].value_counts().to_dict())
    if split_codes:
        log.info("crosswalk: %d former communes split over several current ones: %s",
                 len(split_codes), sorted(split_codes))
    return out


def non_commune_codes(decoupage: pd.DataFrame) -> pd.Series:
    """Codes known to decoupage-administratif that are not communes of the 101 départements (COM)."""
    return decoupage.loc[decoupage["type"].eq("commune-actuelle") & ~decoupage["is_current"], "code"]


def resolve_codes(codes: pd.Series, crosswalk: pd.DataFrame, *,
                  non_communes: pd.Series | None = None) -> pd.DataFrame:
    """Map commune codes of any COG since the crosswalk's sources to current communes.

    Codes are cleaned first with :func:`coworking_geo.codes.normalise_insee`
    (a lost leading zero is restored and reported in ``fix``). Returns a frame
    aligned on ``codes.index`` with columns ``code`` (as given), ``fix``,
    ``insee_code`` (NA when unresolved), ``relation``, ``summable`` and
    ``reason`` (why a code is unresolved, else NA).
    """
    raw = codes.astype("string")
    clean, fix = normalise_insee(raw.fillna(""))
    lut = crosswalk.drop_duplicates("old_code").set_index("old_code")
    insee = clean.map(lut["insee_code"]).astype("string")
    relation = clean.map(lut["relation"]).astype("string")
    summable = clean.map(lut["summable"]).astype("boolean")
    reason = pd.Series(pd.NA, index=codes.index, dtype="string")
    unresolved = insee.isna()
    empty = raw.isna() | raw.str.strip().eq("")
    reason = reason.mask(unresolved & empty, "empty code")
    reason = reason.mask(unresolved & ~empty & clean.isna(), "not a valid commune code: " + raw.fillna(""))
    if non_communes is not None:
        com = clean.isin(set(non_communes))
        reason = reason.mask(unresolved & com, "overseas collectivity (COM), not a commune of the 101 départements")
    reason = reason.mask(unresolved & reason.isna(), "unknown code: not a current commune nor a former code")
    return pd.DataFrame({"code": raw, "fix": fix, "insee_code": insee, "relation": relation,
                         "summable": summable, "reason": reason}, index=codes.index)


def resolution_summary(resolved: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per source: rows, resolved, share; and the unresolved codes with reasons (code, source, reason, rows)."""
    rows, bad = [], []
    for name, res in resolved.items():
        ok = res["insee_code"].notna()
        rows.append({"source": name, "rows": len(res), "resolved": int(ok.sum()),
                     "share": round(float(ok.mean()) if len(res) else 1.0, 5),
                     "zero_padded": int(res["fix"].eq("zero_padded").sum()),
                     "through_former_code": int((ok & res["relation"].ne("identity")).sum())})
        u = res[~ok].groupby(["code", "reason"], dropna=False).size().reset_index(name="rows")
        u.insert(1, "source", name)
        bad.append(u)
    unresolved = pd.concat(bad, ignore_index=True) if bad else pd.DataFrame(columns=["code", "source", "reason", "rows"])
    return pd.DataFrame(rows), unresolved[["code", "source", "reason", "rows"]]


def arcep_2018_codes(path: str | os.PathLike[str]) -> pd.Series:
    """Commune codes (COG 2018) of ARCEP's 2018 T1 ``export/communes.csv`` (4 title lines)."""
    from coworking_geo.io import read_csv_text

    df, _ = read_csv_text(path, required=["Code commune"], skiprows=4)
    return df["Code commune"]


def cget_2019_codes(path: str | os.PathLike[str]) -> tuple[pd.Series, pd.Series]:
    """``INSEECOM`` (COG 2018/2019) of the CGET 2019 list, and ``INSEEMETRO`` as a fallback.

    ``INSEECOM`` is '0' in some rows; ``INSEEMETRO`` then still holds the
    commune's code (it gives the whole commune, not the arrondissement).
    """
    from coworking_geo.io import read_csv_text

    df, _ = read_csv_text(path, required=["INSEECOM"])
    fallback = df["INSEEMETRO"] if "INSEEMETRO" in df.columns else pd.Series(pd.NA, index=df.index, dtype="string")
    return df["INSEECOM"], fallback


def resolve_with_fallback(codes: pd.Series, fallback: pd.Series, crosswalk: pd.DataFrame, *,
                          fallback_name: str, non_communes: pd.Series | None = None) -> pd.DataFrame:
    """:func:`resolve_codes` on ``codes``; rows left unresolved are resolved on ``fallback``.

    Rows resolved through the fallback get ``fix = 'fallback_<fallback_name>'``.
    """
    res = resolve_codes(codes, crosswalk, non_communes=non_communes)
    todo = res["insee_code"].isna() & fallback.notna()
    if todo.any():
        alt = resolve_codes(fallback[todo], crosswalk, non_communes=non_communes)
        ok = alt["insee_code"].notna()
        idx = alt.index[ok]
        for col in ("insee_code", "relation", "summable"):
            res.loc[idx, col] = alt.loc[idx, col]
        res.loc[idx, "reason"] = pd.NA
        res.loc[idx, "fix"] = f"fallback_{fallback_name}"
        log.info("%d codes resolved through the fallback column %s", int(ok.sum()), fallback_name)
    return res
