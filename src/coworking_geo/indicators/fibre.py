"""FTTH coverage per commune from ARCEP's deployment observatory.

Premises ("locaux") are dwellings plus business premises; ``ftth`` counts the
premises connectable to fibre (FttH "locaux raccordables"); shares are
fractions (1.0 = 100 %). Shares above 1 are kept as published (the INSEE-based
denominator lags behind the operators' counts) and counted.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from coworking_geo.codes import PLM_ARRONDISSEMENTS, normalise_insee
from coworking_geo.errors import InputFileError
from coworking_geo.indicators.join import carry_codes
from coworking_geo.io import parse_decimal, read_csv_text
from coworking_geo.log import get_logger

log = get_logger(__name__)

QUARTER_RE = re.compile(r"^\s*(?:T([1-4])\s*(\d{4})|(\d{4})\s*-?\s*T([1-4]))\s*$", re.IGNORECASE)
EXPORT_TITLE_LINES = 4
PLM_CODES = tuple(PLM_ARRONDISSEMENTS)


def quarter_label(name: str) -> str | None:
    """'T1 2018' or '2018T1' or '2018 T1' → '2018T1'; None for anything else."""
    m = QUARTER_RE.match(str(name))
    if not m:
        return None
    q, y = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    return f"{y}T{q}"


def _codes(series: pd.Series, path: str | os.PathLike[str]) -> pd.Series:
    codes, fix = normalise_insee(series)
    bad = int(codes.isna().sum())
    if bad:
        log.warning("%s: %d row(s) without a usable commune code dropped: %s", path, bad,
                    series[codes.isna()].head(5).tolist())
    if int(fix.eq("zero_padded").sum()):
        log.info("%s: %d commune code(s) re-padded with their leading zero", path, int(fix.eq("zero_padded").sum()))
    return codes


def read_arcep_export(communes_csv: str | os.PathLike[str], ftth_csv: str | os.PathLike[str]) -> tuple[pd.DataFrame, str]:
    """Read the CSV export of the ARCEP workbook (4 title lines, padded numbers, '-' = none).

    Returns (frame, vintage) where the frame has ``code`` (COG of the
    workbook), ``premises`` (logements + établissements) and ``ftth`` (premises
    connectable in the latest quarter of ``ftthCommunes.csv``), and vintage is
    that quarter ('2018T1').
    """
    com, _ = read_csv_text(communes_csv, ["Code commune", "Logements", "Établissements"], skiprows=EXPORT_TITLE_LINES)
    ft, _ = read_csv_text(ftth_csv, ["Code commune", "Champ"], skiprows=EXPORT_TITLE_LINES)
    quarters = {c: q for c in ft.columns if (q := quarter_label(c))}
    if not quarters:
        raise InputFileError(ftth_csv, f"no quarter column ('T1 2018' …) among {list(ft.columns)}")
    last_col = max(quarters, key=lambda c: quarters[c])
    vintage = quarters[last_col]
    ft = ft[ft["Champ"].astype("string").str.strip().str.lower().eq("locaux raccordables")]
    if ft.empty:
        raise InputFileError(ftth_csv, "no row with Champ = 'Locaux Raccordables'")
    ft = pd.DataFrame({"code": _codes(ft["Code commune"], ftth_csv), "ftth": parse_decimal(ft[last_col])}).dropna(subset=["code"])
    if ft["code"].duplicated().any():
        raise InputFileError(ftth_csv, f"commune codes repeated: {ft.loc[ft['code'].duplicated(), 'code'].head().tolist()}")
    premises = parse_decimal(com["Logements"]).fillna(0) + parse_decimal(com["Établissements"]).fillna(0)
    com = pd.DataFrame({"code": _codes(com["Code commune"], communes_csv), "name": com.get("Nom commune"),
                        "premises": premises}).dropna(subset=["code"])
    out = com.merge(ft, on="code", how="outer", indicator=True)
    if (out["_merge"] != "both").any():
        log.warning("ARCEP export: %d commune(s) only in one of the two files", int((out["_merge"] != "both").sum()))
    out["ftth"] = out["ftth"].fillna(0.0)
    return out.drop(columns="_merge"), vintage


def read_arcep_workbook(path: str | os.PathLike[str], sheet: str = "Communes") -> pd.DataFrame:
    """Read an official quarterly workbook ``YYYYtQ-obs-hd-thd-deploiement.xlsx``.

    The header row (around row 5) is found by its 'Code commune' cell; the
    premises column is the one whose name mentions 'locaux' and no quarter;
    every column named like 'T3 2023' holds FttH-connectable premises of that
    quarter. Returns ``code, premises, ftth_{YYYYTQ}…``.
    """
    p = Path(path)
    try:
        raw = pd.read_excel(p, sheet_name=sheet, header=None, dtype=object, nrows=None)
    except ValueError as exc:
        raise InputFileError(p, f"cannot read sheet '{sheet}': {exc}") from None
    header_row = None
    for i in range(min(15, len(raw))):
        cells = raw.iloc[i].astype("string").str.strip().str.lower()
        if cells.eq("code commune").any() or cells.eq("insee_com").any():
            header_row = i
            break
    if header_row is None:
        raise InputFileError(p, f"sheet '{sheet}': no header row with 'Code commune' in the first 15 rows")
    header = [str(c).strip() if pd.notna(c) else "" for c in raw.iloc[header_row]]
    body = raw.iloc[header_row + 1:].reset_index(drop=True)
    body.columns = header
    code_col = next(c for c in header if c.lower() in ("code commune", "insee_com"))
    quarters = {c: q for c in header if (q := quarter_label(c))}
    if not quarters:
        raise InputFileError(p, f"sheet '{sheet}': no quarter column ('T1 2018' …) in the header {header}")
    prem_cols = [c for c in header if "locaux" in c.lower() and c not in quarters]
    body = body[body[code_col].notna()]
    out = pd.DataFrame({"code": _codes(body[code_col].astype("string"), p)})
    out["premises"] = parse_decimal(body[prem_cols[0]].astype("string")) if prem_cols else np.nan
    for col, q in sorted(quarters.items(), key=lambda kv: kv[1]):
        out[f"ftth_{q}"] = parse_decimal(body[col].astype("string"))
    return out.dropna(subset=["code"]).reset_index(drop=True)


def read_arcep_latest_share(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read the share-only latest file (``code_insee, fibre_pct`` in %) → ``code, share`` (fraction)."""
    df, _ = read_csv_text(path, ["code_insee", "fibre_pct"])
    return pd.DataFrame({"code": _codes(df["code_insee"], path), "share": parse_decimal(df["fibre_pct"]) / 100.0}).dropna(subset=["code"])


