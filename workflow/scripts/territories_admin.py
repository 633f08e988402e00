"""Snakemake script: départements and régions layers (names, polygons) of the territory."""

from coworking_geo.territories.communes import read_admin_layer
from coworking_geo.io import write_parquet
from coworking_geo.log import snakemake_script
from coworking_geo.sources.catalogue import load_sources, provenance
from coworking_geo.territories.territory import parse_territory

with snakemake_script(snakemake) as log:  # noqa: F821
    smk = snakemake  # noqa: F821
    sources = load_sources(smk.input.sources_yaml)
    territory = parse_territory(smk.params.territory)
    deps = read_admin_layer(smk.input.departements, "departements")
    regs = read_admin_layer(smk.input.regions, "regions")
    deps = deps[territory.select(deps["dep_code"], deps["reg_code"]).to_numpy()]
    regs = regs[regs["reg_code"].isin(set(deps["reg_code"])).to_numpy()]
    log.info("%s: %d départements, %d régions", territory.spec, len(deps), len(regs))
    prov = provenance(sources, ["ign_admin_express_communes"], territory.spec, "Départements and régions")
    write_parquet(deps.reset_index(drop=True), smk.output.departements, prov)
    write_parquet(regs.reset_index(drop=True), smk.output.regions, prov)
