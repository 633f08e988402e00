"""ARCEP's quarterly workbook "Observatoire HD/THD – déploiements" (``YYYYtQ-obs-hd-thd-deploiement.xlsx``).

Every sheet starts with title rows; the header row holds ``Code commune``
(row 5 in the published workbooks). The commune sheet (``Communes``) gives the
premises (``Logements`` and ``Établissements`` in the 2018 workbooks, the
operators' best estimate of ``locaux`` in recent ones) and the FttH sheet
(``FttH communes`` in 2018: one row per commune and ``Champ``, one column per
quarter) the FttH-connectable premises. Recent workbooks carry one column per
quarter in ``Communes`` itself, read by :func:`coworking_geo.indicators.fibre.read_arcep_workbook`.

The converters write the mirror's files: each 2018 sheet as a CSV export (its
title rows then the table, as the mirror's ``export/`` folder holds it), and,
from the latest workbook, ``code_insee, fibre_pct`` (100 × connectable /
premises, *not* capped at 100) with the counts it comes from, replacing the
third-party share file.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from coworking_geo.errors import InputFileError
from coworking_geo.indicators.fibre import EXPORT_TITLE_LINES, read_arcep_workbook
from coworking_geo.io import atomic_path, write_csv

HEADER_SEARCH_ROWS = 15


def _norm(name: str) -> str:
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in text if ch.isalnum())


def find_sheet(path: Path, want: str) -> str:
    """The sheet of the workbook whose name is ``want`` once accents, case and blanks are dropped
    ('ftthcommunes' finds 'FttH Communes' or 'FttH par communes')."""
    try:
        names = [str(n) for n in pd.ExcelFile(path).sheet_names]
    except (ValueError, OSError) as exc:
        raise InputFileError(path, f"cannot be read as an Excel workbook ({exc})") from None
    target = _norm(want)
    exact = [n for n in names if _norm(n) == target]
    loose = [n for n in names if _norm(n).replace("par", "") == target]
    if not (exact or loose):
        raise InputFileError(path, f"no sheet like '{want}' among {names}")
    return (exact or loose)[0]


def sheet_as_export(path: Path, sheet: str, target: Path) -> None:
    """Write ``sheet`` as the CSV export the readers know: 4 title lines, then the header and rows."""
    raw = pd.read_excel(path, sheet_name=sheet, header=None, dtype=object)
    cells = raw.astype("string").apply(lambda c: c.str.strip().str.lower())
    hits = [i for i in range(min(HEADER_SEARCH_ROWS, len(raw))) if cells.iloc[i].eq("code commune").any()]
    if not hits:
        raise InputFileError(path, f"sheet '{sheet}': no 'Code commune' header in the first {HEADER_SEARCH_ROWS} rows")
    h = hits[0]
    title = raw.iloc[:h].reindex(range(EXPORT_TITLE_LINES)).iloc[:EXPORT_TITLE_LINES]
    body = raw.iloc[h:].dropna(how="all")
    out = pd.concat([title, body], ignore_index=True)
    out = out.apply(lambda c: c.map(lambda v: "" if pd.isna(v) else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))))
    with atomic_path(target) as tmp:
        out.to_csv(tmp, index=False, header=False, encoding="utf-8")


def write_sheet_communes(path: Path, target: Path) -> None:
    """The ``Communes`` sheet as ``export/communes.csv``."""
    sheet_as_export(path, find_sheet(path, "Communes"), target)


def write_sheet_ftth_communes(path: Path, target: Path) -> None:
    """The FttH-per-commune sheet as ``export/ftthCommunes.csv``."""
    sheet_as_export(path, find_sheet(path, "FttH communes"), target)


def write_latest_share(path: Path, target: Path) -> None:
    """``code_insee, fibre_pct, locaux, ftth, trimestre`` from the latest quarter of the workbook."""
    wb = read_arcep_workbook(path, find_sheet(path, "Communes"))
    quarters = sorted(c for c in wb.columns if c.startswith("ftth_"))
    if wb["premises"].isna().all():
        raise InputFileError(path, "no premises ('locaux') column in the Communes sheet")
    last = quarters[-1]
    premises = wb["premises"].where(wb["premises"] > 0)
    out = pd.DataFrame({"code_insee": wb["code"], "fibre_pct": (100 * wb[last] / premises).round(1),
                        "locaux": wb["premises"], "ftth": wb[last], "trimestre": last.removeprefix("ftth_")})
    out["fibre_pct"] = out["fibre_pct"].replace([np.inf, -np.inf], np.nan)
    write_csv(out, target)
