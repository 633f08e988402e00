# Helpers shared by the workflow: territory, paths and the source catalogue.

import copy
import functools
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from coworking_geo.settings import check_cross_fields  # noqa: E402
from coworking_geo.sources.catalogue import load_sources  # noqa: E402
from coworking_geo.errors import ConfigError  # noqa: E402
from coworking_geo.territories.territory import TERRITORY_RE, parse_territory  # noqa: E402
from coworking_geo.territories.regions import ALL_REGIONS, region_departements, territory_regions  # noqa: E402
from coworking_geo.indicators.coverage import SOURCE_COVERAGE  # noqa: E402
from coworking_geo.sources.official.mode import apply_data_mode, mirror_dir, resolve_data_mode  # noqa: E402

SOURCES_YAML = "config/sources.yaml"
SOURCES = load_sources(SOURCES_YAML)

# {territory} is a wildcard (README, "Several territories in one run"): `snakemake results/dep-61/report.html results/reg-28/report.html`
# builds both in one DAG; config `territory` only sets the default target. A non-empty `run_name`
# puts a run's tables under results/<run_name>/ (and data/processed/, logs/), so two configurations
# never overwrite each other.
DEFAULT_TERRITORY = parse_territory(config["territory"])
RUN_NAME = str(config.get("run_name") or "")
RUN = f"{RUN_NAME}/" if RUN_NAME else ""
PROC = f"data/processed/{RUN}{{territory}}"
RES = f"results/{RUN}{{territory}}"
LOGS = f"logs/{RUN}{{territory}}"
BENCH = f"benchmarks/out/{RUN}{{territory}}"
# National intermediates, built once per run and shared by every territory: data/processed/national/
# (data/processed/national-demo/ for the synthetic demo, read from data/raw/demo).
NATIONAL = f"data/processed/{RUN}{{nation}}"


wildcard_constraints:
    territory=TERRITORY_RE.pattern.removeprefix("^").removesuffix("$"),
    nation="national|national-demo",
    reg=r"all|\d{2}",


@functools.lru_cache(maxsize=None)
def territory_of(spec):
    """The parsed territory of a wildcard value (cached)."""
    return parse_territory(spec)


def is_demo(wc):
    """True when the job's territory (or national scope) is the synthetic demo."""
    return wc.get("territory") == "demo" or wc.get("nation") == "national-demo"


def nation_of(wc):
    """The national scope a territory reads its national intermediates from."""
    return "national-demo" if is_demo(wc) else "national"


def national(name):
    """Input function: the national intermediate ``name`` of the job's territory."""
    return lambda wc: f"data/processed/{RUN}{nation_of(wc)}/{name}"


def spec(wc):
    """Param function: the territory spec of the job (e.g. 'dep-61'; 'france' for a national job)."""
    return wc.get("territory") or ("demo" if is_demo(wc) else "france")


# Data mode (config `data_mode`) of the real territories; the demo is always 'demo'. A mode that
# cannot be had (mirror without COWORKING_GEO_MIRROR) fails at load when the default target is real,
# else when a real territory's job is asked for.
try:
    REAL_MODE, REAL_MODE_ERROR = resolve_data_mode(config.get("data_mode", "auto"), False), None
except ConfigError as _exc:
    if not DEFAULT_TERRITORY.is_demo:
        raise
    REAL_MODE, REAL_MODE_ERROR = None, _exc
REAL_CONFIG = copy.deepcopy(config)
apply_data_mode(REAL_CONFIG, REAL_MODE or "mirror")  # online: the census and the national MOBPRO (config `online:`)


def data_mode(wc):
    """'demo', 'mirror' or 'online' for the job's territory."""
    if is_demo(wc):
        return "demo"
    if REAL_MODE_ERROR is not None:
        raise REAL_MODE_ERROR
    return REAL_MODE


def raw_path(demo, source_id, name=None):
    """Path of a raw file (the first file of the source when name is None), demo or real."""
    src = SOURCES[source_id]
    name = name or src.files[0].name
    return f"{'data/raw/demo' if demo else 'data/raw'}/{source_id}/{name}"


def raw_paths(demo, source_id):
    """All raw files of a source, demo or real, as a list of paths."""
    return [raw_path(demo, source_id, f.name) for f in SOURCES[source_id].files]


def raw(source_id, name=None):
    """Input function: a raw file of the job's territory (data/raw/demo for the demo)."""
    return lambda wc: raw_path(is_demo(wc), source_id, name)


