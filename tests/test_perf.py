"""The vectorised paths of issue 19 give the same answers as the plain ones (no timing here)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from matplotlib.path import Path as MplPath
from scipy import sparse

from coworking_geo.indicators.access import Decay, _pairs, fca_scores, nearest_in_zone, ratios_from_pairs, scores_from_pairs
from coworking_geo.atlas.encoding import EncodedPolygons, encode_polygons
from coworking_geo.atlas.static import colour_paths, flat_rings
from coworking_geo.typology.clustering import cluster
from coworking_geo.codes import positions
from coworking_geo.geodesy import to_ecef_km
from coworking_geo.typology.siting import exact_mclp, greedy_mclp


def _polygons() -> np.ndarray:
    square = shapely.box(0, 0, 10, 10)
    holed = shapely.Polygon([(20, 0), (30, 0), (30, 10), (20, 10)], [[(22, 2), (28, 2), (28, 8), (22, 8)]])  # both CCW
    multi = shapely.MultiPolygon([shapely.box(40, 0, 41, 1), shapely.box(42, 0, 43, 1)])
    return np.array([square, holed, multi, shapely.Polygon()], dtype=object)


def _filled(path: MplPath, x: float, y: float) -> bool:
    """Whether Agg paints the point (x, y) of ``path`` (filled black on a 0–50 × 0–10 frame)."""
    import matplotlib.pyplot as plt
    from matplotlib.collections import PathCollection

    fig = plt.figure(figsize=(5, 1), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.add_collection(PathCollection([path], facecolors="black", edgecolors="none"))
    ax.set_xlim(0, 50)
    ax.set_ylim(0, 10)
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())
    plt.close(fig)
    return bool(img[int(round(100 - 10 * y)), int(round(10 * x)), 0] < 128)


def test_flat_rings_keep_every_ring_and_vertex() -> None:
    geoms = _polygons()
    flat = flat_rings(geoms)
    assert len(flat.xy) == int(shapely.get_num_coordinates(geoms).sum()) == 5 + 10 + 10
    # one MOVETO per ring (1 + 2 + 2 rings), each ring closed; vertices grouped by row, the empty one absent
    assert (flat.codes == MplPath.MOVETO).sum() == 5 and (flat.codes == MplPath.CLOSEPOLY).sum() == 5
    assert flat.owner.tolist() == [0] * 5 + [1] * 10 + [2] * 10
    # the hole (given with the exterior's orientation) is painted as a hole, the band around it filled
    path = MplPath(flat.xy[flat.owner == 1], flat.codes[flat.owner == 1])
    assert not _filled(path, 25, 5) and _filled(path, 21, 5)


def test_colour_paths_one_path_per_colour() -> None:
    flat = flat_rings(_polygons())
    paths, colours = colour_paths(flat, np.array(["#aaaaaa", "#bbbbbb", "#aaaaaa", "#cccccc"], dtype=object))
    assert colours == ["#aaaaaa", "#bbbbbb"]  # the empty polygon has no vertex, hence no path
    assert len(paths[0].vertices) == 15 and len(paths[1].vertices) == 10
    assert _filled(paths[0], 5, 5) and _filled(paths[0], 40.5, 0.5) and not _filled(paths[0], 25, 5)
    assert _filled(paths[1], 21, 5) and not _filled(paths[1], 25, 5) and not _filled(paths[1], 5, 5)


def test_encoded_polygons_take_equals_encoding_the_subset() -> None:
    geoms = _polygons()[:3]
    enc = EncodedPolygons.of(geoms, 4)
    assert json.loads(enc.take(np.array([2, 0])).array()) == encode_polygons(geoms[[2, 0]], 4)


def test_positions_match_isin() -> None:
    index = pd.Index(pd.array(["61001", "61002", "75056"], dtype="string"))
    codes = pd.Series(["75056", "99999", None, "61001"], dtype="string")
    pos = positions(index, codes)
    assert pos.tolist() == [2, -1, -1, 0]
    assert ((pos >= 0) == codes.isin(index).to_numpy()).all()


def test_exact_mclp_is_the_brute_force_optimum() -> None:
    rng = np.random.default_rng(3)
    for _ in range(5):
        A = sparse.csr_matrix(rng.random((9, 30)) < 0.15)
        w = rng.integers(1, 50, 30).astype(float)
        best = max(w[np.asarray(A[list(s)].sum(axis=0)).ravel() > 0].sum() for s in itertools.combinations(range(9), 3))
        res = exact_mclp(A, w, 3, 30, greedy_mclp(A, w, 3))
        assert res.covered == pytest.approx(best) and len(res.chosen) <= 3
        assert res.status == "optimal" and res.method == "exact (HiGHS)" or res.method == "greedy"


def test_2sfca_pairs_reused_equal_a_fresh_search() -> None:
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(-1, 1, 400), rng.uniform(47, 49, 400)
    sp = to_ecef_km(rng.uniform(-1, 1, 30), rng.uniform(47, 49, 30))
    pts = to_ecef_km(lon, lat)
    zone, sp_zone = np.full(400, "metropole"), np.full(30, "metropole")
    pop = rng.uniform(0, 500, 400)
    decay = Decay("none", 20.0)
    R = ratios_from_pairs(_pairs(sp, sp_zone, pts, zone, decay), np.ones(30), pop)
    reused = scores_from_pairs(_pairs(sp, sp_zone, pts, zone, decay), R, 300)  # the first 300 points only
    np.testing.assert_allclose(reused, fca_scores(sp, sp_zone, R, pts[:300], zone[:300], decay), rtol=1e-12)
    assert (reused > 0).sum() > 100
    np.testing.assert_array_equal(nearest_in_zone(sp, sp_zone, pts, zone, threads=2),
                                  nearest_in_zone(sp, sp_zone, pts, zone, threads=1))


def test_cluster_threads_do_not_change_labels() -> None:
    rng = np.random.default_rng(1)
    X = pd.DataFrame(np.vstack([rng.normal(c, 0.3, (60, 3)) for c in (0, 3, 6)]),
                     index=[f"u{i:03d}" for i in range(180)], columns=["a", "b", "c"])
    one = cluster(X, "kmeans", 2, 5, seed=0, n_bootstrap=3, threads=1)
    two = cluster(X, "kmeans", 2, 5, seed=0, n_bootstrap=3, threads=2)
    assert one.k == two.k == 3
    assert one.labels.equals(two.labels)


#: libraries the Snakefile must not import while it parses (they cost ~0.8 s of every no-op run; issue 19).
#: pandas, pyarrow and requests are not listed: Snakemake itself imports them (its config validation, its plugins)
HEAVY_AT_PARSE = ("geopandas", "shapely", "pyproj", "scipy", "sklearn", "rasterio", "matplotlib", "openpyxl")


def test_parsing_the_workflow_imports_no_table_or_geometry_library(repo_root: Path) -> None:
    """A dry run of France parses every rule file and builds the graph: the package modules the Snakefile
    reads (territories, régions, sources, data mode) import none of the heavy libraries; the jobs do."""
    env = dict(os.environ, COWORKING_GEO_MIRROR=str(repo_root / "tests"))  # any folder: the mirror mode, no network
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "snakemake", "-n", "--cores", "1", "--config",
                          "territory=dep-61", "data_mode=mirror"], cwd=repo_root, capture_output=True, text=True,
                         env=env, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in res.stderr.splitlines() if line.startswith("import time:")}
    assert "coworking_geo.territories.regions" in imported and "coworking_geo.sources.catalogue" in imported
    assert sorted(imported & set(HEAVY_AT_PARSE)) == []


# (modules imported, libraries they must not import): the report, synthesis, portraits and atlas home page
# only write text (about 0.9 CPU-s of scipy, scikit-learn and rasterio in the publish job); the clustering
# modules import scikit-learn, kmedoids and scipy.stats only when a fit is computed (2-3 CPU-s in each
# clustering job), and read tables without geopandas (issue 19)
LIGHT_MODULES = [
    (["coworking_geo.report.page", "coworking_geo.report.synthesis", "coworking_geo.report.portraits",
      "coworking_geo.atlas.index"], ["scipy", "sklearn", "rasterio"]),
    (["coworking_geo.typology.space_models", "coworking_geo.typology.territory_profiles",
      "coworking_geo.typology.economic_models", "coworking_geo.typology.clustering", "coworking_geo.io"],
     ["sklearn", "kmedoids", "scipy.stats", "geopandas"]),
]


@pytest.mark.parametrize(("modules", "heavy"), LIGHT_MODULES, ids=["report", "typology"])
def test_light_modules_import_no_heavy_library(modules: list[str], heavy: list[str]) -> None:
    code = (f"import sys; import {', '.join(modules)}; "
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "[]"
