"""Our 2SFCA and maximal covering against PySAL ``access`` and ``spopt`` on the same inputs (real mirror).

    COWORKING_GEO_MIRROR=/work/shared/data python benchmarks/bench_libraries.py            # the Orne
    COWORKING_GEO_MIRROR=/work/shared/data python benchmarks/bench_libraries.py 61 35     # several départements

Per département: its communes (IGN ADMIN EXPRESS, COG 2024) and the CGET 2019 places of the mirror,
the populated 1 km cells of the Eurostat grid in the access window.

- 2SFCA: :func:`coworking_geo.indicators.access.place_ratios` + :func:`~coworking_geo.indicators.access.fca_scores` against
  ``access.fca.two_stage_fca`` fed with the cell–place great-circle distances within the decay's reach
  (the configured stepwise decay, supply weights 1–3); the largest absolute score difference.
- Maximal covering: :func:`coworking_geo.typology.siting.allocate` (greedy bound, then HiGHS) against
  ``spopt.locate.MCLP.from_cost_matrix`` solved with CBC, with the existing places fixed; the covered
  population of both and whether they pick the same sites.

geosnap is not compared here (a heavy install; the clustering equals scikit-learn's, which geosnap wraps).
Seconds are process CPU time of the call alone (``time.process_time``), the ratio is theirs / ours.
Rows are appended to ``benchmarks/results/libraries.csv``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from run_workflow import append_csv  # noqa: E402

GRID = Path("eurostat_popgrid_1km") / "eurostat_geostat_popgrid_1km_FR_2021_epsg3035.tif"


def _gc_km(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from coworking_geo.geodesy import EARTH_RADIUS_KM

    chord = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / (2 * EARTH_RADIUS_KM), 0, 1))


def _inputs(mirror: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    import geopandas as gpd

    g = gpd.read_file(mirror / "ign_admin_express_communes" / "communes_cog2024_simplifiees.gpkg",
                      columns=["INSEE_COM", "NOM", "INSEE_DEP", "INSEE_REG", "POPULATION"])
    g = g.rename(columns={"INSEE_COM": "insee_code", "NOM": "name", "INSEE_DEP": "dep_code",
                          "INSEE_REG": "reg_code", "POPULATION": "population"})
    df = pd.read_csv(mirror / "cget_tierslieux_2019" / "CGET_TiersLieux_2019.csv", dtype=str, sep=None,
                     engine="python")
    lon = pd.to_numeric(df["LONG"].str.replace(",", "."), errors="coerce")
    lat = pd.to_numeric(df["LAT"].str.replace(",", "."), errors="coerce")
    ok = lon.notna() & lat.notna()
    sp = pd.DataFrame({"space_id": df.loc[ok, "ID"].to_numpy(), "insee_code": df.loc[ok, "INSEECOM"].to_numpy(),
                       "lon": lon[ok].to_numpy(), "lat": lat[ok].to_numpy()})
    return g, gpd.GeoDataFrame(sp, geometry=gpd.points_from_xy(sp["lon"], sp["lat"]), crs=4326)


def bench_2sfca(orne: pd.DataFrame, spaces: pd.DataFrame, mirror: Path, decay: object) -> dict[str, object]:
    import rasterio
    from access import fca, weights
    from pyproj import Transformer

    from coworking_geo.indicators.access import MAINLAND, fca_scores, place_ratios, read_grid, territory_window
    from coworking_geo.geodesy import to_ecef_km

    grid = read_grid(mirror / GRID, territory_window(orne, decay.catchment_km, True))
    rows, cols = np.nonzero(grid.pop > 0)
    x, y = rasterio.transform.xy(grid.transform, rows, cols, offset="center")
    lon, lat = Transformer.from_crs(3035, 4326, always_xy=True).transform(np.asarray(x), np.asarray(y))
    cell_xyz, pop = to_ecef_km(lon, lat), grid.pop[rows, cols].astype(float)
    b = orne.to_crs(4326).total_bounds
    sp = spaces.cx[b[0] - 1.5:b[2] + 1.5, b[1] - 1:b[3] + 1]
    sp_xyz = to_ecef_km(sp["lon"].to_numpy(), sp["lat"].to_numpy())
    zc, zs = np.full(len(pop), MAINLAND), np.full(len(sp), MAINLAND)
    supply = np.arange(1, len(sp) + 1, dtype=float) % 3 + 1
    t = time.process_time()
    ours = fca_scores(sp_xyz, zs, place_ratios(sp_xyz, zs, supply, cell_xyz, zc, pop, decay), cell_xyz, zc, decay)
    ours_s = time.process_time() - t
    t = time.process_time()
    d = _gc_km(cell_xyz, sp_xyz)  # their input: the cost pairs within reach (counted in their time)
    o, s = np.nonzero(d <= decay.reach_km)
    cost = pd.DataFrame({"origin": o, "dest": s, "cost": d[o, s]})
    ref = fca.two_stage_fca(pd.DataFrame({"demand": pop}), pd.DataFrame({"supply": supply}), cost,
                            max_cost=decay.catchment_km, demand_index=True,
                            weight_fn=weights.step_fn(dict(zip(decay.steps_km, decay.weights, strict=True))))
    theirs_s = time.process_time() - t
    theirs = np.zeros(len(pop))
    theirs[ref.index.to_numpy(int)] = ref.to_numpy(float) * 10_000
    return {"comparison": "2sfca_vs_pysal_access", "points": len(pop), "places": len(sp),
            "ours_cpu_s": round(ours_s, 3), "theirs_cpu_s": round(theirs_s, 3),
            "speed_ratio": round(theirs_s / max(ours_s, 1e-6), 1),
            "max_abs_diff": float(np.abs(ours - theirs).max()), "equal": bool(np.allclose(ours, theirs, 1e-9, 1e-9))}


def bench_mclp(orne: pd.DataFrame, spaces: pd.DataFrame, mirror: Path, coverage: float = 10.0,
               n_new: int = 6) -> dict[str, object]:
    import pulp
    from spopt.locate import MCLP

    from coworking_geo.indicators.access import demand_points
    from coworking_geo.geodesy import commune_centroids, to_ecef_km
    from coworking_geo.typology.siting import allocate

    pts = demand_points(orne, spaces, mirror / GRID, 16, clip=True)
    cent = commune_centroids(orne).reset_index()
    cand = orne[["insee_code"]].merge(cent, on="insee_code")
    far = pts[pts["dist_km"] > coverage].assign(weight=lambda d: d["population"])
    t = time.process_time()
    res, sites = allocate(cand, far, n_new, coverage)
    ours_s = time.process_time() - t
    ours = float(pts.loc[pts["dist_km"] <= coverage, "population"].sum()) + res.covered
    t = time.process_time()
    cell_xyz = to_ecef_km(pts["lon"].to_numpy(), pts["lat"].to_numpy())
    sp_xyz = to_ecef_km(spaces["lon"].to_numpy(), spaces["lat"].to_numpy())
    near = (_gc_km(cell_xyz, sp_xyz) <= coverage).any(axis=0)
    fac_xyz = np.vstack([sp_xyz[near], to_ecef_km(cand["lon"].to_numpy(), cand["lat"].to_numpy())])
    fixed = np.r_[np.ones(near.sum(), bool), np.zeros(len(cand), bool)]
    model = MCLP.from_cost_matrix(_gc_km(cell_xyz, fac_xyz), pts["population"].to_numpy(float), coverage,
                                  p_facilities=int(near.sum()) + n_new, predefined_facilities_arr=fixed)
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    theirs_s = time.process_time() - t
    theirs = float(model.problem.objective.value())
    chosen = {int(j) - int(near.sum()) for j in np.flatnonzero(
        [v.value() > 0.5 for v in model.fac_vars]) if j >= near.sum()}
    ours_idx = set(cand.reset_index(drop=True).index[cand["insee_code"].isin(sites["insee_code"])])
    return {"comparison": "mclp_vs_spopt", "points": len(pts), "places": int(near.sum()), "candidates": len(cand),
            "ours_cpu_s": round(ours_s, 3), "theirs_cpu_s": round(theirs_s, 3),
            "speed_ratio": round(theirs_s / max(ours_s, 1e-6), 1), "ours_covered": round(ours, 1),
            "theirs_covered": round(theirs, 1), "equal": bool(abs(ours - theirs) <= 1e-9 * ours),
            "same_sites": chosen == ours_idx, "method": res.method}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("deps", nargs="*", default=["61"])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "libraries.csv")
    args = parser.parse_args()
    mirror = Path(os.environ.get("COWORKING_GEO_MIRROR", ""))
    if not (mirror / GRID).exists():
        raise SystemExit("needs COWORKING_GEO_MIRROR (the real data mirror)")
    from coworking_geo.indicators.access import decay_from_config

    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    decay = decay_from_config(cfg["indicators"])
    communes, spaces = _inputs(mirror)
    stamp = dt.datetime.now().isoformat(timespec="seconds")
    rows = []
    for dep in args.deps:
        terr = communes[communes["dep_code"].eq(dep)]
        for row in (bench_2sfca(terr, spaces, mirror, decay), bench_mclp(terr, spaces, mirror)):
            rows.append({"when": stamp, "dep": dep, **row})
            print(rows[-1])
    append_csv(args.out, pd.DataFrame(rows).to_dict("records"))  # one header for both kinds of row
    print(f"appended to {args.out}")


if __name__ == "__main__":
    main()