def raw_of(source_ids):
    """Input function: all raw files of the sources ``source_ids(wc)`` (a function) or of a fixed list."""
    return lambda wc: [f for s in (source_ids(wc) if callable(source_ids) else source_ids)
                       for f in raw_paths(is_demo(wc), s)]


# Memory (MB) of a job as a share of its France figure: a département needs far less than France.
SIZE_SHARE = {"dep": 0.4, "demo": 0.4, "reg": 0.6, "metropole": 1.0, "france": 1.0}


def mem_mb(france_mb):
    """Resources function: ``france_mb`` scaled to the job's territory (france > reg > dep), at least 500 MB."""
    return lambda wc: max(500, int(france_mb * SIZE_SHARE[territory_of(spec(wc)).kind]))


def default_targets(patterns):
    """``patterns`` for config `territory` (the economic models only when its spaces sources have a census)."""
    wc = Wc(territory=DEFAULT_TERRITORY.spec)
    census = census_entry(wc) is not None
    return [p.format(territory=wc.territory) for p in patterns if census or "space_economic_models" not in p]


def all_targets():
    """What `snakemake` builds by default: the atlas, the report and every typology table of config `territory`.

    TYPOLOGY_TARGETS and SUMMARY_TARGETS are defined in typology.smk and summary.smk,
    included after this file.
    """
    return default_targets([f"{RES}/atlas/index.html", f"{RES}/report.html", f"{RES}/portraits", *TYPOLOGY_TARGETS,
                            *SUMMARY_TARGETS])


class Wc(dict):
    """A plain dict standing for a job's wildcards (``.get`` and attribute access)."""

    __getattr__ = dict.get


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


def space_sources(wc):
    """The spaces sources to read: config's list (the online one in online mode), plus the 2026 census in the demo."""
    if is_demo(wc):
        return list(config["spaces"]["sources"]) + [{"id": "france_tierslieux_2026", "kind": "ftl_census"}]
    data_mode(wc)
    return list(REAL_CONFIG["spaces"]["sources"])


def space_source_files(wc):
    """Raw files of the spaces sources (generic_csv files are the user's own paths)."""
    files = []
    for entry in space_sources(wc):
        files += [entry["path"]] if entry["kind"] == "generic_csv" else raw_paths(is_demo(wc), entry["id"])
    return files


def census_entry(wc):
    """The France Tiers-Lieux census entry of the spaces sources, or None."""
    return next((e for e in space_sources(wc) if e["kind"] == "ftl_census"), None)


def commuting_sources(wc):
    """MOBPRO sources to read; the demo ships a national 'base flux' file."""
    if is_demo(wc):
        return ["insee_mobpro_national"]
    data_mode(wc)
    return list(REAL_CONFIG["indicators"]["commuting_sources"])


# Région partition (docs/performance.md): with `indicators.partition: region` access and commuting run
# once per région of the territory ({reg} wildcard, regions/{reg}/ under PROC), gathered into the
# territory's tables; with `none` (the default on one machine: start-up paid once) one part, `all`.
# The list is known before any table exists (static COG 2024 table; the demo generator's codes).
PARTITION = config["indicators"].get("partition", "auto")
if PARTITION == "auto":
    PARTITION = "region" if (workflow.non_local_exec or workflow.remote_exec) else "none"
REGION_PART = f"{PROC}/regions/{{reg}}"


def regions_of(wc):
    """The région codes of the job's territory (ValueError for a code not in the COG 2024)."""
    t = territory_of(wc.territory)
    regs = territory_regions(t, config["demo"]["n_communes"])
    if not regs:
        raise ValueError(
            f"territory '{t.spec}': no such {'région' if t.kind == 'reg' else 'département'} "
            "in the COG 2024 (e.g. reg-11, reg-28, dep-61, dep-2A, dep-974)"
        )
    return regs


def parts_of(wc):
    """The partition keys of the job's territory: its régions, or ['all'] when not partitioned."""
    return regions_of(wc) if PARTITION == "region" else [ALL_REGIONS]


def region_commuting_sources(wc):
    """The commuting sources covering at least one département of part ``wc.reg`` (config order)."""
    t = territory_of(wc.territory)
    regs = regions_of(wc) if wc.reg == ALL_REGIONS else [wc.reg]
    deps = [region_departements(r, t) for r in regs]
    deps = None if any(d is None for d in deps) else {x for d in deps for x in d}
    return [s for s in commuting_sources(wc)
            if deps is None or SOURCE_COVERAGE.get(s) is None or set(SOURCE_COVERAGE[s]) & deps]


