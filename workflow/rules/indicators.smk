# indicators rules: see docs/contract.md for the files they exchange and
# docs/indicators.md for the methods, thresholds and fixes.

IND = config["indicators"]
TIME_MATRIX = (IND.get("travel_time") or {}).get("matrix")  # optional road travel times (CSV)


rule indicators_fibre:
    message:
        "Fibre (ARCEP FttH) per commune of {params.territory}: vintages {params.sources}"
    input:
        sources_yaml=SOURCES_YAML,
        communes=f"{PROC}/communes.parquet",
        crosswalk=national("commune_crosswalk.parquet"),
        raw=raw_of(IND["fibre_sources"]),
    output:
        fibre=f"{PROC}/fibre.parquet",
        summary=f"{RES}/tables/fibre_summary.csv",
    params:
        territory=spec,
        sources=IND["fibre_sources"],
        files=lambda wc: {s: raw_paths(is_demo(wc), s) for s in IND["fibre_sources"]},
    log:
        f"{LOGS}/indicators/fibre.log",
    benchmark:
        f"{BENCH}/indicators/fibre.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(1500),
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/indicators_fibre.py"


rule indicators_commuting_region:
    message:
        "Commuting (INSEE MOBPRO) of the residents of région {wildcards.reg} ({params.territory}) from {params.sources}"
    input:
        sources_yaml=SOURCES_YAML,
        communes=f"{PROC}/communes.parquet",
        crosswalk=national("commune_crosswalk.parquet"),
        places=national("commune_places.parquet"),
        raw=raw_of(region_commuting_sources),
    output:
        commuting=f"{REGION_PART}/commuting.parquet",
        summary=f"{REGION_PART}/commuting_summary.parquet",
    params:
        territory=spec,
        sources=region_commuting_sources,
        files=lambda wc: {s: raw_paths(is_demo(wc), s) for s in region_commuting_sources(wc)},
        long_km=IND["long_commute_km"],
    log:
        f"{LOGS}/indicators/regions/{{reg}}/commuting.log",
    benchmark:
        f"{BENCH}/indicators/regions/{{reg}}/commuting.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(3000),
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/indicators_commuting_region.py"


rule indicators_commuting:
    message:
        "Commuting per commune of {params.territory}: gathering {params.n_regions} partition(s) (the other régions: no source covers them)"
    input:
        sources_yaml=SOURCES_YAML,
        communes=f"{PROC}/communes.parquet",
        parts=lambda wc: expand(f"{REGION_PART}/commuting.parquet", territory=wc.territory, reg=commuting_parts(wc)),
        summaries=lambda wc: expand(f"{REGION_PART}/commuting_summary.parquet", territory=wc.territory,
                                    reg=commuting_parts(wc)),
    output:
        commuting=f"{PROC}/commuting.parquet",
        summary=f"{RES}/tables/commuting_summary.csv",
    params:
        territory=spec,
        sources=commuting_sources,
        regions=regions_of,
        n_regions=lambda wc: len(commuting_parts(wc)),
    log:
        f"{LOGS}/indicators/commuting.log",
    benchmark:
        f"{BENCH}/indicators/commuting.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(1000),
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/indicators_commuting.py"


rule indicators_access_region:
    message:
        "Access to spaces of part {wildcards.reg} ({params.territory}) from the 1 km population grid: radii {params.radii_km} km, 2SFCA up to {params.catchment_km} km (great-circle)"
    input:
        sources_yaml=SOURCES_YAML,
        communes=f"{PROC}/communes.parquet",
        spaces=f"{PROC}/spaces_context.parquet",
        grid=raw(IND["population_grid"]),
    output:
        access=f"{REGION_PART}/access.parquet",
    params:
        territory=spec,
        grid_source=IND["population_grid"],
        radii_km=IND["access_radii_km"],
        catchment_km=IND["catchment_km"],
        access_decay=IND.get("access_decay"),
        supply_weight=IND.get("access_supply_weight"),
        corsica_own_zone=IND.get("corsica_own_zone", True),
        clip=lambda wc: territory_of(wc.territory).kind in ("dep", "reg"),
    log:
        f"{LOGS}/indicators/regions/{{reg}}/access.log",
    benchmark:
        f"{BENCH}/indicators/regions/{{reg}}/access.tsv"
    threads: 2  # cKDTree queries (workers follow it) and the rasterisation
    resources:
        mem_mb=mem_mb(3000),
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/indicators_access_region.py"


rule indicators_access:
    message:
        "Access to spaces for {params.territory}: gathering {params.n_regions} partition(s), distance raster and table by class"
    input:
        sources_yaml=SOURCES_YAML,
        communes=f"{PROC}/communes.parquet",
        spaces=f"{PROC}/spaces_context.parquet",
        grid=raw(IND["population_grid"]),
        parts=lambda wc: expand(f"{REGION_PART}/access.parquet", territory=wc.territory, reg=parts_of(wc)),
        time_matrix=[TIME_MATRIX] if TIME_MATRIX else [],
    output:
        access=f"{PROC}/access.parquet",
        distance=f"{RES}/access_distance_km.tif",
        by_class=f"{RES}/tables/access_by_class.csv",
    params:
        territory=spec,
        grid_source=IND["population_grid"],
        radii_km=IND["access_radii_km"],
        catchment_km=IND["catchment_km"],
        access_decay=IND.get("access_decay"),
        supply_weight=IND.get("access_supply_weight"),
        corsica_own_zone=IND.get("corsica_own_zone", True),
        clip=lambda wc: territory_of(wc.territory).kind in ("dep", "reg"),
        travel_time=IND.get("travel_time") or {},
        n_regions=lambda wc: len(parts_of(wc)),
    log:
        f"{LOGS}/indicators/access.log",
    benchmark:
        f"{BENCH}/indicators/access.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(1500),
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
        territory=spec,
        sources=lambda wc: sorted(set(IND["fibre_sources"]) | set(commuting_sources(wc)) | {IND["population_grid"]}),
    log:
        f"{LOGS}/indicators/join.log",
    benchmark:
        f"{BENCH}/indicators/join.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(1000),
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/indicators_join.py"
