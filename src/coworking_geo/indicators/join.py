"""Carry codes of older geographies to today's communes, and join the indicator tables.

The crosswalk is ``commune_crosswalk.parquet`` (docs/contract.md): one row per
``old_code`` with the current ``insee_code``, the ``relation`` and whether a
count on the old code can be ``summable`` into the new one.
"""

from __future__ import annotations

import pandas as pd

from coworking_geo.codes import positions
from coworking_geo.territories.crosswalk import resolve_codes
from coworking_geo.log import get_logger

log = get_logger(__name__)


def carry_codes(codes: pd.Series, crosswalk: pd.DataFrame, current_codes: pd.Index | pd.Series) -> pd.DataFrame:
    """Map commune codes of any COG vintage to today's ``insee_code`` among ``current_codes``.

    Uses :func:`coworking_geo.territories.crosswalk.resolve_codes` (a current commune maps to
    itself with relation ``identity``; a former code to the commune it was merged
    into, an arrondissement to its commune); a code landing outside
    ``current_codes`` gets NA. Returns a frame aligned on ``codes`` with
    ``code, insee_code, relation, summable``.
    """
    current = pd.Index(pd.Series(current_codes, dtype="string").dropna().unique())
    res = resolve_codes(pd.Series(codes, dtype="string"), crosswalk)
    insee = res["insee_code"].astype("string")
    return pd.DataFrame({"code": res["code"], "insee_code": insee.where(positions(current, insee) >= 0),
                         "relation": res["relation"], "summable": res["summable"]}, index=codes.index)


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
