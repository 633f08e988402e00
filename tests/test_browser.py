"""Open the atlas maps in headless Chromium: polygons and legend drawn, no console error, screenshots.

Uses Debian's /usr/bin/chromium through Playwright (never a downloaded browser).
The France test checks the built atlas (results/france/atlas/) and writes its
screenshots to results/france/atlas/screenshots/ for anyone to look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from coworking_geo.atlas.build import THEMES, build_map
from coworking_geo.atlas.screenshot import CHROMIUM, CHROMIUM_ARGS, check_pages, chromium_available, screenshot_pages
from coworking_geo.sources.catalogue import load_sources

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


def _open_atlas(page, path: Path) -> list[str]:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.goto(path.as_uri(), wait_until="load", timeout=120_000)
    page.wait_for_function("window.cgReady === true", timeout=120_000)
    return errors


@pytest.mark.slow
@pytest.mark.mirror
@pytest.mark.parametrize("territory", ["france", "dep-61"])
def test_atlas_search_alencon_and_switch_indicator(territory: str) -> None:
    """Type "Alençon" in the search box: the map zooms onto the commune; then switch the indicator.

    Screenshots (1400 and 420 px wide, and after the search) go to results/<t>/atlas/screenshots/.
    """
    from playwright.sync_api import sync_playwright

    atlas = REPO / "results" / territory / "atlas" / "atlas.html"
    if not atlas.exists():
        pytest.skip(f"results/{territory}/atlas/atlas.html not built (snakemake --config territory={territory})")
    shots = atlas.parent / "screenshots"
    shots.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            errors = _open_atlas(page, atlas)
            page.screenshot(path=str(shots / "atlas_1400.png"))
            scale = page.inner_text(".leaflet-control-scale-line")
            assert re.fullmatch(r"\d+ k?m", scale), scale   # metric scale bar
            z0 = page.evaluate("cgMap.getZoom()")
            # accents folded: "alencon" finds Alençon (commune 61001)
            page.fill("#cg-q", "alencon")
            assert "Alençon" in page.inner_text("#cg-res li:first-child")
            page.fill("#cg-q", "")
            page.type("#cg-q", "Alençon")
            page.keyboard.press("Enter")
            page.wait_for_function(f"cgMap.getZoom() > {z0} + {2 if territory == 'france' else 0.5}", timeout=10_000)
            inside = page.evaluate("""() => {
                const i = CG_GEOM.k.indexOf('61001'), b = CG_GEOM.b[i], s = Math.pow(10, CG_GEOM.p);
                const c = cgMap.getCenter();
                return c.lng >= b[0] / s && c.lng <= b[2] / s && c.lat >= b[1] / s && c.lat <= b[3] / s;
            }""")
            assert inside, "the map is not centred on Alençon"
            assert page.input_value("#cg-q") == "Alençon"
            page.screenshot(path=str(shots / "atlas_search_alencon.png"))
            # filters: unticking a model removes its places from the count
            page.click("#cg-fbtn")
            before = page.inner_text("#cg-fbtn")
            box = page.locator('#cg-filters input[data-filter="models"]').first
            box.uncheck()
            assert page.inner_text("#cg-fbtn") != before
            box.check()
            assert page.inner_text("#cg-fbtn") == before
            page.select_option("#cg-ind", "access_distance")
            assert page.evaluate("location.hash") == "#access_distance"
            assert page.inner_text("#cg-legend h4") == "Distance"
            assert "10 à 20 km" in page.inner_text("#cg-legend")
            page.select_option("#cg-ind", "commuting_share")
            legend = page.inner_text("#cg-legend")
            if territory == "france":   # flows cover Île-de-France and the Orne only: said in title and legend
                assert "(communes aux flux connus)" in page.title()
                assert "Connu pour 1\u202f652 communes sur 34\u202f935" in legend
            assert errors == []
            small = browser.new_page(viewport={"width": 420, "height": 860})
            errors = _open_atlas(small, atlas)
            title = small.locator(".cg-head h1").bounding_box()
            assert title and title["width"] > 300   # the title keeps its width at 420 px (no letter per line)
            assert not small.is_visible("#cg-legend .cg-lb")    # at 420 px the legend opens on demand
            small.click("#cg-legend .cg-lt")
            assert small.is_visible("#cg-legend .cg-lb")
            if territory == "france":  # the five overseas départements stay on screen at 420 px, the legend open
                insets = small.locator(".cg-inset")
                assert insets.count() == 5 and all(insets.nth(i).is_visible() for i in range(5))
                lb = small.locator("#cg-legend").bounding_box()
                for i in range(5):
                    b = insets.nth(i).bounding_box()
                    assert b and lb and (b["x"] + b["width"] <= lb["x"] or b["y"] >= lb["y"] + lb["height"]), i
            small.screenshot(path=str(shots / "atlas_420.png"))
            assert errors == []
        finally:
            browser.close()


def test_france_pages_fit_a_phone_and_a_desktop(tmp_path: Path) -> None:
    """The France report, atlas home page, one-page atlas and the Orne portrait at 1400 and 420 px: nothing
    wider than the window (a reader never scrolls sideways to find a figure), no console error."""
    res = REPO / "results" / "france"
    pages = {"report": res / "report.html", "index": res / "atlas" / "index.html", "atlas": res / "atlas" / "atlas.html",
             "portrait": res / "portraits" / "61.html"}
    if not all(p.exists() for p in pages.values()):
        pytest.skip("no France run: COWORKING_GEO_MIRROR=../shared/data snakemake --cores 2 --config territory=france")
    shots = screenshot_pages(pages, tmp_path)
    assert len(shots) == 8
    assert [(s["name"], s["width"], s["overflow_px"]) for s in shots if s["overflow_px"] > 0] == []
    assert [(s["name"], s["width"], s["console_errors"]) for s in shots if s["console_errors"]] == []

