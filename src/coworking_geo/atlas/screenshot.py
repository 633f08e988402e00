"""Open atlas maps in headless Chromium (Debian's ``/usr/bin/chromium``) and check them.

For each page: the time until the map is drawn, the console errors, the
number of polygons and markers Leaflet holds, whether the legend is visible,
and a PNG screenshot. Used by ``tests/test_browser.py`` and the
``atlas_screenshots`` rule. No browser is downloaded: Playwright drives the
system Chromium.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from pathlib import Path

CHROMIUM = os.environ.get("COWORKING_GEO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Tile requests cannot succeed offline: their failures are not the map's errors.
TILE_HINTS = ("tile", "openstreetmap", "cartocdn", "basemaps", "arcgisonline", "stamen")

_PROBE = """() => {
  const el = document.querySelector('.folium-map');
  const map = el ? window[el.id] : null;
  let polygons = 0, markers = 0;
  if (map) {
    map.eachLayer(l => {
      if (l instanceof L.Polygon) polygons++;
      else if (l instanceof L.CircleMarker || l instanceof L.Marker) markers++;
      if (L.MarkerClusterGroup && l instanceof L.MarkerClusterGroup) markers += l.getLayers().length;
    });
  }
  const leg = document.querySelector('.cg-legend');
  const r = leg ? leg.getBoundingClientRect() : null;
  return {polygons, markers,
          legend_items: leg ? leg.querySelectorAll('i').length : 0,
          legend_visible: !!(r && r.width > 20 && r.height > 20),
          title: (document.querySelector('.cg-title') || {}).textContent || '',
          provenance: (document.querySelector('.cg-prov') || {}).textContent || '',
          layer_control: !!document.querySelector('.leaflet-control-layers'),
          canvas: document.querySelectorAll('.leaflet-overlay-pane canvas, .leaflet-overlay-pane svg').length};
}"""


@dataclass
class PageCheck:
    """What the browser saw on one page."""

    path: Path
    load_s: float = 0.0
    polygons: int = 0
    markers: int = 0
    legend_items: int = 0
    legend_visible: bool = False
    layer_control: bool = False
    title: str = ""
    provenance: str = ""
    console_errors: list[str] = field(default_factory=list)
    screenshot: Path | None = None


def _record_errors(page: Any, errors: list[str], failed_requests: bool = True) -> None:
    """Append the page's console errors, uncaught exceptions and (optionally) failed requests to ``errors``."""
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    if failed_requests:
        page.on("requestfailed", lambda req: errors.append(f"request failed: {req.url}")
                if not req.url.startswith("data:") else None)


def chromium_available() -> bool:
    """True when the system Chromium and the Playwright package are present."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists()


def _is_tile_error(text: str) -> bool:
    t = text.lower()
    return any(h in t for h in TILE_HINTS)


def check_pages(pages: Iterable[str | os.PathLike[str]], shots_dir: str | os.PathLike[str] | None = None,
                width: int = 1280, height: int = 860, timeout_s: float = 30.0) -> list[PageCheck]:
    """Open each HTML page from disk, wait for Leaflet to draw, probe it and take a screenshot.

    Screenshots go to ``shots_dir/<page stem>.png`` when ``shots_dir`` is given.
    Console errors about tile requests are ignored (they fail offline).
    """
    from playwright.sync_api import sync_playwright

    out: list[PageCheck] = []
    shots = Path(shots_dir) if shots_dir else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for page_path in pages:
                path = Path(page_path).resolve()
                check = PageCheck(path)
                ctx = browser.new_context(viewport={"width": width, "height": height})
                page = ctx.new_page()
                errors: list[str] = []
                _record_errors(page, errors)
                t0 = time.perf_counter()
                page.goto(path.as_uri(), wait_until="load", timeout=timeout_s * 1000)
                page.wait_for_function("() => document.querySelector('.leaflet-overlay-pane canvas, "
                                       ".leaflet-overlay-pane svg') !== null", timeout=timeout_s * 1000)
                page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
                check.load_s = time.perf_counter() - t0
                probe = page.evaluate(_PROBE)
                for k, v in probe.items():
                    if hasattr(check, k):
                        setattr(check, k, v)
                if shots:
                    check.screenshot = shots / f"{path.stem}.png"
                    page.screenshot(path=str(check.screenshot))
                check.console_errors = [e for e in errors if not _is_tile_error(e)]
                out.append(check)
                ctx.close()
        finally:
            browser.close()
    return out


def screenshot_pages(pages: dict[str, str | os.PathLike[str]], shots_dir: str | os.PathLike[str],
                     widths: tuple[int, ...] = (1400, 420), timeout_s: float = 120.0) -> list[dict[str, object]]:
    """Screenshot each page (name → HTML path) at each width: ``<name>_<width>.png`` (full page, except the
    atlas map, which fills the window). Waits for ``window.cgReady`` on the atlas. Returns one record per
    shot: name, width, seconds to open, ``overflow_px`` (how far the page is wider than the window: what a
    reader would have to scroll sideways to see) and console errors (tile failures ignored)."""
    from playwright.sync_api import sync_playwright

    shots = Path(shots_dir)
    shots.mkdir(parents=True, exist_ok=True)
    out: list[dict[str, object]] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for name, page_path in pages.items():
                path = Path(page_path).resolve()
                for w in widths:
                    ctx = browser.new_context(viewport={"width": w, "height": 900})
                    page = ctx.new_page()
                    errors: list[str] = []
                    _record_errors(page, errors, failed_requests=False)
                    t0 = time.perf_counter()
                    page.goto(path.as_uri(), wait_until="load", timeout=timeout_s * 1000)
                    is_map = page.evaluate("() => typeof window.CG_GEOM !== 'undefined'")
                    if is_map:
                        page.wait_for_function("window.cgReady === true", timeout=timeout_s * 1000)
                    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
                    shot = shots / f"{name}_{w}.png"
                    page.screenshot(path=str(shot), full_page=not is_map)
                    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
                    out.append({"name": name, "page": path.name, "width": w, "screenshot": shot.name,
                                "open_s": round(time.perf_counter() - t0, 2), "overflow_px": int(overflow),
                                "console_errors": [e for e in errors if not _is_tile_error(e)]})
                    ctx.close()
        finally:
            browser.close()
    return out
