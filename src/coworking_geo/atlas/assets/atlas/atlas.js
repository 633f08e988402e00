/* coworking-geo one-page atlas: communes drawn once on a canvas, indicator from a menu, search, filters.
   Reads window.CG_GEOM (communes.js) and window.CG_DATA (data.js). Plain JS, Leaflet 1.x. */
(function () {
  "use strict";
  var G = window.CG_GEOM, D = window.CG_DATA, S = Math.pow(10, G.p), N = G.g.length;
  var NA = "#d9d9d9", nf = {};
  function fmt(v, f) {
    if (v === null || v === undefined) return "non connu";
    var key = f.dec;
    if (!nf[key]) nf[key] = new Intl.NumberFormat("fr-FR", {minimumFractionDigits: f.dec, maximumFractionDigits: f.dec});
    var x = v / (f.div || 1);
    return (f.sign && x > 0 ? "+" : "") + nf[key].format(x) + (f.unit || "");
  }
  function fold(s) { return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[-'’]/g, " "); }
  function esc(t) { var e = document.createElement("span"); e.textContent = t; return e.innerHTML; }

  // ---- geometry: Web Mercator unit coordinates (0..1), once ----
  function merc(lon, lat) {
    var s = Math.sin(lat * Math.PI / 180);
    return [(lon + 180) / 360, 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)];
  }
  // each geometry: its rings in Web Mercator (polygon structure is not needed on a canvas filled even-odd)
  function decode(list) {
    return list.map(function (polys) {
      var rings = [];
      polys.forEach(function (poly) {
        poly.forEach(function (ring) {
          var out = new Float64Array(ring.length), x = 0, y = 0;
          for (var i = 0; i < ring.length; i += 2) {
            x += ring[i]; y += ring[i + 1];
            var m = merc(x / S, y / S); out[i] = m[0]; out[i + 1] = m[1];
          }
          rings.push(out);
        });
      });
      return rings;
    });
  }
  // integer bounding box [minx, miny, maxx, maxy] of each commune (units of 10^-p degrees), without decoding
  G.b = G.g.map(function (polys) {
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    polys.forEach(function (poly) {
      poly.forEach(function (ring) {
        for (var i = 0, x = 0, y = 0; i < ring.length; i += 2) {
          x += ring[i]; y += ring[i + 1];
          if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
        }
      });
    });
    return [x0, y0, x1, y1];
  });
  // the commune rings are decoded on first need (a choropleth, a zoom showing borders, a hover): a map of
  // proportional symbols at low zoom paints the département shapes, which look the same
  var geoms = null, deps = decode(G.d), box = new Float64Array(4 * N), cen = new Float64Array(2 * N);
  function communes() { if (!geoms) { geoms = decode(G.g); G.g = null; } return geoms; }
  for (var i = 0; i < N; i++) {
    var b = G.b[i], a = merc(b[0] / S, b[3] / S), c = merc(b[2] / S, b[1] / S);
    box[4 * i] = a[0]; box[4 * i + 1] = a[1]; box[4 * i + 2] = c[0]; box[4 * i + 3] = c[1];
    cen[2 * i] = (a[0] + c[0]) / 2; cen[2 * i + 1] = (a[1] + c[1]) / 2;
  }
  function inside(i, x, y) {
    var hit = false;
    communes()[i].forEach(function (r) {
      for (var a = 0, b = r.length - 2; a < r.length; b = a, a += 2) {
        if ((r[a + 1] > y) !== (r[b + 1] > y) && x < (r[b] - r[a]) * (y - r[a + 1]) / (r[b + 1] - r[a + 1]) + r[a]) hit = !hit;
      }
    });
    return hit;
  }

  var state = {ind: D.indicators[0], sel: -1, places: true};
  D.indicators.forEach(function (ind) { if (ind.key === location.hash.slice(1)) state.ind = ind; });
  var P = D.places, nP = P.rows.length, pm = new Float64Array(2 * nP), vis = new Uint8Array(nP).fill(1), pcol = [];
  P.rows.forEach(function (r, j) { var m = merc(r[1], r[0]); pm[2 * j] = m[0]; pm[2 * j + 1] = m[1];
    pcol.push(r[5] >= 0 ? P.colours[r[5]] : "#777"); });
  function colourOf(i) {
    var ind = state.ind;
    if (ind.kind === "symbols") return "#f3f3f3";
    var k = ind.c[i];
    return k < 0 ? NA : ind.legend[k].c;
  }

  // ---- canvas layer: all communes grouped by colour, then symbols, then the selection ----
  var Choro = L.Layer.extend({
    initialize: function (filter, places) { this._filter = filter; this._places = places; },
    onAdd: function (map) {
      this._map = map;
      this._c = L.DomUtil.create("canvas", "cg-canvas leaflet-zoom-hide");
      map.getPanes().overlayPane.appendChild(this._c);
      map.on("moveend resize zoomend", this.redraw, this);
      this.redraw();
    },
    onRemove: function (map) { map.off("moveend resize zoomend", this.redraw, this); this._c.remove(); },
    redraw: function () {
      var map = this._map, size = map.getSize(), dpr = window.devicePixelRatio || 1, cv = this._c;
      L.DomUtil.setPosition(cv, map.containerPointToLayerPoint([0, 0]));
      cv.width = size.x * dpr; cv.height = size.y * dpr; cv.style.width = size.x + "px"; cv.style.height = size.y + "px";
      var ctx = cv.getContext("2d"); ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      var sc = 256 * Math.pow(2, map.getZoom()), o = map.getPixelBounds().min, ox = o.x, oy = o.y;
      var x0 = ox / sc, y0 = oy / sc, x1 = (ox + size.x) / sc, y1 = (oy + size.y) / sc, groups = {}, f = this._filter;
      for (var i = 0; i < N; i++) {
        if (f && !f(i)) continue;
        if (box[4 * i + 2] < x0 || box[4 * i] > x1 || box[4 * i + 3] < y0 || box[4 * i + 1] > y1) continue;
        var col = colourOf(i); (groups[col] = groups[col] || []).push(i);
      }
      function trace(rings) {
        rings.forEach(function (r) {
          ctx.moveTo(r[0] * sc - ox, r[1] * sc - oy);
          for (var k = 2; k < r.length; k += 2) ctx.lineTo(r[k] * sc - ox, r[k + 1] * sc - oy);
          ctx.closePath();
        });
      }
      var fine = map.getZoom() >= 8;
      if (state.ind.kind === "symbols" && !fine && !f) {  // uniform fill: the départements suffice
        ctx.beginPath(); deps.forEach(function (g) { trace(g); }); ctx.fillStyle = colourOf(0); ctx.fill("evenodd");
        groups = {};
      } else communes();
      // small batches: a canvas path of a million vertices gets slow to build in Chromium
      Object.keys(groups).forEach(function (col) {
        ctx.fillStyle = col; ctx.strokeStyle = "rgba(255,255,255,.8)"; ctx.lineWidth = 0.6;
        var list = groups[col];
        for (var a = 0; a < list.length; a += 200) {
          ctx.beginPath();
          for (var j = a; j < Math.min(a + 200, list.length); j++) trace(geoms[list[j]]);
          ctx.fill("evenodd"); if (fine) ctx.stroke();
        }
      });
      ctx.beginPath(); deps.forEach(function (g) { trace(g); });
      ctx.strokeStyle = "rgba(60,60,60,.7)"; ctx.lineWidth = 0.8; ctx.stroke();
      var ind = state.ind;
      if (ind.kind === "symbols") {
        var k = symScale(), order = [];
        for (i = 0; i < N; i++) if (ind.s[i] > 0 && (!f || f(i))) order.push(i);
        order.sort(function (a, b) { return ind.s[b] - ind.s[a]; });
        ctx.fillStyle = "rgba(230,85,13,.55)"; ctx.strokeStyle = "#8c2d04"; ctx.lineWidth = 1;
        order.forEach(function (i) {
          ctx.beginPath(); ctx.arc(cen[2 * i] * sc - ox, cen[2 * i + 1] * sc - oy, Math.max(1.5, k * Math.sqrt(ind.s[i])), 0, 2 * Math.PI);
          ctx.fill(); ctx.stroke();
        });
      }
      if (this._places && state.places) {
        ctx.lineWidth = 1; ctx.strokeStyle = "#222";
        for (var j = 0; j < nP; j++) {
          if (!vis[j]) continue;
          var px = pm[2 * j] * sc - ox, py = pm[2 * j + 1] * sc - oy;
          if (px < -6 || py < -6 || px > size.x + 6 || py > size.y + 6) continue;
          ctx.beginPath(); ctx.arc(px, py, 4.5, 0, 2 * Math.PI); ctx.fillStyle = pcol[j]; ctx.fill(); ctx.stroke();
        }
      }
      if (state.sel >= 0 && (!f || f(state.sel))) {
        ctx.beginPath(); trace(communes()[state.sel]); ctx.strokeStyle = "#e00"; ctx.lineWidth = 2.5; ctx.stroke();
      }
    },
    pickPlace: function (e) {
      if (!this._places || !state.places) return -1;
      var map = this._map, sc = 256 * Math.pow(2, map.getZoom()), o = map.getPixelBounds().min, p = e.containerPoint;
      var best = -1, bd = 36;
      for (var j = 0; j < nP; j++) {
        if (!vis[j]) continue;
        var dx = pm[2 * j] * sc - o.x - p.x, dy = pm[2 * j + 1] * sc - o.y - p.y, d = dx * dx + dy * dy;
        if (d < bd) { bd = d; best = j; }
      }
      return best;
    },
    pick: function (e) {
      var map = this._map, sc = 256 * Math.pow(2, map.getZoom()), p = map.getPixelBounds().min.add(e.containerPoint);
      var x = p.x / sc, y = p.y / sc, f = this._filter;
      for (var i = 0; i < N; i++) {
        if (f && !f(i)) continue;
        if (x < box[4 * i] || x > box[4 * i + 2] || y < box[4 * i + 1] || y > box[4 * i + 3]) continue;
        if (inside(i, x, y)) return i;
      }
      return -1;
    }
  });
  function symScale() { return state.ind.rmax / Math.sqrt(state.ind.ref); }  // fixed: same in every territory

  // ---- main map ----
  var v = D.view, map = L.map("map", {zoomSnap: 0.25, minZoom: 2, maxZoom: 17, zoomAnimation: false, preferCanvas: true});
  window.cgMap = map;
  map.fitBounds([[v[1], v[0]], [v[3], v[2]]]);
  if (window.CG_TILES) L.tileLayer(window.CG_TILES.url, {attribution: window.CG_TILES.attr, opacity: 0.6}).addTo(map);
  L.control.scale({imperial: false, metric: true, position: "bottomright"}).addTo(map);
  var choro = new Choro(null, true).addTo(map);
  var insets = [];
  function buildInsets() { (D.insets || []).forEach(function (item) {
    var dep = item[0];
    var idx = [], mem = new Uint8Array(N);
    for (var i = 0; i < N; i++) if (G.k[i].indexOf(dep) === 0) { idx.push(i); mem[i] = 1; }
    if (!idx.length || idx.length === N) return;
    var div = document.createElement("div"); div.className = "cg-inset";
    div.innerHTML = "<span>" + esc(item[1]) + "</span>";
    document.getElementById("cg-insets").appendChild(div);
    var m = L.map(div, {attributionControl: false, zoomControl: false, dragging: false, scrollWheelZoom: false,
      doubleClickZoom: false, boxZoom: false, keyboard: false, zoomAnimation: false, zoomSnap: 0.1});
    var mb = [Infinity, Infinity, -Infinity, -Infinity];
    idx.forEach(function (i) { var b = G.b[i]; mb = [Math.min(mb[0], b[0]), Math.min(mb[1], b[1]), Math.max(mb[2], b[2]), Math.max(mb[3], b[3])]; });
    var bounds = [[mb[1] / S, mb[0] / S], [mb[3] / S, mb[2] / S]];
    m.fitBounds(bounds, {padding: [2, 2]});
    var layer = new Choro(function (i) { return mem[i] === 1; }).addTo(m);
    div.addEventListener("click", function () { map.fitBounds(bounds); });
    div.title = "Afficher ce territoire sur la carte principale";
    insets.push(layer);
  }); }

  // ---- places, laureates and proposed sites ----
  var siteLayer = L.layerGroup().addTo(map);
  var flt = {types: {}, models: {}, labels: {}, vintages: {}};
  function placeVisible(r) {
    var t = r[4].length ? r[4].some(function (x) { return flt.types[x] !== false; }) : flt.types[-1] !== false;
    var lab = r[6].length ? r[6].some(function (x) { return flt.labels[x] !== false; }) : flt.labels[-1] !== false;
    return t && lab && flt.models[r[5]] !== false && flt.vintages[r[7]] !== false;
  }
  function placeHtml(r) {
    var com = r[3] >= 0 ? G.n[r[3]] : "";
    var lines = ["<b>" + esc(r[2]) + "</b>", "Commune : " + esc(com),
      "Type : " + esc(r[4].map(function (x) { return P.types[x]; }).join(", ") || "non précisé")];
    if (r[5] >= 0) lines.push("Modèle : " + esc(P.models[r[5]]));
    if (r[6].length) lines.push("Label : " + esc(r[6].map(function (x) { return P.labels[x]; }).join(", ")));
    if (r[7] >= 0) lines.push("Millésime : " + esc(P.vintages[r[7]]));
    if (r[8]) lines.push("Source : " + esc(r[8]));
    return lines.join("<br>");
  }
  function openPlace(j) { var r = P.rows[j]; L.popup().setLatLng([r[0], r[1]]).setContent(placeHtml(r)).openOn(map); }
  function drawPlaces() {
    var n = 0;
    P.rows.forEach(function (r, j) { vis[j] = placeVisible(r) ? 1 : 0; n += vis[j]; });
    document.getElementById("cg-fbtn").textContent = "Filtres des lieux (" + n.toLocaleString("fr-FR") + ")";
    choro.redraw();
  }
  map.on("click", function (e) { var j = choro.pickPlace(e); if (j >= 0) openPlace(j); });
  document.getElementById("cg-showp").addEventListener("change", function () {
    state.places = this.checked; choro.redraw();
  });
  (D.sites || []).forEach(function (s) {
    L.marker([s[0], s[1]], {icon: L.divIcon({className: "", iconSize: [14, 14],
      html: '<div style="width:12px;height:12px;background:#d7191c;border:2px solid #fff;outline:1px solid #222;transform:rotate(45deg)"></div>'})})
      .bindTooltip("Lieu proposé n°" + s[2] + " : " + esc(s[3])).addTo(siteLayer);
  });
  var fdiv = document.getElementById("cg-filters");
  function filterBox(title, key, labels, col, multi) {
    var c = {};
    P.rows.forEach(function (r) { var v = r[col]; (multi ? (v.length ? v : [-1]) : [v]).forEach(function (x) { c[x] = (c[x] || 0) + 1; }); });
    var entries = labels.map(function (lab, i) { return [i, lab]; });
    entries.push([-1, multi ? "aucun" : "non précisé"]);
    var fs = document.createElement("fieldset"), lg = document.createElement("legend");
    lg.textContent = title; fs.appendChild(lg);
    entries.forEach(function (e) {
      if (!c[e[0]]) return;
      var l = document.createElement("label"), cb = document.createElement("input");
      cb.type = "checkbox"; cb.checked = true; cb.dataset.filter = key; cb.dataset.value = e[0];
      cb.addEventListener("change", function () { flt[key][e[0]] = cb.checked; drawPlaces(); });
      l.appendChild(cb); l.appendChild(document.createTextNode(" " + e[1] + " (" + c[e[0]].toLocaleString("fr-FR") + ")"));
      fs.appendChild(l);
    });
    if (fs.querySelectorAll("input").length > 1) fdiv.appendChild(fs);
  }
  document.getElementById("cg-fbtn").textContent = "Filtres des lieux (" + nP.toLocaleString("fr-FR") + ")";
  document.getElementById("cg-fbtn").addEventListener("click", function () {
    if (!fdiv.childNodes.length) {  // built on first use
      filterBox("Type", "types", P.types, 4, true);
      filterBox("Modèle", "models", P.models, 5, false);
      filterBox("Label de l\u2019État", "labels", P.labels, 6, true);
      filterBox("Millésime", "vintages", P.vintages, 7, false);
    }
    fdiv.hidden = !fdiv.hidden; this.setAttribute("aria-expanded", String(!fdiv.hidden));
  });

  // ---- legend and indicator menu ----
  function legend() {
    var ind = state.ind, h = "<h4>" + esc(ind.label) + "</h4>";
    if (ind.kind === "symbols") {
      var k = symScale(), vals = [ind.ref, ind.ref / 5, ind.ref / 25];
      h += '<div class="sym">' + vals.map(function (x) {
        var d = 2 * k * Math.sqrt(x); return "<span><b style=\"width:" + d + "px;height:" + d + "px\"></b>" + fmt(x, ind.fmt) + "</span>";
      }).join("") + "</div>";
    } else {
      ind.legend.forEach(function (it) { h += '<div><i style="background:' + it.c + '"></i>' + esc(it.l) + "</div>"; });
      if (ind.c.indexOf(-1) >= 0) h += '<div><i style="background:' + NA + '"></i>' + esc(ind.na || "Non disponible") + "</div>";
    }
    if (ind.note) h += '<div class="note">' + esc(ind.note) + "</div>";
    h += '<h4 style="margin-top:6px">Lieux, par modèle</h4>';
    (P.models.length ? P.models : ["Lieu"]).forEach(function (m, i) {  // the colours of the places on the map
      h += '<div><i style="background:' + (P.colours[i] || "#777") + ';border-radius:50%"></i>' + esc(m) + "</div>";
    });
    if ((D.sites || []).length) h += '<div><i style="background:#d7191c;transform:rotate(45deg) scale(.8)"></i>Lieu proposé</div>';
    document.getElementById("cg-legend").innerHTML =
      '<button class="cg-lt" type="button" aria-expanded="false">Légende</button><div class="cg-lb">' + h + "</div>";
  }
  var lgd = document.getElementById("cg-legend");
  if (window.innerWidth < 600) lgd.classList.add("closed");  // small screens: the legend opens on demand
  lgd.addEventListener("click", function (e) {
    if (e.target.className !== "cg-lt") return;
    lgd.classList.toggle("closed"); e.target.setAttribute("aria-expanded", String(!lgd.classList.contains("closed")));
  });
  var sel = document.getElementById("cg-ind");
  D.indicators.forEach(function (ind, i) {
    var o = document.createElement("option"); o.value = ind.key; o.textContent = ind.title; sel.appendChild(o);
  });
  function setIndicator(key, redraw) {
    D.indicators.forEach(function (ind) { if (ind.key === key) state.ind = ind; });
    sel.value = state.ind.key;
    document.title = state.ind.title + " — " + document.querySelector(".cg-head h1").dataset.base;
    legend(); if (redraw !== false) { choro.redraw(); insets.forEach(function (l) { l.redraw(); }); }
    if (location.hash.slice(1) !== state.ind.key) history.replaceState(null, "", "#" + state.ind.key);
  }
  var h1 = document.querySelector(".cg-head h1"); h1.dataset.base = h1.textContent;
  sel.addEventListener("change", function () { setIndicator(sel.value); });
  window.addEventListener("hashchange", function () { setIndicator(location.hash.slice(1)); });
  setIndicator(state.ind.key, false);  // already drawn with it

  // ---- tooltip ----
  var tip = document.createElement("div"); tip.className = "cg-tip"; tip.hidden = true; document.body.appendChild(tip);
  map.on("mousemove", function (e) {
    var j = choro.pickPlace(e);
    if (j >= 0) {
      tip.innerHTML = "<b>" + esc(P.rows[j][2]) + "</b>";
      tip.style.left = (e.originalEvent.clientX + 14) + "px"; tip.style.top = (e.originalEvent.clientY + 10) + "px";
      tip.hidden = false; return;
    }
    var i = choro.pick(e);
    if (i < 0) { tip.hidden = true; return; }
    var ind = state.ind, val;
    if (ind.kind === "symbols") val = fmt(ind.s[i], ind.fmt);
    else if (ind.kind === "cat") val = ind.c[i] >= 0 ? ind.legend[ind.c[i]].l : "non disponible";
    else val = ind.c[i] >= 0 && ind.v[i] !== null && ind.c[i] < ind.legend.length - (ind.key === "fibre_change" ? 1 : 0)
      ? fmt(ind.v[i], ind.fmt) : (ind.c[i] >= 0 ? ind.legend[ind.c[i]].l : (ind.na || "non disponible"));
    tip.innerHTML = "<b>" + esc(G.n[i]) + "</b> (" + esc(G.k[i]) + ")<br>" + esc(ind.label) + " : " + esc(val);
    tip.style.left = (e.originalEvent.clientX + 14) + "px"; tip.style.top = (e.originalEvent.clientY + 10) + "px";
    tip.hidden = false;
  });
  map.on("mouseout", function () { tip.hidden = true; });

  // ---- search: communes and places, accents folded ----
  var index = null;
  function buildIndex() {  // on first search
    index = [];
    for (var i = 0; i < N; i++) index.push({t: 0, i: i, f: fold(G.n[i]), label: G.n[i], sub: G.k[i]});
    P.rows.forEach(function (r, j) { index.push({t: 1, i: j, f: fold(r[2]), label: r[2], sub: r[3] >= 0 ? G.n[r[3]] : ""}); });
  }
  var q = document.getElementById("cg-q"), res = document.getElementById("cg-res"), hits = [], on = 0;
  function go(h) {
    res.innerHTML = ""; q.value = h.label;
    if (h.t === 0) {
      var b = G.b[h.i]; state.sel = h.i;
      map.fitBounds([[b[1] / S, b[0] / S], [b[3] / S, b[2] / S]], {maxZoom: 12});
      choro.redraw();
    } else {
      var r = P.rows[h.i]; map.setView([r[0], r[1]], 14); openPlace(h.i);
    }
  }
  function search() {
    if (!index) buildIndex();
    var s = fold(q.value.trim()); res.innerHTML = ""; hits = []; on = 0;
    if (s.length < 2) return;
    var starts = [], has = [];
    for (var k = 0; k < index.length && starts.length < 12; k++) {
      var e = index[k];
      if (e.f.indexOf(s) === 0) starts.push(e); else if (has.length < 12 && e.f.indexOf(s) > 0) has.push(e);
    }
    starts.sort(function (a, b) { return a.f.length - b.f.length || a.t - b.t; });
    hits = starts.concat(has).slice(0, 10);
    hits.forEach(function (h, k) {
      var li = document.createElement("li"); li.setAttribute("role", "option");
      li.innerHTML = esc(h.label) + " <small>" + (h.t === 0 ? "commune " : "lieu, ") + esc(h.sub) + "</small>";
      if (k === 0) li.className = "on";
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); go(h); });
      res.appendChild(li);
    });
  }
  q.addEventListener("input", search);
  q.addEventListener("keydown", function (e) {
    var items = res.querySelectorAll("li");
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault(); if (!items.length) return;
      items[on].className = ""; on = (on + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length; items[on].className = "on";
    } else if (e.key === "Enter") { if (!hits.length) search(); if (hits.length) go(hits[on] || hits[0]); }
    else if (e.key === "Escape") res.innerHTML = "";
  });
  q.addEventListener("blur", function () { setTimeout(function () { res.innerHTML = ""; }, 150); });
  window.cgReadyAt = performance.now(); window.cgReady = true;
  setTimeout(buildInsets, 0);
})();
