# typology rules: models of spaces, profiles of territories, siting of new places.
# See docs/contract.md for the files they exchange and docs/typology.md for the
# methods, thresholds and naming rules. Each stage is its own rule, so changing a
# clustering parameter re-runs only that clustering rule.

TYPO = config["typology"]
SITING = config["siting"]
TERRITORY_SOURCE_IDS = ["ign_admin_express_communes", "insee_grille_densite", "insee_appartenance_geo"]


# every output of the typology stage for a territory (economic models: only with a census)
TYPOLOGY_TARGETS = [
    f"{PROC}/space_models.parquet",
    f"{PROC}/territory_profiles.parquet",
    f"{RES}/tables/priority_territories.csv",
    f"{RES}/tables/proposed_sites.csv",
    f"{PROC}/space_economic_models.parquet",
]


rule typology_all:
    message:
        "Typology stage for {params.territory}: space models, territory profiles, priority territories and sites"
    input:
        default_targets(TYPOLOGY_TARGETS),
    params:
        territory=DEFAULT_TERRITORY.spec,


rule typology_space_models:
    message:
        "Clustering the spaces of {params.territory} into models ({params.method}, k {params.k_min}-{params.k_max})"
    input:
        sources_yaml=SOURCES_YAML,
        spaces=f"{PROC}/spaces.parquet",
        communes=f"{PROC}/communes.parquet",
        indicators=f"{PROC}/indicators.parquet",
        context=f"{PROC}/spaces_context.parquet",
        census=census_files,
    output:
        models=f"{PROC}/space_models.parquet",
        scores=f"{RES}/tables/space_model_scores.csv",
        profiles=f"{RES}/tables/space_model_profiles.csv",
        stability=f"{RES}/tables/space_model_stability.csv",
        fit=f"{RES}/tables/model_fit_by_territory_class.csv",
        checks=f"{RES}/tables/space_model_checks.csv",
    params:
        territory=spec,
        source_ids=typology_source_ids,
        method=TYPO["method"],
        k_min=TYPO["k_min"],
        k_max=TYPO["k_max"],
        seed=TYPO["seed"],
        bootstrap=TYPO["bootstrap"],
        k=TYPO.get("space_k"),
        census_id=census_id,
        census_year=census_year,
        stability_threshold=TYPO.get("stability_threshold", 0.8),
        min_places=TYPO.get("min_places", 10),
        max_class_ari=TYPO.get("max_class_ari", 0.3),
        around_km=TYPO["around_km"],
        min_feature_coverage=TYPO["min_feature_coverage"],
        silhouette_sample=TYPO["silhouette_sample"],
        bootstrap_max_points=TYPO["bootstrap_max_points"],
        hdbscan_min_cluster_size=TYPO["hdbscan_min_cluster_size"],
        cache_dir=fit_cache_dir,
    log:
        f"{LOGS}/typology/space_models.log",
    benchmark:
        f"{BENCH}/typology/space_models.tsv"
    threads: 1  # one OpenMP/BLAS thread: k-means spin-waits when two jobs share 2 cores (issue 19)
    resources:
        mem_mb=mem_mb(2000),
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/typology_space_models.py"


rule typology_territory_profiles:
    message:
        "Profiles of the {params.unit}s of {params.territory} ({params.method}, k={params.k} (None: from stability))"
    input:
        sources_yaml=SOURCES_YAML,
        spaces=f"{PROC}/spaces_context.parquet",
        communes=f"{PROC}/communes.parquet",
        indicators=f"{PROC}/indicators.parquet",
        crosswalk=national("commune_crosswalk.parquet"),
        income=raw("insee_filosofi_2019", "cc_filosofi_2019_COM.CSV"),
    output:
        profiles=f"{PROC}/territory_profiles.parquet",
        scores=f"{RES}/tables/territory_profile_scores.csv",
        summary=f"{RES}/tables/territory_profiles_summary.csv",
    params:
        territory=spec,
        source_ids=typology_source_ids,
        unit=TYPO["territory_unit"],
        method=TYPO["territory_method"],
        k=TYPO["territory_k"],
        stability_threshold=TYPO.get("stability_threshold", 0.8),
        k_min=TYPO["k_min"],
        k_max=TYPO["k_max"],
        seed=TYPO["seed"],
        bootstrap=TYPO["bootstrap"],
        min_feature_coverage=TYPO["min_feature_coverage"],
        silhouette_sample=TYPO["silhouette_sample"],
        bootstrap_max_points=TYPO["bootstrap_max_points"],
        spatial=TYPO["territory_spatial"],
        fibre_vintage=TYPO["fibre_vintage"],
        cache_dir=fit_cache_dir,
    log:
        f"{LOGS}/typology/territory_profiles.log",
    benchmark:
        f"{BENCH}/typology/territory_profiles.tsv"
    threads: 1  # one OpenMP/BLAS thread: k-means spin-waits when two jobs share 2 cores (issue 19)
    resources:
        mem_mb=mem_mb(3000),
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/typology_territory_profiles.py"


