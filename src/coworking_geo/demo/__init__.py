"""The embedded synthetic demo: a fictional territory written in the official layouts of every source.

``write_demo_sources(out_root, seed, n_communes)`` writes ``out_root/{source_id}/{file}`` for each source
in :data:`DEMO_FILES`, with the same layout as the real files (columns and their order, separators,
encodings, title lines, layer names, CRS), so that the same readers run on demo and real data. Everything
is synthetic: invented names, codes in the real format, populations, spaces, fibre and flows. The output
is a pure function of ``seed`` and ``n_communes`` (no timestamps: same seed, byte-identical files).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np

from coworking_geo.demo import (
    admin_files,
    fibre_files,
    income_files,
    mobpro_files,
    popgrid_files,
    spaces_files,
)
from coworking_geo.demo.model import DemoTerritory, build_territory

log = logging.getLogger(__name__)

DEMO_FILES: dict[str, list[str]] = {
    "cget_tierslieux_2019": ["CGET_TiersLieux_2019.csv"],
    "france_tierslieux_2026": ["bdftl-2026-01-fiche-identite.csv"],
    "anct_fabriques_territoire": ["fabt_geom.geojson"],
    "anct_manufactures_proximite": ["manuprox_geom.geojson"],
    "ign_admin_express_communes": ["communes_cog2024_simplifiees.gpkg", "departements_cog2024_from_communes.gpkg",
                                   "regions_cog2024_from_communes.gpkg"],
    "etalab_decoupage_administratif": ["communes_4.1.0_cog2024.json.gz"],
    "insee_grille_densite": ["grille_densite_7_niveaux_2024.csv"],
    "insee_appartenance_geo": ["table_appartenance_geo_communes_cog2023.csv", "aav2020_uu2020_communes_cog2024.csv",
                               "libelles_zonages_supracommunaux_cog2023_2024.csv"],
    "anct_action_coeur_de_ville": ["acv_communes_2024.csv"],
    "anct_petites_villes_de_demain": ["pvd_geom.geojson"],
    "anct_villages_avenir": ["va_geom.geojson"],
    "arcep_ftth_2018t1": ["export/communes.csv", "export/ftthCommunes.csv"],
    "arcep_ftth_latest": ["arcep_ftth_pct_communes_latest.csv"],
    "insee_mobpro_national": ["base-flux-mobilite-domicile-lieu-travail-2022_csv.zip"],
    "eurostat_popgrid_1km": ["eurostat_geostat_popgrid_1km_FR_2021_epsg3035.tif"],
    "insee_filosofi_2019": ["cc_filosofi_2019_COM.CSV", "meta_cc_filosofi_2019_COM.CSV"],
}


def _rng(seed: int, stream: int) -> np.random.Generator:
    """An independent random stream per file, so that changing one writer leaves the others unchanged."""
    return np.random.default_rng([int(seed), stream])


def write_demo_sources(out_root: str | os.PathLike[str], seed: int, n_communes: int = 300,
                       n_spaces: int | None = None, n_flows: int | None = None) -> dict[str, list[Path]]:
    """Write every demo source file under ``out_root/{source_id}/`` and return the paths by source id.

    ``n_communes`` (50–1,500) communes in three départements of one région, in EPSG:4326 around
    lon 3.5°, lat 46.4°; takes about a second for 300 communes. Up to 40,000 communes spread over
    about 380 communes per département and up to 13 régions (a France-sized stress case).
    ``n_spaces``: rows of the CGET 2019 list plus the 2026 census, split 5:2 (default: 0.7 per
    commune). ``n_flows``: about that many commuting pairs (default: the dense gravity model, about
    ten per commune). Leaving both unset gives byte-identical files to earlier versions.
    """
    t0 = time.perf_counter()
    root = Path(out_root)
    terr: DemoTerritory = build_territory(int(seed), int(n_communes))
    admin_files.write_ign(terr, root / "ign_admin_express_communes")
    admin_files.write_etalab(terr, root / "etalab_decoupage_administratif" / "communes_4.1.0_cog2024.json.gz")
    admin_files.write_grille(terr, root / "insee_grille_densite" / "grille_densite_7_niveaux_2024.csv",
                             _rng(seed, 1))
    admin_files.write_demo_appartenance(terr, root / "insee_appartenance_geo")
    admin_files.write_programmes(terr, root, _rng(seed, 2))
    n_cget = None if n_spaces is None else int(round(n_spaces * 5 / 7))
    n_census = None if n_spaces is None or n_cget is None else int(n_spaces) - n_cget
    cget, truth = spaces_files.build_spaces(terr, _rng(seed, 3), n_cget)
    spaces_files.write_cget(cget, root / "cget_tierslieux_2019" / "CGET_TiersLieux_2019.csv")
    census = spaces_files.build_census(terr, cget, truth, _rng(seed, 4), n_census)
    spaces_files.write_census(census, root / "france_tierslieux_2026" / "bdftl-2026-01-fiche-identite.csv")
    spaces_files.write_demo_laureates(terr, cget, root, _rng(seed, 5))
    fib = fibre_files.fibre_table(terr, _rng(seed, 6))
    fibre_files.write_arcep_2018(terr, fib, root / "arcep_ftth_2018t1")
    fibre_files.write_arcep_latest(terr, fib, root / "arcep_ftth_latest" / "arcep_ftth_pct_communes_latest.csv")
    flows = mobpro_files.write_mobpro(terr, _rng(seed, 7), root / "insee_mobpro_national" /
                                      "base-flux-mobilite-domicile-lieu-travail-2022_csv.zip", n_flows)
    grid = popgrid_files.write_popgrid(terr, _rng(seed, 8), root / "eurostat_popgrid_1km" /
                                       "eurostat_geostat_popgrid_1km_FR_2021_epsg3035.tif")
    income_files.write_filosofi(terr, root / "insee_filosofi_2019", _rng(seed, 9))
    c = terr.communes
    log.info("demo territory (seed %s): %d communes, %d inhabitants, metropolis %s (%d communes), "
             "%d CGET rows, %d census rows, %d commuting pairs, grid total %d; written in %.2f s",
             seed, len(c), int(c["pop2021"].sum()), terr.central["name"], int((c["epci_nature"] == "ME").sum()),
             len(cget), len(census), len(flows), int(grid.sum()), time.perf_counter() - t0)
    return {sid: [root / sid / name for name in names] for sid, names in DEMO_FILES.items()}


__all__ = ["DEMO_FILES", "write_demo_sources", "build_territory", "DemoTerritory"]
