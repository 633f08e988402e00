"""Benchmark: rebuild the territories stage for France from the mirror and check it takes under 60 s.

    python benchmarks/bench_territories.py [territory] [--limit SECONDS]

Runs the three territories rules through Snakemake (forced, ``--nolock``) and
prints the wall time and each rule's time from its ``benchmark:`` file.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RULES = ["territories_crosswalk", "territories_admin", "territories_communes"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("territory", nargs="?", default="france")
    ap.add_argument("--limit", type=float, default=60.0, help="maximum wall time in seconds")
    args = ap.parse_args()
    t = args.territory
    targets = [f"data/processed/{t}/communes.parquet", f"data/processed/{t}/departements.parquet"]
    cmd = ["snakemake", "--nolock", "--cores", "2", *targets, "--config", f"territory={t}", "--forcerun", *RULES]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        return proc.returncode
    print(f"territory={t}: territories stage rebuilt in {wall:.1f} s (limit {args.limit:.0f} s)")
    for rule in RULES:
        tsv = REPO / "benchmarks" / "out" / t / "territories" / f"{rule.removeprefix('territories_')}.tsv"
        if tsv.exists():
            with tsv.open() as fh:
                row = next(csv.DictReader(fh, delimiter="\t"))
            print(f"  {rule}: {float(row['s']):.1f} s, max RSS {row['max_rss']} MB")
    return 0 if wall < args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
