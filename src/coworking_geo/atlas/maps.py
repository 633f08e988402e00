"""Folium map builders that work offline: Leaflet inlined, no CDN, optional tiles.

Every map gets a title, a legend, a layer control, tooltips (commune name and
value), and a provenance line (sources, vintages, licences). Leaflet 1.9.4
and Leaflet.markercluster 1.5.3 are vendored under ``atlas/assets/`` (BSD-2 and
MIT licences beside them) and written *inside* each HTML file, so a map opens
from disk, on a machine without network, as a single self-contained file.
jQuery and Bootstrap, which folium loads by default, are not used.
Geometry must be EPSG:4326 (see :mod:`coworking_geo.atlas.simplify`).
"""

from __future__ import annotations

import html
import json
import re
from typing import Any, cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element, Figure, MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from jinja2 import Template
from markupsafe import Markup

from coworking_geo.atlas.encoding import EncodedPolygons, asset_text
from coworking_geo.atlas.themes import LegendItem, ThemeLayer
from coworking_geo.codes import positions

SCHEME = "coworking-geo-asset:"
LEAFLET_JS = [("leaflet", SCHEME + "leaflet/leaflet.js")]
LEAFLET_CSS = [("leaflet_css", SCHEME + "leaflet/leaflet.css")]
CLUSTER_JS = [("markercluster", SCHEME + "leaflet.markercluster/leaflet.markercluster.js")]
CLUSTER_CSS = [("markercluster_css", SCHEME + "leaflet.markercluster/MarkerCluster.css"),
               ("markercluster_default_css", SCHEME + "leaflet.markercluster/MarkerCluster.Default.css")]
NO_TILES = {"", "none", "null", "off"}

CSS = """
.cg-title{position:absolute;top:10px;left:60px;right:240px;z-index:1000;pointer-events:none;
  font:600 clamp(13px,1.35vw,17px)/1.25 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;}
.cg-title span{background:rgba(255,255,255,.9);padding:4px 10px;border-radius:4px;display:inline-block;max-width:100%;
  box-sizing:border-box;overflow-wrap:break-word;box-shadow:0 1px 4px rgba(0,0,0,.25);pointer-events:auto}
.cg-legend{background:rgba(255,255,255,.92);padding:8px 10px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);
  font:12px/1.35 system-ui,sans-serif;max-width:260px}
.cg-legend h4{margin:4px 0 3px;font-size:13px}
.leaflet-container{background:#eef2f5}
.cg-legend i{display:inline-block;width:14px;height:12px;margin-right:6px;vertical-align:-2px;border:1px solid #777}
.cg-legend i.pt{border-radius:50%}.cg-legend .note{color:#555;font-size:11px;margin-top:4px}
.cg-legend i.dia{transform:rotate(45deg) scale(.8);border:2px solid #fff;outline:1px solid #222;width:11px;height:11px}
.cg-legend i.sq{border:2px solid #fff;outline:1px solid #222;width:10px;height:10px}
.cg-mk{box-sizing:border-box;border:2px solid #fff;outline:1.5px solid #111;box-shadow:0 0 2px rgba(0,0,0,.6)}
.cg-mk.dia{transform:rotate(45deg)}
.cg-prov{background:rgba(255,255,255,.88);padding:2px 6px;font:10.5px/1.35 system-ui,sans-serif;color:#333;
  max-width:min(62vw,760px);border-radius:3px}
.cg-prov summary{cursor:pointer;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;list-style-position:inside}
.cg-prov details[open]{max-height:40vh;overflow:auto}
.cg-prov details[open] summary{white-space:normal}
.cg-popup b{font-size:13px}
"""


