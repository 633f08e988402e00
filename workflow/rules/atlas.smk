# atlas rules: interactive maps (folium, offline), static PNG maps, the atlas index and
# the HTML report. See docs/atlas.md; inputs follow docs/contract.md.

ATLAS = config["atlas"]
ATLAS_THEMES = [
    "spaces",
    "territory_class",
    "fibre_share",
    "fibre_change",
    "commuting_share",
    "long_commuters",
    "access_distance",
    "access_2sfca",
    "territory_profiles",
    "priority",
]


ATLAS_INPUTS = dict(
    sources_yaml=SOURCES_YAML,
    atlas_communes=f"{PROC}/atlas_communes.parquet",
    atlas_departements=f"{PROC}/atlas_departements.parquet",
    departements=f"{PROC}/departements.parquet",
    regions=f"{PROC}/regions.parquet",
    indicators=f"{PROC}/indicators.parquet",
    spaces=f"{PROC}/spaces.parquet",
    space_models=f"{PROC}/space_models.parquet",
    programmes=f"{PROC}/programmes.parquet",
    profiles=f"{PROC}/territory_profiles.parquet",
    priority=f"{RES}/tables/priority_territories.csv",
    sites=f"{RES}/tables/proposed_sites.csv",
)
# decimals of a degree of the one-page atlas's commune polygons (communes.js, about 100 m)
ATLAS_JS_PRECISION = 3
ATLAS_PARAMS = dict(
    territory=spec,
    themes=ATLAS_THEMES,
    source_ids=atlas_source_ids,
    coordinate_precision=ATLAS["coordinate_precision"],
    long_commute_km=config["indicators"]["long_commute_km"],
)
REPORT_TABLES = [
    f"{RES}/tables/{name}"
    for name in [
        "diagnosis_by_territory_class.csv",
        "diagnosis_by_region.csv",
        "communes_by_territory_class.csv",
        "communes_by_density_class.csv",
        "communes_by_region.csv",
        "access_by_class.csv",
        "fibre_summary.csv",
        "commuting_summary.csv",
        "space_model_profiles.csv",
        "model_fit_by_territory_class.csv",
        "space_model_scores.csv",
        "territory_profiles_summary.csv",
        "territory_profile_scores.csv",
        "priority_territories.csv",
        "proposed_sites.csv",
        "proposed_sites_summary.csv",
        "spaces_quality.csv",
        "mission_shares.csv",
        "places_change.csv",
        "space_model_stability.csv",
        "places.csv",
    ]
]


# atlas indicator key -> link from the report's synthesis (relative to results/{territory}/)
SYNTHESIS_LINKS = {key: f"atlas/atlas.html#{key}" for key in ATLAS_THEMES}


report: "../report/workflow.rst"


# The themes are drawn by two pairs of jobs: the seven that read only communes, départements and
# indicators, and the three that show the typology and siting results. A change of a typology
# parameter (e.g. typology.k_max) then re-draws only those three (docs/performance.md).
ATLAS_TYPOLOGY_THEMES = ["spaces", "territory_profiles", "priority"]
ATLAS_BASE_INPUTS = {
    k: v
    for k, v in ATLAS_INPUTS.items()
    if k in ("sources_yaml", "atlas_communes", "atlas_departements", "departements", "regions", "indicators")
}
ATLAS_GROUPS = {
    "": ([t for t in ATLAS_THEMES if t not in ATLAS_TYPOLOGY_THEMES], ATLAS_BASE_INPUTS),
    "_typology": (ATLAS_TYPOLOGY_THEMES, ATLAS_INPUTS),
}
ATLAS_SUMMARIES = [f"{RES}/atlas/maps{suffix}.json" for suffix in ATLAS_GROUPS]

rule atlas_geometry:
    message:
        "Communes and départements of {params.territory} simplified once for every atlas map"
    input:
        sources_yaml=SOURCES_YAML,
        communes=f"{PROC}/communes.parquet",
        departements=f"{PROC}/departements.parquet",
    output:
        communes=f"{PROC}/atlas_communes.parquet",
        departements=f"{PROC}/atlas_departements.parquet",
        geometry_js=f"{RES}/atlas/communes.js",
    params:
        territory=spec,
        simplify_tolerance_m=ATLAS["simplify_tolerance_m"],
        coordinate_precision=ATLAS["coordinate_precision"],
        atlas_precision=ATLAS_JS_PRECISION,
    log:
        f"{LOGS}/atlas/geometry.log",
    benchmark:
        f"{BENCH}/atlas/geometry.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(2000),
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/atlas_geometry.py"


