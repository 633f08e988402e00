"""Snakemake script: national commune centroids (insee_code, lon, lat in EPSG:4326, name), computed once."""

from coworking_geo.indicators.commuting import read_places
from coworking_geo.io import write_parquet
from coworking_geo.log import snakemake_script

with snakemake_script(snakemake) as log:  # noqa: F821
    smk = snakemake  # noqa: F821
    places = read_places(smk.input.communes)
    log.info("national commune centroids: %d communes", len(places))
    write_parquet(places.rename_axis("insee_code").reset_index(), smk.output.places)
