"""Carry codes of older geographies to today's communes, and join the indicator tables.

The crosswalk is ``commune_crosswalk.parquet`` (docs/contract.md): one row per
``old_code`` with the current ``insee_code``, the ``relation`` and whether a
count on the old code can be ``summable`` into the new one.
"""

from __future__ import annotations

import pandas as pd

from coworking_geo.log import get_logger

log = get_logger(__name__)


def carry_codes(codes: pd.Series, crosswalk: pd.DataFrame, current_codes: pd.Index | pd.Series) -> pd.DataFrame:
    """Map commune codes of any COG vintage to today's ``insee_code``.

    A code that is already a current commune keeps itself (relation ``current``);
    otherwise the crosswalk gives the commune it was merged into (or the
    commune of an arrondissement). Returns a frame aligned on ``codes`` with
    ``insee_code`` (NA when unknown), ``relation`` and ``summable``.
    """
    current = pd.Index(pd.Series(current_codes, dtype="string").dropna().unique())
    cw = crosswalk[["old_code", "insee_code", "relation", "summable"]].drop_duplicates("old_code")
    cw = cw.astype({"old_code": "string", "insee_code": "string"}).set_index("old_code")
    s = pd.Series(codes, dtype="string").reset_index(drop=True)
    is_current = s.isin(current)
    mapped = cw.reindex(s)
    out = pd.DataFrame({
        "code": s.to_numpy(),
        "insee_code": s.where(is_current, mapped["insee_code"].to_numpy()).astype("string").to_numpy(),
        "relation": pd.Series(mapped["relation"].to_numpy(), dtype="string").where(~is_current, "current").to_numpy(),
        "summable": pd.Series(mapped["summable"].to_numpy(), dtype="boolean").mask(is_current, True).to_numpy(),
    }, index=codes.index)
    # A mapped code must land on a commune of today's list.
    out["insee_code"] = out["insee_code"].where(out["insee_code"].isin(current))
    return out


def join_indicators(communes: pd.DataFrame, *tables: pd.DataFrame) -> pd.DataFrame:
    """One row per current commune (``communes.insee_code``) with the columns of each indicator table.

    Raises ValueError when a table repeats a commune or brings a column twice.
    """
    out = pd.DataFrame({"insee_code": communes["insee_code"].astype("string").to_numpy()})
    seen = {"insee_code"}
    for t in tables:
        if t["insee_code"].duplicated().any():
            raise ValueError(f"indicator table repeats communes: {t.loc[t['insee_code'].duplicated(), 'insee_code'].head().tolist()}")
        clash = (set(t.columns) - {"insee_code"}) & seen
        if clash:
            raise ValueError(f"column(s) {sorted(clash)} come from two indicator tables")
        seen |= set(t.columns)
        extra = set(t["insee_code"]) - set(out["insee_code"])
        if extra:
            log.warning("%d commune code(s) of an indicator table are not in communes.parquet; dropped", len(extra))
        out = out.merge(t.astype({"insee_code": "string"}), on="insee_code", how="left", validate="1:1")
    return out
