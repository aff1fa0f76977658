"""Offline-safe folium base maps.

The app runs on a closed intranet: no request may leave the machine. folium links
Leaflet, jQuery, Bootstrap, Font Awesome and its plugins from public CDNs, so this
module rewrites every such link to the copies vendored under ``static/vendor/``
(served by Streamlit at ``/app/static/vendor/`` with ``server.enableStaticServing``)
and refuses any external asset it does not know. Tiles are opt-in: by default the
map has none and shows a plain background.

Pure module: imports folium/branca only (never streamlit or ``gis``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator, Literal, Mapping
from urllib.parse import urlsplit

import folium
from branca.colormap import ColorMap
from branca.element import Element, Figure, Link

from layers.common import RenderedText  # also makes every map render its parts as text (see there)

__all__ = [
    "ASSET_PREFIX",
    "VENDORED_ASSETS",
    "ExternalAssetError",
    "BasemapConfig",
    "OfflineMap",
    "basemap_from_env",
    "local_url",
    "localize",
    "make_map",
]

#: URL path at which Streamlit serves ``static/vendor/`` (absolute, so it also
#: resolves inside the st_folium component iframe, which is same-origin).
ASSET_PREFIX = "/app/static/vendor"

#: Known CDN URL used by folium 0.20 -> file path below ``static/vendor/``.
VENDORED_ASSETS: dict[str, str] = {
    # folium.Map
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet-1.9.3/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet-1.9.3/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js": "jquery-3.7.1/jquery.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": (
        "bootstrap-5.2.2/js/bootstrap.bundle.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": (
        "bootstrap-5.2.2/css/bootstrap.min.css"
    ),
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": (
        "bootstrap-glyphicons-3.4.1/css/bootstrap-glyphicons.css"
    ),
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": (
        "fontawesome-free-6.2.0/css/all.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": (
        "leaflet.awesome-markers-2.0.2/leaflet.awesome-markers.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": (
        "leaflet.awesome-markers-2.0.2/leaflet.awesome-markers.css"
    ),
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": (
        "folium/leaflet.awesome.rotate.css"
    ),
    # folium.plugins.Draw (folium pins 1.0.2; 1.0.4 is the same API with bug fixes)
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.js": "leaflet-draw-1.0.4/leaflet.draw.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.css": (
        "leaflet-draw-1.0.4/leaflet.draw.css"
    ),
    # folium.plugins.Fullscreen (npm ships no .min.js; the plain file is 14 KB)
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": (
        "leaflet.fullscreen-3.0.0/Control.FullScreen.js"
    ),
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css": (
        "leaflet.fullscreen-3.0.0/Control.FullScreen.css"
    ),
    # folium.plugins.MarkerCluster
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js": (
        "leaflet.markercluster-1.1.0/leaflet.markercluster.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": (
        "leaflet.markercluster-1.1.0/MarkerCluster.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": (
        "leaflet.markercluster-1.1.0/MarkerCluster.Default.css"
    ),
}


class ExternalAssetError(ValueError):
    """A map element links a JS/CSS asset outside this machine that is not vendored."""


def _is_external(url: str) -> bool:
    """True if fetching ``url`` would contact another host (scheme or ``//host``)."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() == "data":
        return False
    return bool(parts.scheme or parts.netloc)


def local_url(url: str) -> str:
    """Map a CDN URL to its vendored ``/app/static/vendor/...`` URL.

    Local URLs (no scheme, no host) are returned unchanged, so calling this twice
    is harmless. An external URL that is not in ``VENDORED_ASSETS`` raises
    ``ExternalAssetError`` naming it, so a new plugin cannot silently reach a CDN.
    """
    if url in VENDORED_ASSETS:
        return f"{ASSET_PREFIX}/{VENDORED_ASSETS[url]}"
    if _is_external(url):
        raise ExternalAssetError(
            f"External asset not available offline: {url!r}. Vendor it under "
            f"static/vendor/ and add it to layers.basemap.VENDORED_ASSETS, "
            f"or do not use the element that needs it."
        )
    return url


def _walk(element: Element) -> Iterator[Element]:
    """Yield ``element`` and all its descendants once (DualMap's m1/m2 included)."""
    seen: set[int] = set()
    stack = [element]
    while stack:
        el = stack.pop()
        if id(el) in seen:
            continue
        seen.add(id(el))
        yield el
        stack.extend(getattr(el, "_children", {}).values())
        for attr in ("m1", "m2"):  # folium.plugins.DualMap keeps its maps here
            sub = getattr(el, attr, None)
            if isinstance(sub, Element):
                stack.append(sub)


def localize(element_or_map: Element) -> Element:
    """Point every JS/CSS link of an element tree at the vendored copies.

    Rewrites ``default_js``/``default_css`` (as instance attributes; folium's
    class-level lists stay untouched) of the element and all its children, and
    the URL of any ``JavascriptLink``/``CssLink`` already in a header. These
    lists are exactly what st_folium loads into its iframe. Raises
    ``ExternalAssetError`` for an unknown external URL and for branca
    ``ColorMap`` (st_folium always adds d3 from a CDN for it). Returns the
    element.
    """
    for el in _walk(element_or_map):
        if isinstance(el, ColorMap):
            raise ExternalAssetError(
                "branca ColorMap (a colour legend, e.g. from folium.Choropleth) loads d3 "
                "from a CDN and st_folium always adds that CDN link: not usable offline. "
                "Draw the legend with HTML/CSS instead."
            )
        for attr in ("default_js", "default_css"):
            links = getattr(el, attr, None)
            if links:
                setattr(el, attr, [(name, local_url(url)) for name, url in links])
        if isinstance(el, Link):
            el.url = local_url(el.url)
    return element_or_map


class OfflineMap(folium.Map):
    """``folium.Map`` that localizes its whole tree again right before rendering.

    Layers and plugins are usually added after ``make_map`` returns; rendering
    (which st_folium does before collecting the links) re-runs ``localize`` so
    they are covered too, then checks the links written to the page header.
    """

    def render(self, **kwargs) -> None:
        localize(self)
        super().render(**kwargs)
        root = self.get_root()
        if isinstance(root, Figure):
            localize(root.header)


BasemapKind = Literal["none", "xyz", "public"]
CrsNote = Literal["wgs84", "gcj02"]

_KINDS = ("none", "xyz", "public")
_CRS_NOTES = ("wgs84", "gcj02")

#: OpenStreetMap standard tiles (WGS84 positions, Web Mercator tiles).
PUBLIC_TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
PUBLIC_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
DEFAULT_XYZ_ATTRIBUTION = "内网底图"

#: Leaflet's default blue marker; its folder is where Leaflet looks for the other marker images.
LEAFLET_DEFAULT_ICON = f"{ASSET_PREFIX}/leaflet-1.9.3/images/marker-icon.png"

#: Background of the map container: light grey-blue, or near-black in dark mode.
BACKGROUND_LIGHT = "#e5ebf0"
BACKGROUND_DARK = "#15181d"


@dataclass(frozen=True)
class BasemapConfig:
    """Which tiles the map shows.

    kind: ``none`` (no tiles, plain background; the offline default), ``xyz``
    (an intranet tile server, ``url`` is its ``{z}/{x}/{y}`` template) or
    ``public`` (OpenStreetMap; needs internet). ``crs_note`` records the datum
    the tiles are drawn in: ``gcj02`` tiles (common for Chinese providers) are
    offset by a few hundred metres from WGS84 data, so layers must be shifted
    to GCJ-02 before they are drawn on them.
    """

    kind: BasemapKind = "none"
    url: str | None = None
    attribution: str = ""
    crs_note: CrsNote = "wgs84"
    max_zoom: int = 18

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"basemap kind must be one of {_KINDS}, got {self.kind!r}")
        if self.crs_note not in _CRS_NOTES:
            raise ValueError(f"basemap crs_note must be one of {_CRS_NOTES}, got {self.crs_note!r}")
        if not isinstance(self.max_zoom, int) or not 0 <= self.max_zoom <= 24:
            raise ValueError(f"basemap max_zoom must be an int in 0..24, got {self.max_zoom!r}")
        if self.kind != "none":
            url = self.url or ""
            if not url:
                raise ValueError(f"basemap kind {self.kind!r} needs a tile URL template")
            if "{z}" not in url or "{x}" not in url or ("{y}" not in url and "{-y}" not in url):
                raise ValueError(f"tile URL template must contain {{z}}, {{x}} and {{y}}: {url!r}")

    @property
    def has_tiles(self) -> bool:
        """True if the map gets a tile layer."""
        return self.kind != "none"


