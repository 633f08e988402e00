"""Per-région tables of the partition (see :mod:`coworking_geo.territories.regions`): select a région's
communes, check that every commune falls in one partition, gather the parts back into one table."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from coworking_geo.territories.regions import ALL_REGIONS


def in_region(reg_code: pd.Series, reg: str) -> pd.Series:
    """Boolean mask of the communes whose ``reg_code`` is ``reg`` (every commune for :data:`ALL_REGIONS`)."""
    if reg == ALL_REGIONS:
        return pd.Series(True, index=reg_code.index)
    return reg_code.astype("string").eq(reg).fillna(False).astype(bool)


def check_partition(communes: pd.DataFrame, regions: Iterable[str]) -> None:
    """Raise ``ValueError`` naming the communes that fall in no partition (``reg_code`` missing or not listed)."""
    regs = set(regions)
    lost = ~communes["reg_code"].astype("string").isin(regs).fillna(False).astype(bool)
    if lost.any():
        sample = communes.loc[lost, ["insee_code", "reg_code"]].head(5).to_dict("records")
        raise ValueError(f"{int(lost.sum())} commune(s) fall in no région partition {sorted(regs)}: e.g. {sample}")


def gather(parts: list[pd.DataFrame], communes: pd.DataFrame, key: str = "insee_code") -> pd.DataFrame:
    """Concatenate per-région tables into one row per commune of ``communes``, in ``communes``' order.

    Raises ``ValueError`` when a commune is missing from every part or appears twice."""
    non_empty = [p for p in parts if len(p)]
    out = pd.concat(non_empty, ignore_index=True) if non_empty else parts[0].iloc[0:0] if parts else pd.DataFrame({key: []})
    dup = out[key].duplicated()
    if dup.any():
        raise ValueError(f"{int(dup.sum())} commune(s) in more than one région partition: {out.loc[dup, key].head(5).tolist()}")
    codes = communes[key].astype("string")
    missing = ~codes.isin(out[key].astype("string"))
    if missing.any():
        raise ValueError(f"{int(missing.sum())} commune(s) missing from the région partitions: {codes[missing].head(5).tolist()}")
    return out.set_index(out[key].astype("string")).loc[pd.Index(codes)].reset_index(drop=True)
