# Summary: the diagnosis by territory class and by région, for the report.

SUMMARY_TARGETS = [f"{RES}/tables/diagnosis_by_territory_class.csv", f"{RES}/tables/diagnosis_by_region.csv"]


rule summary_tables:
    message:
        "Diagnosis of {params.territory} by territory class and by région"
    input:
        sources_yaml=SOURCES_YAML,
        communes=f"{PROC}/communes.parquet",
        regions=f"{PROC}/regions.parquet",
        spaces=f"{PROC}/spaces.parquet",
        indicators=f"{PROC}/indicators.parquet",
    output:
        by_class=f"{RES}/tables/diagnosis_by_territory_class.csv",
        by_region=f"{RES}/tables/diagnosis_by_region.csv",
    params:
        territory=spec,
        radius_km=config["indicators"]["summary_radius_km"],
    log:
        f"{LOGS}/summary/summary_tables.log",
    benchmark:
        f"{BENCH}/summary/summary_tables.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(1500),
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/summary_tables.py"
