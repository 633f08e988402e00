"""Rule atlas_screenshots: open each map in headless Chromium, screenshot it, record the checks."""

import json
from dataclasses import asdict
from pathlib import Path

from coworking_geo.atlas.screenshot import check_pages
from coworking_geo.io import write_text
from coworking_geo.log import snakemake_script

with snakemake_script(snakemake) as log:  # noqa: F821
    smk = snakemake  # noqa: F821
    checks = check_pages(list(smk.input.maps), Path(smk.output.checks).parent)
    rows = []
    for c in checks:
        row = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(c).items()}
        row["bytes"] = c.path.stat().st_size
        rows.append(row)
        log.info("%s: %.1f MB, opened in %.2f s, %d polygons, %d markers, legend %s, %d console errors",
                 c.path.name, row["bytes"] / 1e6, c.load_s, c.polygons, c.markers, c.legend_visible,
                 len(c.console_errors))
    write_text(smk.output.checks, json.dumps(rows, ensure_ascii=False, indent=2))
