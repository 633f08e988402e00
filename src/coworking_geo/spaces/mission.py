"""The 2018 Coworking mission's published shares, recomputed from our register."""

from __future__ import annotations

import pandas as pd

# Published with the CGET list (SOURCES.md): 76 % of typed places coworking-dominant;
# 674 of the 1,463 mission places outside the 22 metropolises.
PUBLISHED = {
    "coworking_share_of_typed": (0.76, "76 % of typed places are coworking-dominant"),
    "outside_metropolises_share": (674 / 1463, "674 of 1,463 mission places outside the 22 metropolises"),
}


def _truthy(s: pd.Series) -> pd.Series:
    if s.dtype == bool:
        return s
    t = s.astype("string").str.strip().str.lower()
    return t.notna() & ~t.isin(["", "0", "false", "non", "no", "none", "nan", "<na>"])


def mission_shares(spaces: pd.DataFrame, communes: pd.DataFrame, source: str = "cget_tierslieux_2019",
                   territory: str = "france") -> pd.DataFrame:
    """Our figure next to the published one, from the kept CGET rows of ``spaces.parquet``.

    A place is *typed* when ``types`` is not empty (the 1,463 mission places; the
    49 places added in 2019 are untyped). ``metropolis`` comes from ``communes``
    (current commune of the place). Columns: ``indicator, description,
    published, ours, numerator, denominator, difference_pts, scope`` — the
    published figures are national; for a smaller territory ``ours`` covers only
    its places and the comparison is indicative.
    """
    cg = spaces[spaces["source"].eq(source)]
    typed = cg[cg["types"].fillna("").ne("")]
    cow = typed["types"].str.split(";").map(lambda t: "coworking" in t).astype(bool)
    metro = communes.set_index("insee_code")["metropolis"]
    in_metro = _truthy(typed["insee_code"].map(metro).astype("string").fillna(""))
    rows = [
        ("coworking_share_of_typed", int(cow.sum()), len(typed)),
        ("outside_metropolises_share", int((~in_metro).sum()), len(typed)),
    ]
    out = []
    for key, num, den in rows:
        pub, desc = PUBLISHED[key]
        ours = num / den if den else float("nan")
        out.append({"indicator": key, "description": desc, "published": round(pub, 4), "ours": round(ours, 6),
                    "numerator": num, "denominator": den, "difference_pts": round(100 * (ours - pub), 2),
                    "scope": "national" if territory in ("france", "demo") else f"{territory} only (published: national)"})
    return pd.DataFrame(out)
