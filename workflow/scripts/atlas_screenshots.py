"""Rule atlas_screenshots: the atlas, its home page, the report and one portrait in headless Chromium,
at 1400 and 420 px wide; screenshots and the checks (time to open, console errors)."""

import json
from pathlib import Path

from coworking_geo.atlas.screenshot import screenshot_pages
from coworking_geo.io import write_text
from coworking_geo.log import snakemake_script

with snakemake_script(snakemake) as log:  # noqa: F821
    smk = snakemake  # noqa: F821
    i = smk.input
    portraits = Path(i.portraits)
    pages = {"atlas": i.atlas, "index": i.index, "report": i.report}
    first = sorted(p for p in portraits.glob("*.html") if p.name != "index.html")
    chosen = portraits / f"{smk.params.portrait}.html"
    if chosen.exists() or first:
        pages["portrait"] = chosen if chosen.exists() else first[0]
    rows = screenshot_pages(pages, Path(smk.output.checks).parent)
    for r in rows:
        log.info("%s at %d px: opened in %.2f s, %d console errors", r["name"], r["width"], r["open_s"],
                 len(r["console_errors"]))
    write_text(smk.output.checks, json.dumps(rows, ensure_ascii=False, indent=2))
