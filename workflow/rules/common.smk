# Helpers shared by the workflow: territory, paths and the source catalogue.

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from coworking_geo.settings import check_cross_fields  # noqa: E402
from coworking_geo.sources.catalogue import load_sources  # noqa: E402
from coworking_geo.territories.territory import parse_territory  # noqa: E402
from coworking_geo.territories.regions import region_departements, territory_regions  # noqa: E402
from coworking_geo.indicators.commuting import SOURCE_COVERAGE  # noqa: E402
from coworking_geo.sources.official.mode import apply_data_mode, resolve_data_mode  # noqa: E402

SOURCES_YAML = "config/sources.yaml"
SOURCES = load_sources(SOURCES_YAML)
TERRITORY = parse_territory(config["territory"])
DATA_MODE = resolve_data_mode(config.get("data_mode", "auto"), TERRITORY.is_demo)
apply_data_mode(config, DATA_MODE)  # online: the census and the national MOBPRO (config `online:`)
PROC = f"data/processed/{TERRITORY.spec}"
RES = f"results/{TERRITORY.spec}"
LOGS = f"logs/{TERRITORY.spec}"
BENCH = f"benchmarks/out/{TERRITORY.spec}"
RAW_ROOT = "data/raw/demo" if TERRITORY.is_demo else "data/raw"


def raw(source_id, name=None):
    """Path of a raw file (the first file of the source when name is None)."""
    src = SOURCES[source_id]
    name = name or src.files[0].name
    return f"{RAW_ROOT}/{source_id}/{name}"


def raw_files(source_id):
    """All raw files of a source, as a list of paths."""
    return [raw(source_id, f.name) for f in SOURCES[source_id].files]


def all_targets():
    """What `snakemake` builds by default: the atlas, the report and every typology table.

    TYPOLOGY_TARGETS and SUMMARY_TARGETS are defined in typology.smk and summary.smk,
    included after this file.
    """
    return [f"{RES}/atlas/index.html", f"{RES}/report.html", f"{RES}/portraits", *TYPOLOGY_TARGETS, *SUMMARY_TARGETS]


# The demo generates, in the official layouts, every source the default
# configuration reads, and stands in for two online-only national sources (the
# France Tiers-Lieux 2026 census and the national MOBPRO "base flux"), so that
# their readers also run offline.
DEMO_SOURCES = [
    "cget_tierslieux_2019",
    "france_tierslieux_2026",
    "anct_fabriques_territoire",
    "anct_manufactures_proximite",
    "ign_admin_express_communes",
    "etalab_decoupage_administratif",
    "insee_grille_densite",
    "insee_appartenance_geo",
    "anct_action_coeur_de_ville",
    "anct_petites_villes_de_demain",
    "anct_villages_avenir",
    "arcep_ftth_2018t1",
    "arcep_ftth_latest",
    "insee_mobpro_national",
    "eurostat_popgrid_1km",
    "insee_filosofi_2019",
]


def space_sources():
    """The spaces sources to read: config's list, plus the 2026 census layout in the demo."""
    entries = list(config["spaces"]["sources"])
    if TERRITORY.is_demo:
        entries.append({"id": "france_tierslieux_2026", "kind": "ftl_census"})
    return entries


def space_source_files():
    """Raw files of the spaces sources (generic_csv files are the user's own paths)."""
    files = []
    for entry in space_sources():
        files += [entry["path"]] if entry["kind"] == "generic_csv" else raw_files(entry["id"])
    return files


def commuting_sources():
    """MOBPRO sources to read; the demo ships a national 'base flux' file."""
    if TERRITORY.is_demo:
        return ["insee_mobpro_national"]
    return list(config["indicators"]["commuting_sources"])


# Région partition (docs/performance.md): access and commuting run once per région of the
# territory ({reg} wildcard, regions/{reg}/ under PROC), gathered into the territory's tables.
# The list is known before any table exists (static COG 2024 table; the demo generator's codes).
REGIONS = territory_regions(TERRITORY, config["demo"]["n_communes"])
if not REGIONS:
    raise ValueError(
        f"territory '{TERRITORY.spec}': no such {'région' if TERRITORY.kind == 'reg' else 'département'} "
        "in the COG 2024 (e.g. reg-11, reg-28, dep-61, dep-2A, dep-974)"
    )
REGION_PART = f"{PROC}/regions/{{reg}}"


def region_commuting_sources(reg):
    """The commuting sources covering at least one département of région ``reg`` (config order)."""
    deps = region_departements(reg, TERRITORY)
    return [s for s in commuting_sources()
            if deps is None or SOURCE_COVERAGE.get(s) is None or set(SOURCE_COVERAGE[s]) & set(deps)]


# Régions with a commuting job: those some commuting source covers (France: 11 and 28 with the
# default sources); the gather gives the other régions' communes "outside coverage" rows itself.
COMMUTING_REGIONS = [r for r in REGIONS if region_commuting_sources(r)]