rule typology_siting:
    message:
        "Under-served territories and proposed sites for {params.territory} from the 1 km grid "
        "(sites: {params.n_new_sites} or the fewest reaching {params.target_share} of the uncovered demand, "
        "coverage {params.coverage_km} km, objective {params.objective})"
    input:
        sources_yaml=SOURCES_YAML,
        spaces=f"{PROC}/spaces_context.parquet",
        communes=f"{PROC}/communes.parquet",
        indicators=f"{PROC}/indicators.parquet",
        grid=raw(config["indicators"]["population_grid"]),
    output:
        priority=f"{RES}/tables/priority_territories.csv",
        sites=f"{RES}/tables/proposed_sites.csv",
        summary=f"{RES}/tables/proposed_sites_summary.csv",
    params:
        territory=spec,
        source_ids=typology_source_ids,
        uncovered_km=SITING["uncovered_km"],
        n_new_sites=SITING.get("n_new_sites"),
        target_share=SITING.get("target_share", 0.5),
        max_sites=SITING.get("max_sites", 100),
        catchment_km=config["indicators"]["catchment_km"],
        corsica_own_zone=config["indicators"].get("corsica_own_zone", True),
        clip=lambda wc: territory_of(wc.territory).kind in ("dep", "reg"),
        coverage_km=SITING["coverage_km"],
        objective=SITING["objective"],
        top_n=SITING["top_n"],
        priority_quota=SITING.get("priority_quota", "territory_class"),
        min_fibre_share=SITING["min_fibre_share"],
        exact_max_candidates=SITING["exact_max_candidates"],
        min_flow_coverage=SITING["min_flow_coverage"],
        time_limit_s=SITING["solver_time_limit_s"],
    log:
        f"{LOGS}/typology/siting.log",
    benchmark:
        f"{BENCH}/typology/siting.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(3000),
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/typology_siting.py"


# Only for a territory whose spaces sources include a census (all_targets asks for it then).
rule typology_economic_models:
    message:
        "Economic and governance models of the {params.census_id} places ({params.method})"
    input:
        sources_yaml=SOURCES_YAML,
        spaces=f"{PROC}/spaces.parquet",
        census=census_files_required,
    output:
        models=f"{PROC}/space_economic_models.parquet",
        scores=f"{RES}/tables/space_economic_model_scores.csv",
        profiles=f"{RES}/tables/space_economic_model_profiles.csv",
        groups=f"{RES}/tables/space_economic_feature_groups.csv",
    params:
        territory=spec,
        census_id=census_id,
        census_year=census_year,
        method=TYPO["method"],
        k_min=TYPO["k_min"],
        k_max=TYPO["k_max"],
        seed=TYPO["seed"],
        bootstrap=TYPO["bootstrap"],
        stability_threshold=TYPO.get("stability_threshold", 0.8),
        min_feature_coverage=TYPO["min_feature_coverage"],
        silhouette_sample=TYPO["silhouette_sample"],
        bootstrap_max_points=TYPO["bootstrap_max_points"],
        hdbscan_min_cluster_size=TYPO["hdbscan_min_cluster_size"],
        cache_dir=fit_cache_dir,
    log:
        f"{LOGS}/typology/economic_models.log",
    benchmark:
        f"{BENCH}/typology/economic_models.tsv"
    threads: 1  # one OpenMP/BLAS thread: k-means spin-waits when two jobs share 2 cores (issue 19)
    resources:
        mem_mb=mem_mb(1500),
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/typology_economic_models.py"