def commuting_parts(wc):
    """Parts with a commuting job: those some commuting source covers (France by région: 11 and 28 with the
    default sources); the gather gives the other communes "outside coverage" rows itself."""
    return [r for r in parts_of(wc) if region_commuting_sources(Wc(territory=wc.territory, reg=r))]


# -- per-stage helpers (the lint wants functions here, not beside the rules) --


def retrieve_in_process(source_id, settings, logfile):
    """Retrieve one source into data/raw/ with this thread's package messages in ``logfile`` (traceback on failure)."""
    from coworking_geo.sources.retrieve import RetrieveSettings, retrieve_source

    handler = logging.FileHandler(logfile, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    thread = threading.get_ident()
    handler.addFilter(lambda record: record.thread == thread)
    pkg = logging.getLogger("coworking_geo")
    pkg.setLevel(logging.INFO)
    pkg.addHandler(handler)
    try:
        retrieve_source(SOURCES[source_id], "data/raw", mirror_dir(), RetrieveSettings.from_config(settings))
    except CoworkingGeoError as exc:
        pkg.error("%s", exc)
        raise
    except Exception:
        pkg.exception("the rule failed on an unexpected error (traceback below)")
        raise
    finally:
        pkg.removeHandler(handler)
        handler.close()


def fit_cache_dir(wc):
    """Where the clustering rules keep the fit and resampling of every k between runs (typology/fit_cache.py)."""
    return f"data/processed/{RUN}{wc.territory}/cache/clustering"


def space_entries(wc):
    """Configured spaces sources with their raw files and vintage (plain dicts, passed as params)."""
    return [
        dict(
            e,
            files=[e["path"]] if e["kind"] == "generic_csv" else raw_paths(is_demo(wc), e["id"]),
            vintage=e.get("vintage", "") if e["kind"] == "generic_csv" else SOURCES[e["id"]].vintage,
        )
        for e in space_sources(wc)
    ]


def programme_entries(wc):
    """The ANCT programme lists of laureates, with their raw file and vintage."""
    return [
        {"id": e["id"], "kind": e["kind"], "file": raw_path(is_demo(wc), e["id"]), "vintage": SOURCES[e["id"]].vintage}
        for e in config["spaces"]["programmes"]
    ]


def typology_source_ids(wc):
    """The sources behind the typology tables of the job's territory."""
    return (
        TERRITORY_SOURCE_IDS
        + [e["id"] for e in space_sources(wc) if e["kind"] != "generic_csv"]
        + list(config["indicators"]["fibre_sources"])
        + commuting_sources(wc)
        + ["insee_filosofi_2019"]
    )


def census_files(wc):
    """Raw files of the territory's France Tiers-Lieux census ([] without one)."""
    census = census_entry(wc)
    return raw_paths(is_demo(wc), census["id"]) if census is not None else []


def census_files_required(wc):
    """Raw files of the territory's census; ValueError naming the setting when it has none."""
    if census_entry(wc) is None:
        raise ValueError(f"{wc.territory}: the economic models need a France Tiers-Lieux census in spaces.sources "
                         "(e.g. {id: france_tierslieux_2023, kind: ftl_census}, or data_mode: online)")
    return census_files(wc)


def census_id(wc):
    """The census source id of the territory ('' without one)."""
    census = census_entry(wc)
    return census["id"] if census is not None else ""


def census_year(wc):
    """The census year (from its id, e.g. 2023; 0 without a census)."""
    cid = census_id(wc)
    return int("".join(ch for ch in cid if ch.isdigit())[-4:] or 2023) if cid else 0


def atlas_source_ids(wc):
    """The sources behind each block of the atlas and the report, for the job's territory."""
    return {
        "spaces": [e["id"] for e in space_sources(wc) if e["kind"] != "generic_csv"]
        + [e["id"] for e in config["spaces"]["programmes"]],
        "territories": ["ign_admin_express_communes", "insee_grille_densite", "insee_appartenance_geo"],
        "fibre": list(config["indicators"]["fibre_sources"]),
        "commuting": commuting_sources(wc),
        "population": [config["indicators"]["population_grid"]],
    }
