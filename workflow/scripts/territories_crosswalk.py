"""Snakemake script: national commune-code crosswalk and its resolution check on ARCEP 2018 / CGET 2019 codes."""

from coworking_geo.territories import crosswalk as cw
from coworking_geo.io import write_csv, write_parquet
from coworking_geo.log import snakemake_script
from coworking_geo.sources.catalogue import load_sources, provenance

with snakemake_script(snakemake) as log:  # noqa: F821
    smk = snakemake  # noqa: F821
    sources = load_sources(smk.input.sources_yaml)
    territory = smk.params.territory
    deco = cw.read_decoupage(smk.input.decoupage)
    crosswalk = cw.build_crosswalk(deco, source=f"decoupage-administratif (COG {smk.params.cog_year})")
    com = cw.non_commune_codes(deco)
    resolved = {
        "ARCEP 2018 (arcep_ftth_2018t1, Code commune)": cw.resolve_codes(cw.arcep_2018_codes(smk.input.arcep_2018),
                                                                          crosswalk, non_communes=com),
    }
    primary, fallback = cw.cget_2019_codes(smk.input.cget_2019)
    resolved["CGET 2019 (cget_tierslieux_2019, INSEECOM then INSEEMETRO)"] = cw.resolve_with_fallback(
        primary, fallback, crosswalk, fallback_name="INSEEMETRO", non_communes=com)
    summary, unresolved = cw.resolution_summary(resolved)
    for row in summary.itertuples():
        log.info("%s: %d/%d rows resolve (%.2f %%)", row.source, row.resolved, row.rows, 100 * row.share)
    ids = ["etalab_decoupage_administratif"]
    write_parquet(crosswalk, smk.output.crosswalk, provenance(sources, ids, territory, "Commune-code crosswalk"))
    prov = provenance(sources, ids + ["arcep_ftth_2018t1", "cget_tierslieux_2019"], territory,
                      "Commune codes resolved through the crosswalk")
    write_csv(summary, smk.output.resolution, prov)
    write_csv(unresolved, smk.output.unresolved, prov)
