"""Snakemake script: write the synthetic demo territory in the official source layouts."""

from coworking_geo.demo import write_demo_sources
from coworking_geo.log import snakemake_script

with snakemake_script(snakemake):  # noqa: F821
    write_demo_sources(
        snakemake.params.out_root,  # noqa: F821
        seed=snakemake.params.seed,  # noqa: F821
        n_communes=snakemake.params.n_communes,  # noqa: F821
        n_spaces=snakemake.params.n_spaces,  # noqa: F821
        n_flows=snakemake.params.n_flows,  # noqa: F821
    )
