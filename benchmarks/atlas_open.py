"""Open the one-page atlas and the heaviest of the ten former per-theme maps side by side, in one run.

    PYTHONPATH=src python benchmarks/atlas_open.py france          # needs data/processed/france and results/france

The former map (``territory_profiles``, the heaviest: every commune coloured) is rebuilt with
``coworking_geo.atlas.build.build_map`` from the same processed tables into a temporary folder;
the new atlas is ``results/<t>/atlas/atlas.html`` with its ``communes.js`` and ``data.js``.
Both are opened alternately, ``--repeat`` times each, in one headless Chromium (Debian's
/usr/bin/chromium through Playwright), each in a fresh context: time from navigation to the map
drawn (old: the Leaflet polygons in the overlay pane after load; new: ``window.cgReady`` after
the canvas draw), on two clocks: the driver's wall clock (includes Playwright's own overhead,
about the same for both pages) and the page's clock (navigation start to the draw: the old map's
load event, the new atlas's ``cgReadyAt``). Prints the medians and appends one row to
``benchmarks/results/atlas_open.csv``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def old_map(territory: str, out: Path, key: str = "territory_profiles") -> Path:
    from coworking_geo.atlas.build import build_map, load_inputs
    from coworking_geo.sources.catalogue import load_sources

    proc, res = REPO / "data" / "processed" / territory, REPO / "results" / territory / "tables"
    paths = {k: str(proc / f"{v}.parquet") for k, v in [("communes", "communes"), ("departements", "departements"),
                                                        ("indicators", "indicators"), ("spaces", "spaces"),
                                                        ("space_models", "space_models"), ("programmes", "programmes"),
                                                        ("profiles", "territory_profiles")]}
    paths.update(priority=str(res / "priority_territories.csv"), sites=str(res / "proposed_sites.csv"))
    inp = load_inputs(paths, 300, 4, 20)
    page, _ = build_map(key, inp, "none", territory, territory, {}, load_sources(REPO / "config" / "sources.yaml"))
    path = out / f"{key}.html"
    path.write_text(page, encoding="utf-8")
    return path


def open_time(browser, path: Path, ready: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(wall seconds seen by the driver, page seconds from navigation start to the next frame after drawing)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    t0 = time.perf_counter()
    page.goto(path.as_uri(), wait_until="load", timeout=180_000)
    page.wait_for_function(ready, timeout=180_000)
    page_s = page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame("
                           "() => r((window.cgReadyAt || performance.timing.loadEventEnd - "
                           "performance.timing.navigationStart) / 1000))))")
    wall = time.perf_counter() - t0
    ctx.close()
    return wall, float(page_s)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("territory", nargs="?", default="france")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    from playwright.sync_api import sync_playwright

    from coworking_geo.atlas.screenshot import CHROMIUM, CHROMIUM_ARGS

    atlas = REPO / "results" / args.territory / "atlas"
    new = atlas / "atlas.html"
    if not new.exists():
        sys.exit(f"{new} not built: snakemake --cores 2 --config territory={args.territory}")
    new_bytes = sum((atlas / f).stat().st_size for f in ("atlas.html", "communes.js", "data.js"))
    with tempfile.TemporaryDirectory() as tmp:
        old = old_map(args.territory, Path(tmp))
        old_bytes = old.stat().st_size
        times: dict[str, list[float]] = {"old": [], "new": [], "old_page": [], "new_page": []}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for _ in range(args.repeat):
                for key, path, ready in (("old", old, "() => document.querySelector('.leaflet-overlay-pane canvas') "
                                                      "!== null"), ("new", new, "window.cgReady === true")):
                    wall, page_s = open_time(browser, path, ready)
                    times[key].append(wall)
                    times[f"{key}_page"].append(page_s)
            browser.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    row = {"when": dt.datetime.now().isoformat(timespec="seconds"), "territory": args.territory,
           "old_map": old.name, "old_mb": round(old_bytes / 1e6, 2), "old_open_s": round(med["old"], 2),
           "new_atlas_mb": round(new_bytes / 1e6, 2), "new_open_s": round(med["new"], 2),
           "ratio": round(med["new"] / med["old"], 3), "old_page_s": round(med["old_page"], 2),
           "new_page_s": round(med["new_page"], 2), "page_ratio": round(med["new_page"] / med["old_page"], 3),
           "repeat": args.repeat,
           "old_runs": " ".join(f"{x:.2f}" for x in times["old"]), "new_runs": " ".join(f"{x:.2f}" for x in times["new"]),
           "load_avg": " ".join(f"{x:.1f}" for x in os.getloadavg())}
    print(row)
    out = REPO / "benchmarks" / "results" / "atlas_open.csv"
    new_file = not out.exists()
    with out.open("a", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(row))
        if new_file:
            w.writeheader()
        w.writerow(row)


if __name__ == "__main__":
    main()
