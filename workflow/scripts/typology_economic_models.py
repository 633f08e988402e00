"""Snakemake script: economic and governance models of the France Tiers-Lieux census places."""

import pandas as pd

from coworking_geo.typology.clustering import cluster
from coworking_geo.typology.economic_models import (
    economic_features,
    economic_weights,
    link_spaces,
    name_economic_models,
    read_census,
)
from coworking_geo.io import read_table, write_csv, write_parquet
from coworking_geo.log import snakemake_script
from coworking_geo.sources.catalogue import load_sources, provenance
from coworking_geo.typology.space_models import model_features

smk = snakemake  # noqa: F821
with snakemake_script(smk) as log:
    p = smk.params
    files = list(smk.input.census)
    census = read_census(files[0], files[1] if len(files) > 1 else None)
    feats, groups = economic_features(census, p.census_year, path=files[0])
    feats = link_spaces(feats, read_table(smk.input.spaces), p.census_id)
    X = model_features(feats, p.min_feature_coverage)
    res = cluster(X, p.method, p.k_min, p.k_max, seed=p.seed, n_bootstrap=p.bootstrap,
                  sample_size=p.silhouette_sample, bootstrap_max_points=p.bootstrap_max_points,
                  min_cluster_size=p.hdbscan_min_cluster_size, weights=economic_weights(X.columns, groups),
                  stability_threshold=p.stability_threshold, threads=smk.threads, cache_dir=p.cache_dir)
    prof = name_economic_models(X, res)
    if res.unstable:
        prof["model_name"] = prof["model_name"] + " (typologie instable)"
    prof["typology_unstable"] = res.unstable
    prof.insert(2, "chosen_k", res.k)
    prof.insert(3, "k_reason", res.reason)
    prof.insert(4, "stability_ari", res.stability_ari)
    assign = pd.DataFrame({"space_id": X.index.astype(str), "model_id": res.labels.to_numpy() + 1})
    assign = assign.merge(prof[["model_id", "model_name"]], on="model_id", how="left")
    prov = provenance(load_sources(smk.input.sources_yaml), [p.census_id], p.territory,
                      "Economic and governance models of tiers-lieux")
    write_parquet(assign, smk.output.models, prov)
    scores = res.scores.copy()
    scores["reason"] = scores["chosen"].map({True: res.reason, False: ""})
    scores["stability_ari"] = res.stability_ari
    write_csv(scores, smk.output.scores, prov)
    write_csv(prof, smk.output.profiles, prov)
    write_csv(groups, smk.output.groups, prov)
    log.info("economic models: k=%d (%s), ARI %.3f", res.k, res.reason, res.stability_ari)