def inline_assets(page: str) -> str:
    """Replace the asset links of a rendered page by the assets' text."""
    def js(m: re.Match[str]) -> str:
        return "<script>" + asset_text(m.group(1)).replace("</script", "<\\/script") + "</script>"

    def css(m: re.Match[str]) -> str:
        return "<style>" + asset_text(m.group(1)) + "</style>"

    page = re.sub(r'<script src="' + re.escape(SCHEME) + r'([^"]+)"></script>', js, page)
    page = re.sub(r'<link rel="stylesheet" href="' + re.escape(SCHEME) + r'([^"]+)"\s*/?>', css, page)
    if SCHEME in page:
        raise RuntimeError("an atlas asset link was left in the page")
    return page


def external_links(page: str) -> list[str]:
    """URLs of scripts and style sheets the page would fetch (should be empty)."""
    return re.findall(r'<(?:script[^>]+src|link[^>]+href)="(https?://[^"]+)"', page)


def new_map(bounds: tuple[float, float, float, float], tiles: str) -> folium.Map:
    """A Leaflet map fitted to ``bounds`` (minx, miny, maxx, maxy in degrees), canvas renderer.

    ``tiles`` is a folium tiles name or URL; ``"none"`` draws no tile layer
    (for offline use).
    """
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=True, zoomSnap=0.25, maxZoom=18, minZoom=2)
    m.default_js = LEAFLET_JS
    m.default_css = LEAFLET_CSS
    if str(tiles).strip().lower() not in NO_TILES:
        folium.TileLayer(tiles, name="Fond de carte", control=True).add_to(m)
    minx, miny, maxx, maxy = bounds
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    cast(Figure, m.get_root()).header.add_child(Element(f"<style>{CSS}</style>"), name="cg_css")
    return m


class PolygonLayer(Layer):
    """Polygons from a compact integer encoding (:func:`encode_polygons`), one style per class.

    ``names``/``values`` feed the tooltip (``Commune`` / ``value_label``);
    ``classes`` index ``styles``. No tooltip when ``names`` is None.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.featureGroup();
(function () {
    var d = {{ this.payload }};
    var s = Math.pow(10, d.p);
    function ring(r) {
        var out = new Array(r.length / 2), x = 0, y = 0;
        for (var i = 0, j = 0; i < r.length; i += 2, j++) { x += r[i]; y += r[i + 1]; out[j] = [y / s, x / s]; }
        return out;
    }
    for (var k = 0; k < d.g.length; k++) {
        var latlngs = d.g[k].map(function (poly) { return poly.map(ring); });
        var opts = Object.assign({}, d.styles[d.c ? d.c[k] : 0], {i: k, smoothFactor: 1.2,
            interactive: !!d.n});
        {{ this.get_name() }}.addLayer(L.polygon(latlngs, opts));
    }
    if (d.n) {
        {{ this.get_name() }}.bindTooltip(function (layer) {
            var i = layer.options.i;
            var esc = function (t) { var e = document.createElement("span"); e.textContent = t; return e.innerHTML; };
            return "<b>" + esc(d.n[i]) + "</b><br>" + esc(d.label) + " : " + esc(d.v[i]);
        }, {sticky: true});
    }
})();
{% endmacro %}
""")

    def __init__(self, geoms: Any, precision: int, styles: list[dict[str, Any]], classes: list[int] | None,
                 names: list[str] | None, values: list[str] | None, value_label: str, name: str,
                 show: bool = True) -> None:
        """``geoms``: polygons (EPSG:4326) or the same already encoded (:class:`EncodedPolygons`)."""
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "PolygonLayer"
        enc = geoms if isinstance(geoms, EncodedPolygons) else EncodedPolygons.of(geoms, precision)
        data: dict[str, Any] = {"p": precision, "styles": styles, "label": value_label}
        if classes is not None:
            data["c"] = classes
        if names is not None:
            data["n"], data["v"] = names, values
        self.n_polygons = len(enc)
        head = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        self.payload = Markup((head[:-1] + ',"g":' + enc.array() + "}").replace("</", "<\\/"))


