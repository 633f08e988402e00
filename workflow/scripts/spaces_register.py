"""Snakemake script: the harmonised register of spaces, the programme laureates and the quality tables."""

import pandas as pd

from coworking_geo.io import write_csv, write_parquet
from coworking_geo.log import snakemake_script
from coworking_geo.sources import load_sources, provenance
from coworking_geo.spaces.locate import CommuneIndex, load_commune_polygons
from coworking_geo.spaces.programmes import link_laureates, programme_labels, read_laureates
from coworking_geo.spaces.register import RegisterParams, build_register, read_sources

smk = snakemake  # noqa: F821
with snakemake_script(smk) as log:
    p = smk.params
    index = CommuneIndex(load_commune_polygons(smk.input.polygons))
    territory_codes = set(pd.read_parquet(smk.input.communes, columns=["insee_code"])["insee_code"].astype(str))
    crosswalk = pd.read_parquet(smk.input.crosswalk)
    frames, notes = read_sources(p.sources)
    reg = build_register(frames, index, crosswalk, territory_codes, RegisterParams(**p.thresholds),
                         files={e["id"]: str(e["files"][0]) for e in p.sources})

    laureates = pd.concat([read_laureates(e["file"], e["kind"]) for e in p.programmes], ignore_index=True)
    programmes, links = link_laureates(laureates, reg.spaces, index, crosswalk, p.programme_similarity,
                                       territory_codes)
    kinds = laureates.set_index("programme_id")["kind"]
    labels = programme_labels(links, links["programme_id"].map(kinds), reg.spaces["space_id"])
    reg.spaces["fabrique"], reg.spaces["manufacture"] = labels["fabrique"], labels["manufacture"]
    log.info("programmes: %s", links["status"].value_counts().to_dict())

    srcs = load_sources(smk.input.sources_yaml)
    ids = [e["id"] for e in p.sources if e["id"] in srcs] + ["ign_admin_express_communes"]
    prov = provenance(srcs, ids, p.territory, "Register of coworking spaces and tiers-lieux")
    prog_prov = provenance(srcs, [e["id"] for e in p.programmes], p.territory, "Fabriques and Manufactures laureates")
    write_parquet(reg.spaces, smk.output.spaces, prov)
    write_parquet(reg.context, smk.output.context, prov)
    log.info("context for distances: %d places, %d of them outside the territory",
             len(reg.context), int((~reg.context["in_territory"]).sum()))
    write_parquet(programmes, smk.output.programmes, prog_prov)
    quality = reg.quality.assign(reading_notes=reg.quality["source"].map(
        lambda s: "; ".join(f"{k}={v}" for k, v in notes.get(s, {}).items() if k != "activities_file")))
    write_csv(quality, smk.output.quality, prov)
    write_csv(reg.rejected, smk.output.rejected, prov)
    write_csv(reg.fixes, smk.output.fixes, prov)
    write_csv(links, smk.output.links, prog_prov)
