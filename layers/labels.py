"""Map labels (标注) placed inside the visible map, never over each other: one Leaflet element per map.

Why in the browser: whether two labels collide or one runs off the frame depends on the map's pixel
size and zoom (1920×1080, 3840×2160, a phone), known only where the map is drawn. Each label starts
at its area's representative point (inside the polygon); after every move, zoom or resize a small
script places them in priority order (the order of the rows given):

1. the title (e.g. the grid code) alone, pulled inside the map frame if it would clip; if it touches
   a label already placed or a map control (the legend), it tries a few nearby spots, else it is
   dropped (the lesser label goes, never a collision);
2. then, in the same order, each placed label's subtitle (e.g. the responsible leader): shown only
   where the whole label still fits without touching another one, else the label stays short.

Labels carry their area's code: with ``selectable`` a click on a label is a click on that area
(streamlit-folium returns it as ``last_active_drawing`` with ``properties.code``); otherwise a label
lets clicks through to the area under it. Text is set with ``textContent`` (never parsed as HTML).
The map container gets ``data-gm-labels`` = "<width>x<height>" of the frame last placed for (tests
wait on it). Pure: geopandas/folium only.
"""

from __future__ import annotations

import json

import geopandas as gpd
from branca.element import MacroElement
from jinja2 import Template

#: Offsets tried (in label heights / widths) when a label's own spot is taken: below, above, right, left.
_TRIES = [(0, 0), (0, 1.05), (0, -1.05), (0.6, 0), (-0.6, 0), (0.5, 1.05), (-0.5, 1.05), (0.5, -1.05),
          (-0.5, -1.05)]


