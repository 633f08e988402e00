# spaces rules: see docs/contract.md for the files they exchange.


rule spaces_register:
    message:
        "Building the register of places for {params.territory}: read, scrub, repair, locate, de-duplicate"
    input:
        sources=space_source_files,
        programmes=lambda wc: [e["file"] for e in programme_entries(wc)],
        polygons=raw("ign_admin_express_communes", "communes_cog2024_simplifiees.gpkg"),
        communes=f"{PROC}/communes.parquet",
        crosswalk=national("commune_crosswalk.parquet"),
        sources_yaml=SOURCES_YAML,
    output:
        spaces=f"{PROC}/spaces.parquet",
        context=f"{PROC}/spaces_context.parquet",
        programmes=f"{PROC}/programmes.parquet",
        quality=f"{RES}/tables/spaces_quality.csv",
        rejected=f"{RES}/tables/spaces_rejected.csv",
        fixes=f"{RES}/tables/spaces_fixes.csv",
        links=f"{RES}/tables/programme_links.csv",
        places_csv=f"{RES}/tables/places.csv",
        places_gpkg=f"{RES}/tables/places.gpkg",
        changes=f"{RES}/tables/places_change.csv",
    params:
        territory=spec,
        sources=space_entries,
        programmes=programme_entries,
        thresholds={
            "duplicate_distance_m": config["spaces"]["duplicate_distance_m"],
            "duplicate_same_commune_m": config["spaces"]["duplicate_same_commune_m"],
            "border_tolerance_m": config["spaces"]["border_tolerance_m"],
            "offshore_tolerance_m": config["spaces"]["offshore_tolerance_m"],
            "well_geocoded_precision": config["spaces"]["well_geocoded_precision"],
            "programme_name_similarity": config["spaces"]["programme_name_similarity"],
        },
    log:
        f"{LOGS}/spaces/spaces_register.log",
    benchmark:
        f"{BENCH}/spaces/spaces_register.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(2000),
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/spaces_register.py"


rule spaces_mission_shares:
    message:
        "Recomputing the 2018 mission's published shares for {params.territory}"
    input:
        spaces=f"{PROC}/spaces.parquet",
        communes=f"{PROC}/communes.parquet",
        sources_yaml=SOURCES_YAML,
    output:
        f"{RES}/tables/mission_shares.csv",
    params:
        territory=spec,
    log:
        f"{LOGS}/spaces/spaces_mission_shares.log",
    benchmark:
        f"{BENCH}/spaces/spaces_mission_shares.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(1000),
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/spaces_mission_shares.py"