for _suffix, (_themes, _inputs) in ATLAS_GROUPS.items():

    rule:
        name:
            f"atlas_maps{_suffix}"
        message:
            "Atlas of {params.territory}: {params.n} interactive maps (tiles: {params.tiles})"
        input:
            **_inputs,
        output:
            maps=report(
                expand(f"{RES}/atlas/{{theme}}.html", theme=_themes, allow_missing=True),
                caption="../report/atlas_map.rst",
                category="Atlas",
                subcategory="Cartes interactives",
            ),
            summary=f"{RES}/atlas/maps{_suffix}.json",
        params:
            **{**ATLAS_PARAMS, "themes": _themes},
            tiles=ATLAS["tiles"],
            n=len(_themes),
        log:
            f"{LOGS}/atlas/maps{_suffix}.log",
        benchmark:
            f"{BENCH}/atlas/maps{_suffix}.tsv"
        threads: 1
        resources:
            mem_mb=mem_mb(3000),
        conda:
            "../envs/coworking-geo.yaml"
        script:
            "../scripts/atlas_maps.py"

    rule:
        name:
            f"atlas_static{_suffix}"
        message:
            "Static PNG maps of {params.territory} ({params.n} themes)"
        input:
            **_inputs,
        output:
            maps=report(
                expand(f"{RES}/maps/{{theme}}.png", theme=_themes, allow_missing=True),
                caption="../report/static_map.rst",
                category="Atlas",
                subcategory="Cartes statiques",
            ),
        params:
            **{**ATLAS_PARAMS, "themes": _themes},
            n=len(_themes),
        log:
            f"{LOGS}/atlas/static{_suffix}.log",
        benchmark:
            f"{BENCH}/atlas/static{_suffix}.tsv"
        threads: 1
        resources:
            mem_mb=mem_mb(3000),
        conda:
            "../envs/coworking-geo.yaml"
        script:
            "../scripts/atlas_static.py"


rule atlas_screenshots:
    message:
        "Screenshots of the {params.territory} atlas, report and a portrait in headless Chromium (not a default target)"
    input:
        atlas=f"{RES}/atlas/atlas.html",
        index=f"{RES}/atlas/index.html",
        report=f"{RES}/report.html",
        portraits=f"{RES}/portraits",
    output:
        checks=f"{RES}/atlas/screenshots/checks.json",
    params:
        territory=spec,
        portrait="61",
    log:
        f"{LOGS}/atlas/screenshots.log",
    benchmark:
        f"{BENCH}/atlas/screenshots.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(2000),
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/atlas_screenshots.py"


rule publish:
    message:
        "Pages of {params.territory}: one-page atlas and its home page, report, portraits"
    input:
        **ATLAS_INPUTS,
        communes=f"{PROC}/communes.parquet",
        geometry_js=f"{RES}/atlas/communes.js",
        pngs=expand(f"{RES}/maps/{{theme}}.png", theme=ATLAS_THEMES, allow_missing=True),
        tables=REPORT_TABLES,
    output:
        atlas=f"{RES}/atlas/atlas.html",
        data=f"{RES}/atlas/data.js",
        atlas_summary=f"{RES}/atlas/atlas.json",
        index=report(f"{RES}/atlas/index.html", caption="../report/atlas_index.rst", category="Atlas"),
        report=report(f"{RES}/report.html", caption="../report/report.rst", category="Rapport"),
        portraits=directory(f"{RES}/portraits"),
    params:
        **ATLAS_PARAMS,
        tiles=ATLAS["tiles"],
        radius_km=10,
        atlas_links=SYNTHESIS_LINKS,
    log:
        f"{LOGS}/publish.log",
    benchmark:
        f"{BENCH}/publish.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(3000),
    conda:
        "../envs/coworking-geo.yaml"
    script:
        "../scripts/publish.py"
