# coworking-geo: diagnosis of coworking spaces and tiers-lieux across French territories.
#   snakemake --cores 2                                  # offline demo (config default)
#   COWORKING_GEO_MIRROR=../shared/data snakemake --cores 2 --config territory=dep-61

from snakemake.utils import min_version, validate

min_version("8.10")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"


check_cross_fields(config)

include: "workflow/rules/retrieve.smk"
include: "workflow/rules/territories.smk"
include: "workflow/rules/spaces.smk"
include: "workflow/rules/indicators.smk"
include: "workflow/rules/typology.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/atlas.smk"


rule all:
    input:
        all_targets(),
    default_target: True
