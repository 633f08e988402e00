"""Snakemake script: build a mirror folder from the official URLs (one folder per source, MANIFEST.json each)."""

from coworking_geo.log import snakemake_script
from coworking_geo.sources.official.mirror import build_mirror
from coworking_geo.sources.catalogue import load_sources

with snakemake_script(snakemake):  # noqa: F821
    build_mirror(load_sources(snakemake.input.sources_yaml), snakemake.params.mirror_dir)  # noqa: F821