def _env(env: Mapping[str, str], key: str) -> str:
    return (env.get(key) or "").strip()


def basemap_from_env(env: Mapping[str, str] | None = None) -> BasemapConfig:
    """Build a ``BasemapConfig`` from environment variables (default: ``os.environ``).

    GRIDMAP_BASEMAP           none | xyz | public (default none)
    GRIDMAP_TILES_URL         XYZ template of the intranet tile server (xyz only)
    GRIDMAP_TILES_ATTRIBUTION attribution text (xyz only; default 内网底图)
    GRIDMAP_TILES_CRS         wgs84 | gcj02 (default wgs84; public is always wgs84)
    GRIDMAP_TILES_MAX_ZOOM    optional int (default 18, public 19)
    Raises ``ValueError`` with the offending variable on a bad value.
    """
    env = os.environ if env is None else env
    kind = (_env(env, "GRIDMAP_BASEMAP") or "none").lower()
    if kind not in _KINDS:
        raise ValueError(f"GRIDMAP_BASEMAP must be one of {_KINDS}, got {kind!r}")
    crs = _env(env, "GRIDMAP_TILES_CRS").lower()
    if crs and crs not in _CRS_NOTES:
        raise ValueError(f"GRIDMAP_TILES_CRS must be one of {_CRS_NOTES}, got {crs!r}")
    raw_zoom = _env(env, "GRIDMAP_TILES_MAX_ZOOM")
    try:
        max_zoom = int(raw_zoom) if raw_zoom else (19 if kind == "public" else 18)
    except ValueError:
        raise ValueError(f"GRIDMAP_TILES_MAX_ZOOM must be an integer, got {raw_zoom!r}") from None

    if kind == "none":
        return BasemapConfig(kind="none", crs_note=crs or "wgs84", max_zoom=max_zoom)
    if kind == "public":
        if crs == "gcj02":
            raise ValueError("GRIDMAP_TILES_CRS=gcj02 conflicts with GRIDMAP_BASEMAP=public (OSM is WGS84)")
        return BasemapConfig(
            kind="public", url=PUBLIC_TILES_URL, attribution=PUBLIC_ATTRIBUTION,
            crs_note="wgs84", max_zoom=max_zoom,
        )
    url = _env(env, "GRIDMAP_TILES_URL")
    if not url:
        raise ValueError("GRIDMAP_BASEMAP=xyz needs GRIDMAP_TILES_URL (e.g. http://tiles.local/{z}/{x}/{y}.png)")
    return BasemapConfig(
        kind="xyz", url=url,
        attribution=_env(env, "GRIDMAP_TILES_ATTRIBUTION") or DEFAULT_XYZ_ATTRIBUTION,
        crs_note=crs or "wgs84", max_zoom=max_zoom,
    )


