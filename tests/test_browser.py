"""Open the atlas maps in headless Chromium: polygons and legend drawn, no console error, screenshots.

Uses Debian's /usr/bin/chromium through Playwright (never a downloaded browser).
The France test checks the built atlas (results/france/atlas/) and writes its
screenshots to results/france/atlas/screenshots/ for anyone to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coworking_geo.atlas.build import THEMES, build_map
from coworking_geo.atlas.screenshot import CHROMIUM, check_pages, chromium_available
from coworking_geo.sources import load_sources

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not chromium_available(),
                       reason=f"headless Chromium not found at {CHROMIUM} (apt-get install chromium) "
                              "or the playwright package is missing"),
]

REPO = Path(__file__).resolve().parents[1]
MAX_BYTES = 15_000_000
MAX_OPEN_S = 5.0


def test_fixture_maps_draw_offline(tmp_path: Path) -> None:
    from test_atlas import SOURCE_IDS, make_inputs

    inputs = make_inputs()
    sources = load_sources(REPO / "config" / "sources.yaml")
    paths = []
    for key in THEMES:
        page, _ = build_map(key, inputs, "none", "demo", "démo", SOURCE_IDS, sources)
        paths.append(tmp_path / f"{key}.html")
        paths[-1].write_text(page, encoding="utf-8")
    checks = {c.path.stem: c for c in check_pages(paths, tmp_path / "shots")}
    for key, c in checks.items():
        assert c.console_errors == [], key
        assert c.legend_visible and c.legend_items >= 2, key
        assert c.layer_control, key
        assert "données de démonstration synthétiques" in c.title, key
        # folded provenance: a one-line summary, then the full line (both text of the page)
        assert c.provenance.startswith("Sources : ") and "Sources : données de démonstration synthétiques (coworking-geo" in c.provenance, key
        assert c.screenshot is not None and c.screenshot.stat().st_size > 10_000, key
    # 30 communes + 2 département outlines; the spaces map draws only the 7 communes with a space
    assert checks["territory_class"].polygons == 32
    assert checks["spaces"].polygons == 7 + 2 and checks["spaces"].markers >= 3
    assert checks["priority"].polygons == 6 + 2 and checks["priority"].markers == 6 + 2  # 6 priority points + 2 proposed sites


@pytest.mark.slow
@pytest.mark.mirror
def test_france_atlas_in_chromium() -> None:
    atlas = REPO / "results" / "france" / "atlas"
    pages = [atlas / f"{key}.html" for key in THEMES]
    missing = [p.name for p in pages if not p.exists()]
    if missing:
        pytest.skip(f"France atlas not built ({', '.join(missing)}): "
                    "snakemake --cores 2 --config territory=france results/france/atlas/index.html")
    checks = check_pages(pages, atlas / "screenshots")
    for c in checks:
        size = c.path.stat().st_size
        assert size < MAX_BYTES, f"{c.path.name}: {size / 1e6:.1f} MB"
        assert c.load_s < MAX_OPEN_S, f"{c.path.name}: opened in {c.load_s:.1f} s"
        assert c.console_errors == [], c.path.name
        assert c.legend_visible, c.path.name
        assert c.polygons >= 100, c.path.name       # départements + communes
        assert (atlas / "screenshots" / f"{c.path.stem}.png").exists()
    by = {c.path.stem: c for c in checks}
    assert by["territory_class"].polygons > 34_000
