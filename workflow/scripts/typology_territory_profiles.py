"""Snakemake script: profiles of communes (or EPCI) on need, offer and income."""

from coworking_geo.io import read_table, write_csv, write_parquet
from coworking_geo.log import snakemake_script
from coworking_geo.sources.catalogue import load_sources, provenance
from coworking_geo.typology.space_models import model_features
from coworking_geo.typology.territory_profiles import (
    commune_table,
    fit_profiles,
    name_profiles,
    profile_features,
    read_filosofi,
    spatial_labels,
)

smk = snakemake  # noqa: F821
with snakemake_script(smk) as log:
    p = smk.params
    income = read_filosofi(smk.input.income, read_table(smk.input.crosswalk))
    table = commune_table(read_table(smk.input.communes, geometry=False), read_table(smk.input.indicators),
                          read_table(smk.input.spaces, geometry=False), p.fibre_vintage, income)
    feats = profile_features(table, p.unit)
    X = model_features(feats, p.min_feature_coverage)
    res = fit_profiles(X, p.k_min, method=p.method, k_max=p.k_max, seed=p.seed, n_bootstrap=p.bootstrap, k=p.k,
                       sample_size=p.silhouette_sample, bootstrap_max_points=p.bootstrap_max_points,
                       stability_threshold=p.stability_threshold, threads=smk.threads, cache_dir=p.cache_dir)
    prof = name_profiles(feats, res)
    if res.k > 1 and res.unstable:
        prof["profile_name"] = prof["profile_name"] + " (typologie instable)"
    key = "epci_code" if p.unit == "epci" else "insee_code"
    out = feats.copy()
    out.insert(0, "profile_id", res.labels.reindex(feats.index).to_numpy() + 1)
    out = out.reset_index().rename(columns={"index": key})
    out = out.merge(prof[["profile_id", "profile_name"]], on="profile_id", how="left")
    cols = [key, "profile_id", "profile_name", *feats.columns]
    if p.unit == "commune":
        extra = table[["insee_code", "name", "dep_code", "territory_class", "population", "dist_nearest_space_km"]]
        out = out.merge(extra, on="insee_code", how="left")
        cols += ["name", "dep_code", "territory_class", "population", "dist_nearest_space_km"]
    if p.spatial:
        pts = table.set_index("insee_code")[["lon", "lat"]] if p.unit == "commune" else \
            table.groupby("epci_code")[["lon", "lat"]].mean()
        out["spatial_profile_id"] = spatial_labels(res.scaled, pts, res.k).reindex(out[key]).to_numpy() + 1
        cols.append("spatial_profile_id")
    prov = provenance(load_sources(smk.input.sources_yaml), list(p.source_ids), p.territory,
                      "Profiles of territories (need, offer and income)")
    write_parquet(out[cols], smk.output.profiles, prov)
    scores = res.scores.copy()
    scores["reason"] = scores["chosen"].map({True: res.reason, False: ""})
    scores["stability_ari"] = res.stability_ari
    scores["unit"] = p.unit
    write_csv(scores, smk.output.scores, prov)
    prof.insert(2, "unit", p.unit)
    prof.insert(3, "chosen_k", res.k)
    prof.insert(4, "k_reason", res.reason)
    prof["features"] = ";".join(X.columns)
    prof["stability_ari"] = res.stability_ari
    prof["typology_unstable"] = res.k > 1 and res.unstable
    write_csv(prof, smk.output.summary, prov)
    for _, r in prof.iterrows():
        log.info("profile %d %-55s %6d units", r["profile_id"], r["profile_name"], r["n_units"])
    log.info("chosen k=%d: %s", res.k, res.reason)
