"""Shared fixtures: the real-data mirror (skipped with a reason when absent) and the repo root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _mirror() -> Path | None:
    env = os.environ.get("COWORKING_GEO_MIRROR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data")
    for c in candidates:
        if (c / "SOURCES.md").exists():
            return c.resolve()
    return None


MIRROR = _mirror()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The real-data mirror folder; the test is skipped when it is absent."""
    if MIRROR is None:
        pytest.skip("real-data mirror not found: set COWORKING_GEO_MIRROR or place ../shared/data beside the repo")
    return MIRROR


@pytest.fixture(scope="session")
def france_build(mirror: Path):
    """The France communes table built from the mirror with the default rules: (communes, issues, stats)."""
    import pandas as pd

    from coworking_geo.territories import communes as cm
    from coworking_geo.territories import crosswalk as cw

    xw = cw.build_crosswalk(cw.read_decoupage(mirror / "etalab_decoupage_administratif" / "communes_4.1.0_cog2024.json.gz"))
    com, issues, stats = cm.read_communes(mirror / "ign_admin_express_communes" / "communes_cog2024_simplifiees.gpkg")
    cur = com["insee_code"]
    ag = mirror / "insee_appartenance_geo"
    dens, i1 = cm.read_density(mirror / "insee_grille_densite" / "grille_densite_7_niveaux_2024.csv", cur, xw)
    aav, i2 = cm.read_aav(ag / "aav2020_uu2020_communes_cog2024.csv", ag / "libelles_zonages_supracommunaux_cog2023_2024.csv",
                          cur, xw, 2024)
    nature = cm.read_epci_nature(ag / "table_appartenance_geo_communes_cog2023.csv")
    programmes, more = {}, []
    for name, codes in {
        "acv": cm.programme_codes_csv(mirror / "anct_action_coeur_de_ville" / "acv_communes_2024.csv"),
        "pvd": cm.programme_codes_geojson(mirror / "anct_petites_villes_de_demain" / "pvd_geom.geojson"),
        "village_avenir": cm.programme_codes_geojson(mirror / "anct_villages_avenir" / "va_geom.geojson"),
    }.items():
        programmes[name], found = cm.programme_membership(codes, cur, xw, "va" if name == "village_avenir" else name)
        more.append(found)
    import yaml

    rules = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))["territories"]["classification"]
    out = cm.assemble_communes(com, dens, aav, nature, programmes, 2021, rules)
    return out, pd.concat([issues, i1, i2, *more], ignore_index=True), stats