def add_choropleth(m: folium.Map, communes: gpd.GeoDataFrame, layer: ThemeLayer, name: str | None = None,
                   precision: int = 4, show: bool = True, encoded: EncodedPolygons | None = None) -> PolygonLayer:
    """Add the communes coloured by ``layer`` as one layer with a tooltip (commune, value).

    ``communes`` needs ``insee_code``, ``name`` and polygons in EPSG:4326;
    communes without a colour in ``layer`` are left out. ``encoded``: the communes' polygons already
    encoded at ``precision`` (:class:`EncodedPolygons`, one per row), reused instead of encoding them again.
    """
    all_codes = communes["insee_code"].astype(str)
    pos = np.flatnonzero(positions(layer.colours.index.astype(str), all_codes) >= 0)
    g = communes.iloc[pos]
    codes = all_codes.iloc[pos]
    colours = layer.colours.reindex(pd.Index(codes)).astype(str)
    palette = {c: i for i, c in enumerate(dict.fromkeys(colours))}
    styles = [{"fillColor": c, "color": c, "weight": 0.5, "opacity": 0.9, "fillOpacity": 0.85} for c in palette]
    names = (g["name"].astype(str) + " (" + codes + ")").tolist()
    values = layer.labels.reindex(pd.Index(codes)).astype(str).tolist()
    geoms = encoded.take(pos) if encoded is not None else g.geometry.values
    pl = PolygonLayer(geoms, precision, styles, colours.map(palette).astype(int).tolist(), names, values,
                      layer.value_label, name or layer.legend_title, show=show)
    pl.add_to(m)
    return pl


def add_outline(m: folium.Map, gdf: gpd.GeoDataFrame, name: str, precision: int = 4, weight: float = 0.8,
                show: bool = True, encoded: EncodedPolygons | None = None) -> PolygonLayer:
    """Add boundaries (e.g. départements) as thin dark lines, not clickable (``encoded``: as in
    :func:`add_choropleth`)."""
    style = {"fill": False, "color": "#444444", "weight": weight, "opacity": 0.7}
    pl = PolygonLayer(encoded if encoded is not None else gdf.geometry.values, precision, [style], None, None,
                      None, "", name, show=show)
    pl.add_to(m)
    return pl


class PointLayer(JSCSSMixin, Layer):
    """Circle markers from a compact JSON array, optionally clustered, with popup and tooltip.

    ``points`` is a list of ``[lat, lon, colour, popup_html, tooltip_text]``. ``shape`` ``"circle"``
    draws canvas circle markers; ``"diamond"`` or ``"square"`` draws outlined DOM markers (for the
    State programmes, so they cannot be mistaken for a model colour).
    """

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = {% if this.cluster %}L.markerClusterGroup({showCoverageOnHover: false, maxClusterRadius: 45,
    chunkedLoading: true}){% else %}L.featureGroup(){% endif %};
