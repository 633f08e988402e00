"""Readers of the official publications, as published, into the layout of the mirror.

Online, the retrieve step downloads each file from its official URL (a direct
link, or the newest matching resource of a data.gouv.fr dataset: see
:func:`coworking_geo.sources.official.datagouv.resolve_url`) and, when the file of the
mirror is laid out differently, calls the converter named by ``convert`` in
``config/sources.yaml``. A converter reads the downloaded publication and
writes, atomically, the file the mirror holds under the same name (same columns),
so the rest of the pipeline does not know which way the data came.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

Converter = Callable[[Path, Path], None]

#: converter name -> "module:function" of this package; a module is imported when its converter runs (the
#: Snakefile imports the retrieve step, which must not pay for geopandas, rasterio or openpyxl)
CONVERTERS: dict[str, str] = {
    "admin_express_communes": "admin_express:write_communes",
    "admin_express_departements": "admin_express:write_departements",
    "admin_express_regions": "admin_express:write_regions",
    "appartenance_communes": "insee:write_appartenance",
    "appartenance_aav_uu": "insee:write_aav_uu",
    "appartenance_zones": "insee:write_zone_labels",
    "anct_laureates": "anct:write_laureates",
    "anct_programme_territories": "anct:write_programme_territories",
    "anct_programme_communes": "anct:write_programme_communes",
    "arcep_sheet_communes": "arcep:write_sheet_communes",
    "arcep_sheet_ftth_communes": "arcep:write_sheet_ftth_communes",
    "arcep_latest_share": "arcep:write_latest_share",
    "gisco_grid_france": "eurostat:write_france_grid",
}

STAGING = ".official"


def convert(name: str, downloaded: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Run the converter ``name`` on the downloaded publication; writes ``target``."""
    if name not in CONVERTERS:
        raise KeyError(f"unknown converter '{name}'; known: {sorted(CONVERTERS)}")
    module, function = CONVERTERS[name].split(":")
    converter: Converter = getattr(importlib.import_module(f"{__name__}.{module}"), function)
    converter(Path(downloaded), Path(target))


def staging_path(dest: str | os.PathLike[str], url: str) -> Path:
    """Where a publication downloaded from ``url`` waits, in ``dest/.official/``, so that
    several files converted from one archive download it once."""
    name = url.rstrip("/").rsplit("/", 1)[-1].split("?")[0] or "download"
    return Path(dest) / STAGING / f"{hashlib.sha256(url.encode()).hexdigest()[:12]}-{name}"


def clear_staging(dest: str | os.PathLike[str]) -> None:
    """Remove the downloaded publications once every file of the source is written."""
    shutil.rmtree(Path(dest) / STAGING, ignore_errors=True)
