"""Snakemake script: the diagnosis by territory class and by région."""

import geopandas as gpd
import pandas as pd

from coworking_geo.io import inherited_provenance, write_csv
from coworking_geo.log import snakemake_script
from coworking_geo.report.summary import diagnosis_by

smk = snakemake  # noqa: F821
with snakemake_script(smk) as log:
    communes = gpd.read_parquet(smk.input.communes)
    spaces = pd.read_parquet(smk.input.spaces, columns=["space_id", "insee_code"])
    indicators = pd.read_parquet(smk.input.indicators)
    regions = pd.read_parquet(smk.input.regions, columns=["reg_code", "reg_name"])
    inputs = [smk.input.communes, smk.input.spaces, smk.input.indicators]
    by_class = diagnosis_by(communes, spaces, indicators, "territory_class", radius_km=smk.params.radius_km)
    write_csv(by_class, smk.output.by_class,
              inherited_provenance(inputs, "Diagnostic par classe de territoire", smk.params.territory))
    by_region = diagnosis_by(communes, spaces, indicators, "reg_code", radius_km=smk.params.radius_km)
    by_region.insert(1, "reg_name", by_region["reg_code"].map(regions.set_index("reg_code")["reg_name"]).fillna("Total"))
    write_csv(by_region, smk.output.by_region,
              inherited_provenance(inputs, "Diagnostic par région", smk.params.territory))
    log.info("%d spaces over %d communes summarised", int(by_class["spaces"].iloc[-1]), int(by_class["communes"].iloc[-1]))
