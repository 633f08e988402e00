"""INSEE's table d'appartenance géographique des communes, the zipped workbook as INSEE publishes it.

``table-appartenance-geo-communes-YY.zip`` holds one ``.xlsx`` with, each after
5 title rows (the header is row 6), the sheets ``COM`` (one row per commune:
``CODGEO, LIBGEO, DEP, REG, EPCI, NATURE_EPCI, ARR, CV, ZE2020, UU2020, TUU2017,
TDUU2017, AAV2020, TAAV2017, TDAAV2017, CATEAAV2020, BV2022``), ``ARM``
(arrondissements municipaux) and ``Zones_supra_communales`` (``NIVGEO, CODGEO,
LIBGEO, NB_COM``: the names of the EPCI, AAV, UU… zones). The geography year
is read from the title rows ("… au 1er janvier 2024").

It carries every AAV 2020 / UU 2020 field the pipeline reads, so INSEE's
separate AAV and UU composition workbooks are not needed.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pandas as pd

from coworking_geo.errors import InputFileError
from coworking_geo.io import write_csv

TITLE_ROWS = 5
COM_SHEET = "COM"
ZONES_SHEET = "Zones_supra_communales"
COM_REQUIRED = ["CODGEO", "LIBGEO", "DEP", "REG", "EPCI", "NATURE_EPCI", "UU2020", "AAV2020", "TAAV2017",
                "CATEAAV2020"]
AAV_UU_COLUMNS = ["CODGEO", "LIBGEO", "DEP", "REG", "EPCI", "AAV2020", "LIBAAV2020", "TAAV2017", "TDAAV2017",
                  "CATEAAV2020", "UU2020", "LIBUU2020", "TUU2017", "TDUU2017"]


def _workbook(archive: Path) -> bytes:
    """Bytes of the (largest) .xlsx inside the zip, or of the file itself when it is an .xlsx."""
    try:
        with zipfile.ZipFile(archive) as z:
            members = [m for m in z.infolist() if m.filename.lower().endswith((".xlsx", ".xls"))]
            if not members:
                raise InputFileError(archive, f"no .xlsx inside the zip: {z.namelist()[:10]}")
            return z.read(max(members, key=lambda m: m.file_size))
    except zipfile.BadZipFile:
        raise InputFileError(archive, "not a zip archive (truncated download?)") from None


def read_sheet(archive: Path, sheet: str, required: list[str]) -> tuple[pd.DataFrame, int | None]:
    """One sheet (header after the 5 title rows, every cell as text) and the geography year of its title."""
    book = _workbook(archive)
    try:
        title = pd.read_excel(io.BytesIO(book), sheet_name=sheet, header=None, nrows=TITLE_ROWS, dtype=str)
        df = pd.read_excel(io.BytesIO(book), sheet_name=sheet, skiprows=TITLE_ROWS, dtype=str)
    except ValueError as exc:
        raise InputFileError(archive, f"cannot read sheet '{sheet}': {exc}") from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputFileError(archive, f"sheet '{sheet}': missing column(s) {missing} in row {TITLE_ROWS + 1}; "
                                      f"found {list(df.columns)[:20]}")
    years = re.findall(r"\b(20\d\d)\b", " ".join(title.fillna("").to_numpy().ravel().astype(str)))
    return df.dropna(subset=[required[0]]).reset_index(drop=True), (int(years[-1]) if years else None)


def write_appartenance(archive: Path, target: Path) -> None:
    """The ``COM`` sheet as a CSV (same columns)."""
    df, _ = read_sheet(archive, COM_SHEET, COM_REQUIRED)
    write_csv(df, target)


def _zones(archive: Path) -> tuple[pd.DataFrame, int | None]:
    return read_sheet(archive, ZONES_SHEET, ["NIVGEO", "CODGEO", "LIBGEO"])


def write_aav_uu(archive: Path, target: Path) -> None:
    """AAV 2020 / UU 2020 membership per commune, with the AAV and UU names (columns :data:`AAV_UU_COLUMNS`)."""
    com, _ = read_sheet(archive, COM_SHEET, COM_REQUIRED)
    zones, _ = _zones(archive)
    for level, col in (("AAV2020", "LIBAAV2020"), ("UU2020", "LIBUU2020")):
        names = zones[zones["NIVGEO"].eq(level)].drop_duplicates("CODGEO").set_index("CODGEO")["LIBGEO"]
        com[col] = com[level].map(names)
    write_csv(com.reindex(columns=AAV_UU_COLUMNS), target)


def write_zone_labels(archive: Path, target: Path) -> None:
    """Names of the supra-communal zones: ``NIVGEO, CODGEO, LIBGEO, NB_COM, COG`` (COG = geography year)."""
    zones, year = _zones(archive)
    zones = zones.reindex(columns=["NIVGEO", "CODGEO", "LIBGEO", "NB_COM"])
    zones["COG"] = year
    write_csv(zones, target)
