"""Snakemake script: fetch and verify one source into data/raw/{source_id}/ (mirror or HTTPS)."""

from coworking_geo.log import snakemake_script
from coworking_geo.sources.retrieve import RetrieveSettings, mirror_dir, retrieve_source
from coworking_geo.sources.catalogue import load_sources

with snakemake_script(snakemake):  # noqa: F821
    source = load_sources("config/sources.yaml")[snakemake.params.source_id]  # noqa: F821
    retrieve_source(source, "data/raw", mirror_dir(), RetrieveSettings.from_config(snakemake.params.settings))  # noqa: F821
