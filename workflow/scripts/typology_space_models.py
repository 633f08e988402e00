"""Snakemake script: models of places from what they do, the choice of k, collapse checks and the fit by class."""

from coworking_geo.typology.economic_models import economic_features, link_spaces, read_census
from coworking_geo.io import read_table, write_csv, write_parquet
from coworking_geo.log import snakemake_script
from coworking_geo.sources.catalogue import load_sources, provenance
from coworking_geo.typology.space_models import (
    fit_models,
    space_features,
    with_employed,
)

smk = snakemake  # noqa: F821
with snakemake_script(smk) as log:
    p = smk.params
    spaces = read_table(smk.input.spaces, geometry=False)  # places and communes carry their lon/lat
    communes = with_employed(read_table(smk.input.communes, geometry=False), read_table(smk.input.indicators))
    census = None
    if p.census_id:  # the France Tiers-Lieux census is configured: its fields are features too
        files = list(smk.input.census)
        raw, _ = economic_features(read_census(files[0], files[1] if len(files) > 1 else None), p.census_year,
                                   path=files[0])
        census = link_spaces(raw, spaces, p.census_id)
    feats = space_features(spaces, communes, around_km=p.around_km, spaces_path=smk.input.spaces, census=census)
    out = fit_models(feats, read_table(smk.input.context, geometry=False) if len(feats) < p.min_places else None,
                     cluster_kwargs=dict(method=p.method, k_min=p.k_min, k_max=p.k_max, seed=p.seed,
                                         n_bootstrap=p.bootstrap, k=p.k, sample_size=p.silhouette_sample,
                                         bootstrap_max_points=p.bootstrap_max_points,
                                         min_cluster_size=p.hdbscan_min_cluster_size,
                                         stability_threshold=p.stability_threshold, threads=smk.threads,
                                         cache_dir=p.cache_dir),
                     min_coverage=p.min_feature_coverage, max_class_ari=p.max_class_ari,
                     context_path=smk.input.context)
    prov = provenance(load_sources(smk.input.sources_yaml), list(p.source_ids), p.territory,
                      "Models of coworking spaces and tiers-lieux")
    write_parquet(out.assignments, smk.output.models, prov)
    write_csv(out.scores, smk.output.scores, prov)
    write_csv(out.profiles, smk.output.profiles, prov)
    write_csv(out.stability, smk.output.stability, prov)
    write_csv(out.fit, smk.output.fit, prov)
    write_csv(out.checks, smk.output.checks, prov)
    for _, r in out.profiles.iterrows():
        log.info("model %d %-45s %5d spaces", r["model_id"], r["model_name"], r["n_spaces"])
    log.info("%s", out.note)
