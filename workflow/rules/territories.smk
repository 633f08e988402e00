# territories rules: see docs/contract.md for the files they exchange and
# docs/territories.md for the classification rule and the fixes applied.
# The crosswalk and the classified commune table are national (data/processed/national/), built
# once per run and shared by every territory; each territory's table is a selection of it.


rule territories_crosswalk:
    message:
        "Building the national commune-code crosswalk (COG {params.cog_year}) and checking it on ARCEP 2018 / CGET 2019 codes"
    input:
        sources_yaml=SOURCES_YAML,
        decoupage=raw("etalab_decoupage_administratif"),
        arcep_2018=raw("arcep_ftth_2018t1", "export/communes.csv"),
        cget_2019=raw("cget_tierslieux_2019"),
    output:
        crosswalk=f"{NATIONAL}/commune_crosswalk.parquet",
        resolution=f"results/{RUN}{{nation}}/tables/crosswalk_resolution.csv",
        unresolved=f"results/{RUN}{{nation}}/tables/crosswalk_unresolved.csv",
    params:
        territory=spec,
        cog_year=config["territories"]["cog_year"],
    log:
        f"logs/{RUN}{{nation}}/territories/crosswalk.log",
    benchmark:
        f"benchmarks/out/{RUN}{{nation}}/territories/crosswalk.tsv"
    threads: 1
    resources:
        mem_mb=1500,
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/territories_crosswalk.py"


rule territories_admin:
    message:
        "Départements and régions layers for {params.territory}"
    input:
        sources_yaml=SOURCES_YAML,
        departements=raw("ign_admin_express_communes", "departements_cog2024_from_communes.gpkg"),
        regions=raw("ign_admin_express_communes", "regions_cog2024_from_communes.gpkg"),
    output:
        departements=f"{PROC}/departements.parquet",
        regions=f"{PROC}/regions.parquet",
    params:
        territory=spec,
    log:
        f"{LOGS}/territories/admin.log",
    benchmark:
        f"{BENCH}/territories/admin.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(1000),
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/territories_admin.py"


rule territories_communes_national:
    message:
        "National commune table: polygons, population, density, AAV, programmes and territory_class"
    input:
        sources_yaml=SOURCES_YAML,
        crosswalk=f"{NATIONAL}/commune_crosswalk.parquet",
        communes=raw("ign_admin_express_communes", "communes_cog2024_simplifiees.gpkg"),
        density=raw("insee_grille_densite"),
        aav=raw("insee_appartenance_geo", "aav2020_uu2020_communes_cog2024.csv"),
        aav_labels=raw("insee_appartenance_geo", "libelles_zonages_supracommunaux_cog2023_2024.csv"),
        appartenance=raw("insee_appartenance_geo", "table_appartenance_geo_communes_cog2023.csv"),
        acv=raw("anct_action_coeur_de_ville"),
        pvd=raw("anct_petites_villes_de_demain"),
        va=raw("anct_villages_avenir"),
    output:
        communes=f"{NATIONAL}/communes.parquet",
        issues=f"{NATIONAL}/communes_issues.parquet",
    params:
        territory=spec,
        cog_year=config["territories"]["cog_year"],
        population_year=config["territories"]["population_year"],
        classification=config["territories"]["classification"],
    log:
        f"logs/{RUN}{{nation}}/territories/communes.log",
    benchmark:
        f"benchmarks/out/{RUN}{{nation}}/territories/communes.tsv"
    threads: 1
    resources:
        mem_mb=3000,
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/territories_communes_national.py"


rule territories_communes:
    message:
        "Communes of {params.territory} (from the national table) and their counts by class"
    input:
        sources_yaml=SOURCES_YAML,
        national=national("communes.parquet"),
        issues=national("communes_issues.parquet"),
        regions=f"{PROC}/regions.parquet",
        # ANCT's rural typology has no official download in this layout: compared with offline only
        ruralite=lambda wc: [] if data_mode(wc) in ("demo", "online") else raw_path(False, "anct_typologies_communes", "ruralite.csv"),
    output:
        communes=f"{PROC}/communes.parquet",
        official=f"{RES}/tables/territory_class_vs_official.csv",
        by_class=f"{RES}/tables/communes_by_territory_class.csv",
        by_density=f"{RES}/tables/communes_by_density_class.csv",
        by_region=f"{RES}/tables/communes_by_region.csv",
        unmatched=f"{RES}/tables/territories_unmatched_codes.csv",
    params:
        territory=spec,
    log:
        f"{LOGS}/territories/communes.log",
    benchmark:
        f"{BENCH}/territories/communes.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(3000),
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/territories_communes.py"


rule territories_commune_places:
    message:
        "National commune centroids (metric CRS per zone, EPSG:4326 out) and names, for the commuting distances"
    input:
        communes=raw("ign_admin_express_communes", "communes_cog2024_simplifiees.gpkg"),
    output:
        places=f"{NATIONAL}/commune_places.parquet",
    log:
        f"logs/{RUN}{{nation}}/territories/commune_places.log",
    benchmark:
        f"benchmarks/out/{RUN}{{nation}}/territories/commune_places.tsv"
    threads: 1
    resources:
        mem_mb=1500,
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/territories_commune_places.py"