@dataclass
class FibreResult:
    """The per-commune table and what was found on the way, for the summary."""

    table: pd.DataFrame
    summary: pd.DataFrame
    fixes: dict[str, int] = field(default_factory=dict)


def carry_counts(counts: pd.DataFrame, crosswalk: pd.DataFrame, current: pd.Series,
                 value_cols: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sum counts on old codes (``code``) into today's communes. Returns (summed, unmatched rows)."""
    m = carry_codes(counts["code"], crosswalk, current)
    df = counts.assign(insee_code=m["insee_code"].to_numpy(), relation=m["relation"].to_numpy(),
                       summable=m["summable"].to_numpy())
    unmatched = df[df["insee_code"].isna()]
    not_summable = df["summable"].eq(False) & df["insee_code"].notna()
    if not_summable.any():
        log.warning("%d old code(s) are not summable into their commune; their counts are still added: %s",
                    int(not_summable.sum()), df.loc[not_summable, "code"].head().tolist())
    rel = df.loc[df["insee_code"].notna() & df["relation"].ne("identity"), "relation"].value_counts()
    if len(rel):
        log.info("codes carried to today's communes by relation: %s", rel.to_dict())
    summed = df.dropna(subset=["insee_code"]).groupby("insee_code", as_index=False)[value_cols].sum(min_count=1)
    return summed, unmatched


def build_fibre(communes: pd.DataFrame, crosswalk: pd.DataFrame,
                counts: dict[str, pd.DataFrame], shares: dict[str, pd.DataFrame]) -> FibreResult:
    """Per-commune fibre table (``fibre.parquet``) for the communes of ``communes`` (column ``insee_code``).

    ``counts`` maps a vintage ('2018T1') to ``code, premises, ftth`` on any COG
    (carried and summed through the crosswalk); ``shares`` maps a vintage
    ('latest') to ``code, share``, used as is for today's codes. Change is
    ``ftth_share_change`` = last share − first share (fraction points). The
    whole national source is summarised beside our communes in ``summary``.
    """
    codes = communes["insee_code"].astype("string")
    out = pd.DataFrame({"insee_code": codes.to_numpy()})
    flags = pd.Series("", index=out.index, dtype="string")
    rows = []
    share_order: list[str] = []
    for v, df in counts.items():
        national = pd.concat([codes, crosswalk["insee_code"].astype("string")]).dropna().drop_duplicates()
        summed, unmatched = carry_counts(df, crosswalk, national, ["premises", "ftth"])
        t = out[["insee_code"]].merge(summed, on="insee_code", how="left")
        out[f"premises_{v}"] = t["premises"].to_numpy()
        out[f"ftth_{v}"] = t["ftth"].to_numpy()
        share = out[f"ftth_{v}"] / out[f"premises_{v}"].where(out[f"premises_{v}"] > 0)
        out[f"ftth_share_{v}"] = share
        out[f"ftth_share_over_100_{v}"] = (share > 1.0).astype("boolean").mask(share.isna())
        flags = _add_flag(flags, out[f"premises_{v}"].isna(), f"not_in_source_{v}")
        flags = _add_flag(flags, share > 1.0, f"share_over_100_{v}")
        share_order.append(v)
        in_terr = summed["insee_code"].isin(codes)
        rows.append({
            "vintage": v, "kind": "counts", "communes": len(out),
            "communes_with_value": int(out[f"premises_{v}"].notna().sum()),
            "premises": float(out[f"premises_{v}"].sum()), "ftth": float(out[f"ftth_{v}"].sum()),
            "share": float(out[f"ftth_{v}"].sum() / out[f"premises_{v}"].sum()) if out[f"premises_{v}"].sum() else np.nan,
            "shares_over_100": int((share > 1.0).sum()),
            "source_rows": len(df), "source_premises": float(df["premises"].sum()), "source_ftth": float(df["ftth"].sum()),
            "source_premises_outside_communes": float(summed.loc[~in_terr, "premises"].sum() + unmatched["premises"].sum()),
            "source_ftth_outside_communes": float(summed.loc[~in_terr, "ftth"].sum() + unmatched["ftth"].sum()),
            "source_codes_unmatched": len(unmatched),
            "source_shares_over_100": int((df["ftth"] > df["premises"]).sum()),
        })
        if len(unmatched):
            log.warning("fibre %s: %d source code(s) match no current commune (premises %.0f): %s", v, len(unmatched),
                        unmatched["premises"].sum(), unmatched["code"].head(8).tolist())
    for v, df in shares.items():
        t = out[["insee_code"]].merge(df.rename(columns={"code": "insee_code"}).drop_duplicates("insee_code"),
                                      on="insee_code", how="left")
        out[f"ftth_share_{v}"] = t["share"].to_numpy()
        plm = out["insee_code"].isin(PLM_CODES) & out[f"ftth_share_{v}"].isna()
        flags = _add_flag(flags, plm, f"plm_published_by_arrondissement_{v}")
        flags = _add_flag(flags, out[f"ftth_share_{v}"].isna() & ~plm, f"not_in_source_{v}")
        share_order.append(v)
        rows.append({"vintage": v, "kind": "share_only", "communes": len(out),
                     "communes_with_value": int(out[f"ftth_share_{v}"].notna().sum()),
                     "shares_over_100": int((out[f"ftth_share_{v}"] > 1.0).sum()), "source_rows": len(df),
                     "plm_missing": int(plm.sum())})
    if len(share_order) >= 2:
        first, last = share_order[0], share_order[-1]
        out["ftth_share_change"] = out[f"ftth_share_{last}"] - out[f"ftth_share_{first}"]
    out["fibre_flags"] = flags
    return FibreResult(out, pd.DataFrame(rows))


def _add_flag(flags: pd.Series, mask: pd.Series, flag: str) -> pd.Series:
    mask = pd.Series(mask, index=flags.index).fillna(False).astype(bool)
    return flags.mask(mask, flags.where(flags.eq(""), flags + ";").fillna("") + flag)