(function () {
    var pts = {{ this.points|tojson }};
    for (var i = 0; i < pts.length; i++) {
        var p = pts[i];
        {% if this.shape == "circle" %}var mk = L.circleMarker([p[0], p[1]], {radius: {{ this.radius }}, color: "#222",
            weight: 1, fillColor: p[2], fillOpacity: 0.9});{% else %}var sz = {{ 2 * this.radius }};
        var mk = L.marker([p[0], p[1]], {icon: L.divIcon({className: "", iconSize: [sz, sz],
            html: '<div class="cg-mk {{ "dia" if this.shape == "diamond" else "sq" }}" style="width:' + sz + 'px;height:'
                + sz + 'px;background:' + p[2] + '"></div>'})});{% endif %}
        mk.bindPopup(p[3]);
        mk.bindTooltip(p[4]);
        {{ this.get_name() }}.addLayer(mk);
    }
})();
{% endmacro %}
""")

    def __init__(self, points: list[list[Any]], name: str, cluster: bool = True, radius: int = 6,
                 show: bool = True, shape: str = "circle") -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "PointLayer"
        self.points = points
        self.cluster = cluster
        self.radius = radius
        if shape not in ("circle", "diamond", "square"):
            raise ValueError(f"PointLayer: unknown shape {shape!r}")
        self.shape = shape
        self.default_js = CLUSTER_JS if cluster else []
        self.default_css = CLUSTER_CSS if cluster else []


class _Control(MacroElement):
    """A Leaflet control holding fixed HTML at a corner of the map."""

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
{{ this.get_name() }}.onAdd = function () {
    var div = L.DomUtil.create("div", {{ this.css_class|tojson }});
    div.innerHTML = {{ this.html|tojson }};
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
};
{{ this.get_name() }}.addTo({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self, html_text: str, position: str, css_class: str) -> None:
        super().__init__()
        self._name = "Control"
        self.html = html_text
        self.position = position
        self.css_class = css_class


def legend_html(sections: list[tuple[str, list[LegendItem], str]], point_sections: int = 0) -> str:
    """HTML of a legend: sections of (title, items, note); the last ``point_sections`` use round swatches
    unless an item names its own shape (``LegendItem.shape``: pt, dia, sq)."""
    parts = []
    for k, (title, items, note) in enumerate(sections):
        round_ = k >= len(sections) - point_sections
        rows = "".join(f'<div><i class="{it.shape or ("pt" if round_ else "")}" style="background:{it.colour}"></i>'
                       f"{html.escape(it.label)}</div>" for it in items)
        extra = f'<div class="note">{html.escape(note)}</div>' if note else ""
        parts.append(f"<h4>{html.escape(title)}</h4>{rows}{extra}")
    return "".join(parts)


def add_legend(m: folium.Map, sections: list[tuple[str, list[LegendItem], str]], point_sections: int = 0) -> None:
    """Add the legend (bottom right)."""
    _Control(legend_html(sections, point_sections), "bottomright", "cg-legend").add_to(m)


FIT_TITLE_JS = """(function () {
  function fit() {
    var t = document.querySelector('.cg-title'), c = document.querySelector('.leaflet-top.leaflet-right');
    if (!t) return;
    var w = 0;
    if (c) { for (var i = 0; i < c.children.length; i++) { w = Math.max(w, c.children[i].getBoundingClientRect().width); } }
    t.style.right = (w + 20) + 'px';
  }
  window.addEventListener('load', fit); window.addEventListener('resize', fit); setTimeout(fit, 0);
})();"""


def add_title(m: folium.Map, title: str) -> None:
    """Add the map title, top left; it wraps and keeps clear of the layer control (resized in the page)."""
    cast(Figure, m.get_root()).html.add_child(Element(f'<div class="cg-title"><span>{html.escape(title)}</span></div>'),
                                name="cg_title")
    cast(Figure, m.get_root()).html.add_child(Element(f"<script>{FIT_TITLE_JS}</script>"), name="cg_fit_title")


def add_provenance(m: folium.Map, line: str, short: str | None = None) -> None:
    """Add the provenance, bottom left: a one-line summary (``short``) that unfolds into the full line
    (sources, vintages, licences). Both are text of the page."""
    if short is None:
        _Control(html.escape(line), "bottomleft", "cg-prov").add_to(m)
        return
    body = f"<details><summary>{html.escape(short)}</summary>{html.escape(line)}</details>"
    _Control(body, "bottomleft", "cg-prov").add_to(m)


def add_layer_control(m: folium.Map) -> None:
    """Add the layer control, expanded, top right."""
    folium.LayerControl(position="topright", collapsed=False).add_to(m)


def render_map(m: folium.Map, title: str) -> str:
    """The map as one self-contained HTML page (assets inlined, no external script)."""
    cast(Figure, m.get_root()).title = title
    page = m.get_root().render()
    page = page.replace("<head>", '<head>\n<meta charset="utf-8">', 1) if "charset" not in page[:500] else page
    page = inline_assets(page)
    bad = external_links(page)
    if bad:
        raise RuntimeError(f"the map would load external resources: {bad}")
    return page
