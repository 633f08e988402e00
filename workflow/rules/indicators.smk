# indicators rules: see docs/contract.md for the files they exchange and
# docs/indicators.md for the methods, thresholds and fixes.

IND = config["indicators"]


rule indicators_fibre:
    message:
        "Fibre (ARCEP FttH) per commune of {params.territory}: vintages {params.sources}"
    input:
        sources_yaml=SOURCES_YAML,
        communes=f"{PROC}/communes.parquet",
        crosswalk=f"{PROC}/commune_crosswalk.parquet",
        raw=[f for s in IND["fibre_sources"] for f in raw_files(s)],
    output:
        fibre=f"{PROC}/fibre.parquet",
        summary=f"{RES}/tables/fibre_summary.csv",
    params:
        territory=TERRITORY.spec,
        sources=IND["fibre_sources"],
        files={s: raw_files(s) for s in IND["fibre_sources"]},
    log:
        f"{LOGS}/indicators/fibre.log",
    benchmark:
        f"{BENCH}/indicators/fibre.tsv"
    resources:
        mem_mb=1500,
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/indicators_fibre.py"


rule indicators_commuting:
    message:
        "Commuting (INSEE MOBPRO) per commune of {params.territory} from {params.sources}; long commute > {params.long_km} km"
    input:
        sources_yaml=SOURCES_YAML,
        communes=f"{PROC}/communes.parquet",
        crosswalk=f"{PROC}/commune_crosswalk.parquet",
        national_communes=raw("ign_admin_express_communes", "communes_cog2024_simplifiees.gpkg"),
        raw=[f for s in commuting_sources() for f in raw_files(s)],
    output:
        commuting=f"{PROC}/commuting.parquet",
        summary=f"{RES}/tables/commuting_summary.csv",
    params:
        territory=TERRITORY.spec,
        sources=commuting_sources(),
        files={s: raw_files(s) for s in commuting_sources()},
        long_km=IND["long_commute_km"],
    log:
        f"{LOGS}/indicators/commuting.log",
    benchmark:
        f"{BENCH}/indicators/commuting.tsv"
    resources:
        mem_mb=3000,
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/indicators_commuting.py"


rule indicators_access:
    message:
        "Access to spaces from the 1 km population grid for {params.territory}: radii {params.radii_km} km, 2SFCA catchment {params.catchment_km} km"
    input:
        sources_yaml=SOURCES_YAML,
        communes=f"{PROC}/communes.parquet",
        spaces=f"{PROC}/spaces_context.parquet",
        grid=raw(IND["population_grid"]),
    output:
        access=f"{PROC}/access.parquet",
        distance=f"{RES}/access_distance_km.tif",
        by_class=f"{RES}/tables/access_by_class.csv",
    params:
        territory=TERRITORY.spec,
        grid_source=IND["population_grid"],
        radii_km=IND["access_radii_km"],
        catchment_km=IND["catchment_km"],
        clip=TERRITORY.kind in ("dep", "reg"),
    log:
        f"{LOGS}/indicators/access.log",
    benchmark:
        f"{BENCH}/indicators/access.tsv"
    resources:
        mem_mb=3000,
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/indicators_access.py"


rule indicators_join:
    message:
        "Joining fibre, commuting and access into one row per commune of {params.territory}"
    input:
        sources_yaml=SOURCES_YAML,
        communes=f"{PROC}/communes.parquet",
        fibre=f"{PROC}/fibre.parquet",
        commuting=f"{PROC}/commuting.parquet",
        access=f"{PROC}/access.parquet",
    output:
        indicators=f"{PROC}/indicators.parquet",
    params:
        territory=TERRITORY.spec,
        sources=sorted(set(IND["fibre_sources"]) | set(commuting_sources()) | {IND["population_grid"]}),
    log:
        f"{LOGS}/indicators/join.log",
    benchmark:
        f"{BENCH}/indicators/join.tsv"
    resources:
        mem_mb=1000,
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/indicators_join.py"
