"""The diagnosis in two tables: offer, access, fibre and commuting by territory class and by région.

Inputs are the processed tables of docs/contract.md. Populations are inhabitants
(``communes.population``), shares are fractions 0–1, fibre shares are weighted by
commune population, and access shares by the population grid's population.
"""

from __future__ import annotations

import pandas as pd

from coworking_geo.territories.classify import TERRITORY_CLASSES


def diagnosis_by(communes: pd.DataFrame, spaces: pd.DataFrame, indicators: pd.DataFrame, key: str,
                 fibre_col: str = "ftth_share_latest", radius_km: float = 10) -> pd.DataFrame:
    """One row per value of ``key`` (a column of ``communes``) plus a ``total`` row.

    Columns: ``communes, population, spaces, spaces_per_100k, communes_with_space,
    population_share_within_<radius_km>km`` (of the grid population of those communes;
    ``pop_within_<radius_km>km`` must be a column of ``indicators``),
    ``fibre_share`` (population-weighted ``fibre_col``), ``long_commuters`` and
    ``communes_with_flows`` (commuting is NA outside the flows' coverage, so the sum
    covers those communes only, and is NA for a group with no covered commune).
    """
    within_col = f"pop_within_{radius_km:g}km"
    share_col = f"population_share_within_{radius_km:g}km"
    c = pd.DataFrame(communes.drop(columns="geometry", errors="ignore"))[["insee_code", key, "population"]]
    ind_cols = ["insee_code", fibre_col, within_col, "access_population", "long_commuters", "flows_covered"]
    c = c.merge(indicators[ind_cols], on="insee_code", how="left", validate="one_to_one")
    per_commune = spaces.groupby("insee_code").size().rename("spaces")
    c = c.merge(per_commune, left_on="insee_code", right_index=True, how="left")
    c["spaces"] = c["spaces"].fillna(0).astype("int64")
    c["fibre_weight"] = c["population"].where(c[fibre_col].notna(), 0)
    c["fibre_pop"] = c[fibre_col].fillna(0) * c["fibre_weight"]
    c["grid_pop"] = c["access_population"].fillna(0)
    c["within"] = c[within_col].fillna(0)
    c["covered"] = c["flows_covered"].fillna(False).astype(bool)

    def _agg(g: pd.DataFrame) -> pd.Series:
        return pd.Series({
            "communes": len(g), "population": int(g["population"].sum()), "spaces": int(g["spaces"].sum()),
            "communes_with_space": int(g["spaces"].gt(0).sum()),
            "grid_pop": g["grid_pop"].sum(), "within": g["within"].sum(),
            "fibre_pop": g["fibre_pop"].sum(), "fibre_weight": g["fibre_weight"].sum(),
            "long_commuters": g.loc[g["covered"], "long_commuters"].sum(), "communes_with_flows": int(g["covered"].sum()),
        })

    out = c.groupby(key, dropna=False).apply(_agg)
    out.loc["total"] = _agg(c)
    out["spaces_per_100k"] = (1e5 * out["spaces"] / out["population"].where(out["population"] > 0)).round(2)
    out[share_col] = (out["within"] / out["grid_pop"].where(out["grid_pop"] > 0)).round(4)
    out["fibre_share"] = (out["fibre_pop"] / out["fibre_weight"].where(out["fibre_weight"] > 0)).round(4)
    out["long_commuters"] = out["long_commuters"].round(0).where(out["communes_with_flows"] > 0)
    out = out.drop(columns=["grid_pop", "within", "fibre_pop", "fibre_weight"])
    if key == "territory_class":
        order = [k for k in TERRITORY_CLASSES if k in out.index] + [k for k in out.index if k not in TERRITORY_CLASSES]
        out = out.loc[order]
    out = out.reset_index().rename(columns={"index": key})
    cols = [key, "communes", "population", "spaces", "spaces_per_100k", "communes_with_space",
            share_col, "fibre_share", "long_commuters", "communes_with_flows"]
    return out[cols].astype({"communes": "int64", "population": "int64", "spaces": "int64",
                             "communes_with_space": "int64", "communes_with_flows": "int64"})
