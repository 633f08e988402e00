"""Benchmark the workflow end to end from a cold start, per case.

    python benchmarks/run_workflow.py                      # demo only
    python benchmarks/run_workflow.py demo dep-61 france   # real cases need COWORKING_GEO_MIRROR
    python benchmarks/run_workflow.py stress               # synthetic France-scale case
    python benchmarks/rerun.py france                      # re-run after a clustering parameter
    python benchmarks/run_workflow.py france --keep /tmp/after   # keep the processed tables, then:
    python benchmarks/compare_processed.py BEFORE/france /tmp/after/france

The stress case is the demo generator with 35,000 communes (91 départements, 13 régions),
20,000 spaces and 1 M commuting pairs (``STRESS_CONFIG``, passed as a ``--configfile``).

Each case runs in a fresh copy of the workflow (nothing built, raw files copied
again), so the time is a cold start. The script prints the wall time and the
whole-run CPU-seconds (every process Snakemake started, from ``getrusage``), the
per-rule wall time and peak memory read from Snakemake's ``benchmark:`` files,
the I/O floor (the time needed merely to read the case's raw inputs, measured in
the same run) and the ratios wall / floor and CPU / floor, an estimate of the
share of CPU spent starting interpreters (jobs × the CPU of one bare
``import geopandas`` start-up), and the wall time of a no-op re-run; it appends everything to ``benchmarks/results/workflow.csv`` so runs can be compared
(measured rows are kept in ``benchmarks/results/``; see docs/performance.md).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
TARGETS = {"demo": 60.0, "dep-61": 120.0, "france": 180.0, "stress": 600.0}
# the France-scale stress case: the demo generator at 35,000 communes, 20,000 spaces, 1 M commuting pairs
# (a config file: `--config demo={...}` would pass the numbers as strings)
STRESS_CONFIG = "territory: demo\ndemo: {seed: 7, n_communes: 35000, n_spaces: 20000, n_flows: 1000000}\n"


def workflow_copy(dest: Path) -> None:
    shutil.copy(REPO / "Snakefile", dest / "Snakefile")
    for folder in ("config", "workflow", "profiles"):
        shutil.copytree(REPO / folder, dest / folder)


def append_csv(path: Path, rows: list[dict[str, object]]) -> None:
    """Append rows to a CSV; columns new to the file are added (older rows get them empty)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = pd.DataFrame(rows)
    if path.exists():
        old = pd.read_csv(path, dtype=str, keep_default_na=False)
        if list(old.columns) != list(new.columns):
            pd.concat([old, new.astype(str)], ignore_index=True).to_csv(path, index=False)
            return
    with path.open("a", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        if fh.tell() == 0:
            writer.writeheader()
        writer.writerows(rows)


def read_inputs_seconds(workdir: Path) -> float:
    """Seconds to read and parse every raw file of the run once, with the usual readers and no
    processing: GeoPackages and GeoJSON with pyogrio (Arrow), rasters with rasterio, CSV (zipped or
    not) with ``coworking_geo.io.read_csv_text``, gzipped JSON with ``json``."""
    import gzip
    import json

    import geopandas as gpd
    import rasterio

    from coworking_geo.io import read_csv_text

    start = time.perf_counter()
    for path in sorted((workdir / "data" / "raw").rglob("*")):
        if not path.is_file() or path.name == "MANIFEST.json":
            continue
        name = path.name.lower()
        if name.endswith((".gpkg", ".geojson")):
            gpd.read_file(path, use_arrow=True)
        elif name.endswith(".tif"):
            with rasterio.open(path) as src:
                src.read(1)
        elif name.endswith(".json.gz"):
            json.loads(gzip.decompress(path.read_bytes()))
        elif name.endswith((".csv", ".zip")):
            try:
                read_csv_text(path)
            except Exception:  # a title-lines export (ARCEP) or an exotic layout: bytes only
                path.read_bytes()
        else:
            path.read_bytes()
    return time.perf_counter() - start


def rule_benchmarks(workdir: Path) -> pd.DataFrame:
    rows = []
    for tsv in sorted((workdir / "benchmarks" / "out").rglob("*.tsv")):
        b = pd.read_csv(tsv, sep="\t")
        # per-région jobs (benchmarks/out/{t}/indicators/regions/{reg}/access.tsv) are named access@{reg}
        name = f"{tsv.stem}@{tsv.parent.name}" if tsv.parent.parent.name == "regions" else tsv.stem
        rows.append({"rule": name, "seconds": float(b["s"].iloc[0]), "max_rss_mb": float(b["max_rss"].iloc[0])})
    return pd.DataFrame(rows).sort_values("seconds", ascending=False)


def children_cpu_s() -> float:
    """User + system CPU-seconds of every finished child process of this one (and their children)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def startup_cpu_s() -> float:
    """CPU-seconds of one interpreter start-up that imports geopandas and the package's logging (median of 3)."""
    costs = []
    for _ in range(3):
        before = children_cpu_s()
        subprocess.run([sys.executable, "-c", "import geopandas, coworking_geo.log"], check=True)
        costs.append(children_cpu_s() - before)
    return sorted(costs)[1]


def run_case(case: str, cores: int, keep: Path | None = None) -> dict[str, object]:
    """Run ``case`` cold in a fresh copy; ``keep``: copy its ``data/processed/<case>`` there (for
    ``benchmarks/compare_processed.py``) before the copy is removed."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{case}-") as tmp:
        workdir = Path(tmp)
        workflow_copy(workdir)
        if case == "stress":
            (workdir / "stress.yaml").write_text(STRESS_CONFIG, encoding="utf-8")
            config = ["--configfile", "stress.yaml"]
        else:
            config = ["--config", f"territory={case}"]
        cmd = [sys.executable, "-m", "snakemake", "--cores", str(cores), *config]
        cpu0, start = children_cpu_s(), time.perf_counter()
        res = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env=os.environ.copy())
        wall, cpu = time.perf_counter() - start, children_cpu_s() - cpu0
        if res.returncode != 0:
            print(res.stderr[-4000:], file=sys.stderr)
            raise SystemExit(f"case {case}: the workflow failed")
        start = time.perf_counter()
        subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env=os.environ.copy(), check=True)
        noop = time.perf_counter() - start
        rules = rule_benchmarks(workdir)
        if keep is not None:
            shutil.copytree(workdir / "data" / "processed" / case, keep / case, dirs_exist_ok=True)
        read_s = read_inputs_seconds(workdir)
        startup = startup_cpu_s() * len(rules)
    print(f"\n== {case}: {wall:.1f} s wall (target {TARGETS[case]:.0f} s, ratio {wall / TARGETS[case]:.2f}), "
          f"{cpu:.1f} CPU-s; reading the inputs alone (I/O floor): {read_s:.2f} s; wall / floor = "
          f"{wall / read_s:.1f}, CPU / floor = {cpu / read_s:.1f}; {len(rules)} jobs, start-up ≈ {startup:.1f} CPU-s "
          f"({startup / cpu:.0%} of the CPU); no-op re-run {noop:.1f} s")
    print(f"   peak memory of a rule: {rules.max_rss_mb.max():.0f} MB")
    print(rules.head(12).to_string(index=False))
    return {"case": case, "wall_s": round(wall, 2), "target_s": TARGETS[case], "read_inputs_s": round(read_s, 2),
            "total_over_read": round(wall / read_s, 1), "cpu_s": round(cpu, 1), "cpu_over_read": round(cpu / read_s, 1),
            "jobs": len(rules), "startup_cpu_s_est": round(startup, 1), "startup_share_est": round(startup / cpu, 3),
            "noop_rerun_s": round(noop, 2), "peak_rule_rss_mb": round(rules.max_rss_mb.max(), 1),
            "slowest_rule": rules.rule.iloc[0], "slowest_rule_s": round(rules.seconds.iloc[0], 2),
            "rules": ";".join(f"{r.rule}={r.seconds:.1f}s/{r.max_rss_mb:.0f}MB" for r in rules.itertuples())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", default=["demo"], choices=sorted(TARGETS))
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "workflow.csv")
    parser.add_argument("--keep", type=Path, default=None,
                        help="copy each case's data/processed/<case> into this folder (to compare two builds)")
    args = parser.parse_args()
    if any(c not in ("demo", "stress") for c in args.cases) and not os.environ.get("COWORKING_GEO_MIRROR"):
        raise SystemExit("real cases need COWORKING_GEO_MIRROR (e.g. COWORKING_GEO_MIRROR=../shared/data)")
    stamp = dt.datetime.now().isoformat(timespec="seconds")
    rows = [{"when": stamp, **run_case(c, args.cores, args.keep)} for c in args.cases]
    append_csv(args.out, rows)
    print(f"\nappended to {args.out}")


if __name__ == "__main__":
    main()