class MapLabels(MacroElement):
    """Decluttered text labels; see the module docstring."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var spec = {{ this.spec }};
            var css = document.createElement('style');
            css.textContent = spec.css;
            document.head.appendChild(css);
            var group = L.featureGroup().addTo(map);
            var items = spec.labels.map(function(d) {
                var box = document.createElement('div');
                box.className = spec.cls;
                box.dataset.code = d.code;
                var title = document.createElement('div');
                title.className = 'gm-t';
                title.textContent = d.title;
                box.appendChild(title);
                var sub = null;
                if (d.sub) {
                    sub = document.createElement('div');
                    sub.className = 'gm-s';
                    sub.textContent = d.sub;
                    box.appendChild(sub);
                }
                var marker = L.marker([d.lat, d.lng], {
                    icon: L.divIcon({className: 'gm-label-icon', html: box, iconSize: [0, 0]}),
                    interactive: spec.selectable, keyboard: false, title: ''});
                // streamlit-folium reports a click as this feature (last_active_drawing): the label's area
                marker.feature = {type: 'Feature', properties: {code: d.code}};
                marker.addTo(group);
                return {box: box, sub: sub, marker: marker};
            });
            var tries = {{ this.tries }};
            function overlaps(a, b) {  // closer than spec.gap pixels counts as touching: "赵学军杨玉兰" reads as one
                var g = spec.gap;
                return a.left < b.right + g && b.left < a.right + g && a.top < b.bottom + g && b.top < a.bottom + g;
            }
            function place() {
                var el = map.getContainer();
                var frame = el.getBoundingClientRect();
                if (!frame.width || !frame.height) { return; }
                var pad = spec.pad;
                var inner = {left: frame.left + pad, top: frame.top + pad, right: frame.right - pad, bottom: frame.bottom - pad};
                var taken = Array.prototype.map.call(el.querySelectorAll('.leaflet-control'), function(c) {
                    return c.getBoundingClientRect(); }).filter(function(r) { return r.width > 0 && r.height > 0; });
                function fit(item, withSub) {
                    var icon = item.marker.getElement();
                    if (!icon) { return null; }
                    icon.style.display = '';
                    if (item.sub) { item.sub.style.display = withSub ? '' : 'none'; }
                    item.box.style.transform = 'translate(-50%,-50%)';
                    var r = item.box.getBoundingClientRect();
                    if (r.width === 0) { return null; }
                    for (var i = 0; i < tries.length; i++) {
                        var dx = tries[i][0] * r.width, dy = tries[i][1] * r.height;
                        var b = {left: r.left + dx, right: r.right + dx, top: r.top + dy, bottom: r.bottom + dy};
                        // pulled inside the frame when it would clip
                        var sx = Math.max(0, inner.left - b.left) - Math.max(0, b.right - inner.right);
                        var sy = Math.max(0, inner.top - b.top) - Math.max(0, b.bottom - inner.bottom);
                        b = {left: b.left + sx, right: b.right + sx, top: b.top + sy, bottom: b.bottom + sy};
                        if (b.left < inner.left - 0.5 || b.right > inner.right + 0.5
                            || b.top < inner.top - 0.5 || b.bottom > inner.bottom + 0.5) { continue; }
                        var free = true;
                        for (var j = 0; j < taken.length && free; j++) {
                            if (taken[j] !== item.rect && overlaps(b, taken[j])) { free = false; }
                        }
                        if (free) {
                            return {rect: b, dx: dx + sx, dy: dy + sy};
                        }
                    }
                    return null;
                }
                function show(item, spot) {
                    item.box.style.transform = 'translate(calc(-50% + ' + spot.dx + 'px), calc(-50% + ' + spot.dy + 'px))';
                    item.rect = spot.rect;
                }
                items.forEach(function(item) {  // 1. titles, in priority order
                    item.rect = null;
                    var spot = fit(item, false);
                    if (spot) {
                        show(item, spot);
                        taken.push(spot.rect);
                    } else if (item.marker.getElement()) {
                        item.marker.getElement().style.display = 'none';
                    }
                });
                items.forEach(function(item) {  // 2. subtitles where the whole label still fits
                    if (!item.sub || !item.rect) { return; }
                    var before = {rect: item.rect, box: item.box.style.transform};
                    var spot = fit(item, true);
                    if (spot) {
                        taken[taken.indexOf(before.rect)] = spot.rect;
                        show(item, spot);
                    } else {
                        item.sub.style.display = 'none';
                        item.box.style.transform = before.box;
                        item.rect = before.rect;
                    }
                });
                el.dataset.gmLabels = Math.round(frame.width) + 'x' + Math.round(frame.height);
                placedFor = where();
            }
            // where the labels' anchors are on screen: a change no map event told about re-places them
            var placedFor = null;
            function where() {
                var el = map.getContainer();
                var at = function(node) { var p = node && L.DomUtil.getPosition(node); return p ? p.x + ',' + p.y + ';' : '-;'; };
                var first = items.length ? items[0].marker.getElement() : null;
                var last = items.length ? items[items.length - 1].marker.getElement() : null;
                return el.clientWidth + 'x' + el.clientHeight + ';' + at(map.getPane('mapPane')) + at(first) + at(last);
            }
            var pending = null;
            function later() {
                if (pending) { cancelAnimationFrame(pending); }
                pending = requestAnimationFrame(function() { pending = null; place(); });
            }
            map.on('moveend zoomend resize', later);
            window.addEventListener('resize', later);
            later();
            function drifted() {  // a placed label no longer where it was put (a move no event told about)
                for (var i = 0; i < items.length; i++) {
                    var r = items[i].rect;
                    if (!r) { continue; }
                    var now = items[i].box.getBoundingClientRect();
                    if (Math.abs(now.left - r.left) > 1 || Math.abs(now.top - r.top) > 1) { return true; }
                }
                return false;
            }
            setInterval(function() {
                if (!pending && placedFor !== null && (where() !== placedFor || drifted())) { later(); }
            }, 500);
            if (document.fonts && document.fonts.ready) { document.fonts.ready.then(later); }
        })();
        {% endmacro %}
    """)

    def __init__(self, labels: list[dict], css: str, cls: str, selectable: bool, pad: int = 4, gap: int = 6):
        super().__init__()
        self._name = "MapLabels"
        # json.dumps escapes nothing for HTML: "</" must not close the script element it is written into
        self.spec = json.dumps({"labels": labels, "css": css, "cls": cls, "selectable": selectable, "pad": pad,
                                "gap": gap},
                               ensure_ascii=False).replace("</", "<\\/")
        self.tries = json.dumps(_TRIES)


def map_labels(gdf: gpd.GeoDataFrame, title: str = "code", subtitle: str | None = None, code: str = "code",
               css: str = "", cls: str = "gm-label", selectable: bool = False) -> MapLabels:
    """Labels at each row's representative point, placed in the row order (first = most important).

    `title`/`subtitle` are columns; `code` the column identifying the area a label click selects
    (with `selectable`); `css` styles `.{cls}` (the label), `.gm-t` (title) and `.gm-s` (subtitle).
    """
    gdf = gdf[~(gdf.geometry.is_empty | gdf.geometry.isna())]
    points = gdf.geometry.representative_point()
    subs = gdf[subtitle].fillna("").astype(str) if subtitle else [""] * len(gdf)
    labels = [{"lat": round(pt.y, 6), "lng": round(pt.x, 6), "title": t, "sub": s, "code": c}
              for t, s, c, pt in zip(gdf[title].astype(str), subs, gdf[code].astype(str), points)]
    base = (f".gm-label-icon{{background:none;border:none}}"
            f".{cls}{{white-space:nowrap;text-align:center;transform:translate(-50%,-50%);width:max-content}}"
            f".leaflet-marker-icon.leaflet-interactive .{cls}{{cursor:pointer}}")
    return MapLabels(labels, base + css, cls, selectable)