def make_map(
    center: tuple[float, float],
    zoom: int = 13,
    basemap: BasemapConfig | None = None,
    dark: bool = False,
    **kwargs,
) -> folium.Map:
    """Create an offline-safe map centred on ``center`` = (lat, lon).

    No tiles unless ``basemap`` is xyz/public; the container gets a plain
    background colour (CSS in the page header, which st_folium keeps, together
    with the default-marker image path), and the attribution control is off
    when there are no tiles. Extra ``kwargs`` go to
    ``folium.Map`` (e.g. ``prefer_canvas=True``, ``control_scale=True``); pass
    the base map through ``basemap``, not ``tiles``. Returns an ``OfflineMap``
    whose JS/CSS links all point at ``ASSET_PREFIX``.
    """
    if "tiles" in kwargs:
        raise TypeError("make_map() sets tiles itself: pass basemap=BasemapConfig(...) instead of tiles=")
    basemap = basemap or BasemapConfig()
    lat, lon = center
    kwargs.setdefault("attribution_control", basemap.has_tiles)
    if not basemap.has_tiles:
        # No tiles to blur: fractional zoom lets fit_bounds fill the frame.
        kwargs.setdefault("zoom_snap", 0.25)
        kwargs.setdefault("zoom_delta", 0.5)
    # folium hands min/max_zoom only to its own tile layer; set them on the map so
    # zooming stays bounded even with no tiles.
    zoom_limits = {"max_zoom": kwargs.pop("max_zoom", basemap.max_zoom)}
    if kwargs.get("min_zoom") is not None:
        zoom_limits["min_zoom"] = kwargs.pop("min_zoom")
    m = OfflineMap(location=[lat, lon], zoom_start=zoom, tiles=None, **kwargs)
    m.options.update(zoom_limits)
    if basemap.has_tiles:
        folium.TileLayer(
            tiles=basemap.url,
            attr=basemap.attribution or DEFAULT_XYZ_ATTRIBUTION,
            name="底图",
            max_zoom=basemap.max_zoom,
            overlay=False,
            control=True,
        ).add_to(m)
    background = BACKGROUND_DARK if dark else BACKGROUND_LIGHT
    # "html .leaflet-container" outranks leaflet.css's ".leaflet-container" whatever the link order.
    # The icon-path rule repeats leaflet.css inline: st_folium runs the map script before
    # leaflet.css has loaded, and Leaflet 1.9.3 then guesses the default marker URL without
    # "images/" (404). An inline rule is applied at once, so the guess is right.
    css = (
        f"html .leaflet-container {{ background: {background}; }}\n"
        f".leaflet-default-icon-path {{ background-image: url({LEAFLET_DEFAULT_ICON}); }}"
    )
    m.get_root().header.add_child(RenderedText(f"<style>\n{css}\n</style>"), name="gridmap_basemap_css")
    return localize(m)
