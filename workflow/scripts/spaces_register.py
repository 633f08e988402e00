"""Snakemake script: the register of places (lists and programme laureates) and its quality tables."""

import pandas as pd

from coworking_geo.io import write_csv, write_parquet
from coworking_geo.log import snakemake_script
from coworking_geo.sources.catalogue import load_sources, provenance
from coworking_geo.spaces.locate import CommuneIndex, load_commune_polygons
from coworking_geo.spaces.places import list_changes, places_table, write_gpkg
from coworking_geo.spaces.programmes import laureates_frame, programme_tables, read_laureates
from coworking_geo.spaces.register import RegisterParams, build_register, read_sources
from coworking_geo.spaces.titles import places_title

smk = snakemake  # noqa: F821
with snakemake_script(smk) as log:
    p = smk.params
    index = CommuneIndex(load_commune_polygons(smk.input.polygons))
    communes = pd.read_parquet(smk.input.communes, columns=["insee_code", "name", "reg_code", "territory_class"])
    territory_codes = set(communes["insee_code"].astype(str))
    crosswalk = pd.read_parquet(smk.input.crosswalk)
    frames, notes = read_sources(p.sources)
    for e in p.programmes:
        lau = read_laureates(e["file"], e["kind"])
        frames.append(laureates_frame(lau, e["id"], str(e["vintage"])))
        notes[e["id"]] = {"file": str(e["file"]), "laureates": len(lau),
                          "personal_fields_scrubbed": int(lau["pii_scrubbed"].ne("").sum())}
        log.info("%s: read %d laureates from %s", e["id"], len(lau), e["file"])
    files = {e["id"]: str(e["files"][0]) for e in p.sources} | {e["id"]: str(e["file"]) for e in p.programmes}
    reg = build_register(frames, index, crosswalk, territory_codes, RegisterParams(**p.thresholds), files=files)
    programmes, links = programme_tables(reg.rows)
    log.info("programmes: %s", links["status"].value_counts().to_dict())

    srcs = load_sources(smk.input.sources_yaml)
    ids = [e["id"] for e in list(p.sources) + list(p.programmes) if e["id"] in srcs] + ["ign_admin_express_communes"]
    prov = provenance(srcs, ids, p.territory, places_title(reg.spaces))
    prog_prov = provenance(srcs, [e["id"] for e in p.programmes], p.territory, "Fabriques and Manufactures laureates")
    write_parquet(reg.spaces, smk.output.spaces, prov)
    write_parquet(reg.context, smk.output.context, prov)
    log.info("register: %d places (%s); context for distances: %d places, %d of them outside the territory",
             len(reg.spaces), places_title(reg.spaces), len(reg.context), int((~reg.context["in_territory"]).sum()))
    write_parquet(programmes, smk.output.programmes, prog_prov)
    quality = reg.quality.assign(reading_notes=reg.quality["source"].map(
        lambda s: "; ".join(f"{k}={v}" for k, v in notes.get(s, {}).items() if k != "activities_file")))
    write_csv(quality, smk.output.quality, prov)
    write_csv(reg.rejected, smk.output.rejected, prov)
    write_csv(reg.fixes, smk.output.fixes, prov)
    write_csv(links, smk.output.links, prog_prov)
    licences = {i: srcs[i].licence for i in ids} | {e["id"]: e.get("licence", "licence non précisée")
                                                     for e in p.sources if e["id"] not in srcs}
    places = places_table(reg.spaces, communes, licences)
    write_csv(pd.DataFrame(places.drop(columns="geometry")), smk.output.places_csv, prov)
    write_gpkg(places, smk.output.places_gpkg)
    changes = list_changes(reg.rows, communes)
    write_csv(changes, smk.output.changes, provenance(srcs, ids, p.territory,
                                                      "Évolution entre listes de lieux : " + places_title(reg.spaces)))
    log.info("places.csv: %d places; change between lists: %d rows", len(places), len(changes))
