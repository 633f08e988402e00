"""Snakemake script: feature table per space, clustering into models, scores, stability and profiles."""

import pandas as pd

from coworking_geo.clustering import cluster
from coworking_geo.io import read_table, write_csv, write_parquet
from coworking_geo.log import snakemake_script
from coworking_geo.siting import fibre_column
from coworking_geo.sources import load_sources, provenance
from coworking_geo.space_models import cross_table, model_features, name_models, space_features

smk = snakemake  # noqa: F821
with snakemake_script(smk) as log:
    p = smk.params
    spaces = read_table(smk.input.spaces)
    communes = read_table(smk.input.communes)
    indicators = read_table(smk.input.indicators)
    log.info("fibre column used: %s", fibre_column(indicators.columns, p.fibre_vintage))
    feats = space_features(spaces, communes, indicators, around_km=p.around_km, spaces_path=smk.input.spaces,
                           fibre_vintage=p.fibre_vintage)
    X = model_features(feats, p.min_feature_coverage)
    res = cluster(X, p.method, p.k_min, p.k_max, seed=p.seed, n_bootstrap=p.bootstrap,
                  sample_size=p.silhouette_sample, bootstrap_max_points=p.bootstrap_max_points,
                  min_cluster_size=p.hdbscan_min_cluster_size)
    prof = name_models(feats, res)
    assign = pd.DataFrame({"space_id": feats.index.astype(str), "model_id": res.labels.to_numpy() + 1})
    assign = assign.merge(prof[["model_id", "model_name"]], on="model_id", how="left")
    assign["model_id"] = assign["model_id"].astype("int64")
    prov = provenance(load_sources(smk.input.sources_yaml), list(p.source_ids), p.territory,
                      "Models of coworking spaces and tiers-lieux")
    write_parquet(assign, smk.output.models, prov)
    scores = res.scores.copy()
    scores["reason"] = scores["chosen"].map({True: res.reason, False: ""})
    write_csv(scores, smk.output.scores, prov)
    prof.insert(2, "chosen_k", res.k)
    prof.insert(3, "k_reason", res.reason)
    prof["features"] = ";".join(X.columns)
    write_csv(prof, smk.output.profiles, prov)
    stab = res.stability.copy()
    summary = pd.DataFrame([{"resample": "mean", "n_points": stab["n_points"].max() if len(stab) else 0,
                             "ari": res.stability_ari},
                            {"resample": "min", "n_points": stab["n_points"].max() if len(stab) else 0,
                             "ari": stab["ari"].min() if len(stab) else float("nan")}])
    stab = pd.concat([stab.astype({"resample": "string"}), summary], ignore_index=True)
    stab.insert(0, "method", res.method)
    stab.insert(1, "k", res.k)
    write_csv(stab, smk.output.stability, prov)
    write_csv(cross_table(feats, assign), smk.output.cross, prov)
    for _, r in prof.iterrows():
        log.info("model %d %-45s %5d spaces", r["model_id"], r["model_name"], r["n_spaces"])
    log.info("chosen k=%d: %s; stability ARI %.3f", res.k, res.reason, res.stability_ari)
