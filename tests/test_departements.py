"""Issue 12: no crash for any of the 101 départements. The typology functions (space models, with the national
models when a département has too few places, and territory profiles) run in-process on each département's subset
of the France tables the workflow built from the mirror (``data/processed/france``; skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from coworking_geo.io import read_table
from coworking_geo.typology.space_models import fit_models, model_features, space_features, with_employed
from coworking_geo.typology.territory_profiles import commune_table, fit_profiles, profile_features, read_filosofi

pytestmark = [pytest.mark.mirror, pytest.mark.slow]
FILOSOFI = Path("insee_filosofi_2019") / "cc_filosofi_2019_COM.CSV"
N_BOOTSTRAP = 2  # fewer resamples than the workflow (20): the test is about every département running to the end


def _tables(repo_root: Path, mirror: Path) -> dict:
    proc = Path(repo_root) / "data" / "processed" / "france"
    if not (proc / "spaces_context.parquet").exists():
        pytest.skip("data/processed/france not built: run snakemake --config territory=france")
    t = {n: read_table(proc / f"{n}.parquet") for n in ("communes", "indicators", "spaces", "spaces_context")}
    crosswalk = Path(repo_root) / "data" / "processed" / "national" / "commune_crosswalk.parquet"
    t["income"] = read_filosofi(mirror / FILOSOFI, read_table(crosswalk))
    t["typo"] = yaml.safe_load((Path(repo_root) / "config" / "config.yaml").read_text())["typology"]
    return t


def _run_departement(t: dict, d: str, spaces: pd.DataFrame) -> dict:
    """Space models (national ones below ``min_places``) and territory profiles of département ``d``, in-process."""
    typo, communes, indicators, context = t["typo"], t["communes"], t["indicators"], t["spaces_context"]
    dep_of = dict(zip(communes["insee_code"], communes["dep_code"]))
    kw = dict(method=typo["method"], k_min=typo["k_min"], k_max=typo["k_max"], seed=typo["seed"],
              n_bootstrap=N_BOOTSTRAP, k=typo["space_k"], sample_size=typo["silhouette_sample"],
              bootstrap_max_points=typo["bootstrap_max_points"], min_cluster_size=typo["hdbscan_min_cluster_size"],
              stability_threshold=typo["stability_threshold"])
    com = communes[communes["dep_code"].astype(str).eq(d)]
    ind = indicators[indicators["insee_code"].isin(com["insee_code"])]
    sp = spaces[spaces["insee_code"].map(dep_of).astype("string").eq(d).fillna(False).to_numpy(dtype=bool)]
    ctx = context.assign(in_territory=context["space_id"].isin(sp["space_id"]))
    feats = space_features(sp, with_employed(com, ind), around_km=typo["around_km"])
    small = len(feats) < typo["min_places"]
    run = fit_models(feats, ctx if small else None, cluster_kwargs=kw,
                     min_coverage=typo["min_feature_coverage"], max_class_ari=typo["max_class_ari"])
    assert len(run.assignments) == len(sp), d
    assert run.assignments["model_id"].notna().all(), d
    table = commune_table(com, ind, pd.DataFrame(ctx.drop(columns="geometry", errors="ignore")),
                          typo["fibre_vintage"], t["income"])
    X = model_features(profile_features(table, typo["territory_unit"]), typo["min_feature_coverage"])
    res = fit_profiles(X, typo["k_min"], method=typo["territory_method"], k_max=typo["k_max"], seed=typo["seed"],
                       n_bootstrap=N_BOOTSTRAP, k=typo["territory_k"], sample_size=typo["silhouette_sample"],
                       bootstrap_max_points=typo["bootstrap_max_points"],
                       stability_threshold=typo["stability_threshold"])
    assert res.labels.notna().all() and len(res.labels) == len(com), d
    return {"dep": d, "places": len(sp), "national": small, "k_profiles": res.k}


def test_typology_runs_for_every_departement(repo_root: Path, mirror: Path) -> None:
    t = _tables(repo_root, mirror)
    typo = t["typo"]
    deps = sorted(t["communes"]["dep_code"].dropna().astype(str).unique())
    assert len(deps) == 101
    rows, crashes = [], {}
    for d in deps:  # every département, then the list of those that crash (first run: Paris, 1 commune)
        try:
            rows.append(_run_departement(t, d, t["spaces"]))
        except Exception as e:  # noqa: BLE001 - the test reports every crash at once
            crashes[d] = f"{type(e).__name__}: {e}"
    assert crashes == {}
    out = pd.DataFrame(rows)
    # the départements the diagnosis is for: with few places, all on the national models (35 on the mirror)
    assert out.loc[out["places"] < typo["min_places"], "national"].all() and out["national"].sum() >= 19
    assert out.loc[out["dep"].isin(["2A", "974", "52"]), "places"].le(10).all()
    # Paris is one commune: one profile, said so; every other département has a chosen k
    assert out.set_index("dep").loc["75", "k_profiles"] == 1
    assert np.isin(out.loc[out["dep"] != "75", "k_profiles"], range(typo["k_min"], typo["k_max"] + 1)).all()


def test_typology_runs_for_a_departement_without_places(repo_root: Path, mirror: Path) -> None:
    """The Haute-Marne with its places removed (issue 12 saw it with none): no crash, national scope, profiles made."""
    t = _tables(repo_root, mirror)
    dep_of = dict(zip(t["communes"]["insee_code"], t["communes"]["dep_code"]))
    without = t["spaces"][t["spaces"]["insee_code"].map(dep_of).astype("string").ne("52").fillna(True)
                          .to_numpy(dtype=bool)]
    row = _run_departement(t, "52", without)
    assert row["places"] == 0 and row["national"]
