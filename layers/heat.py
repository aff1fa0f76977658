"""Density of open problems as H3 hexagons in pydeck (WebGL), dark, with no external request.

Pure: a DataFrame of H3 cells and counts (aggregated on the server, see ``gis.metrics.heat``) →
``pdk.Deck``. ``map_provider=None``: no basemap tiles, no token, nothing leaves the machine.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk

#: A MapLibre style with no source (a plain dark background), passed inline as a data: URL. Streamlit's deck.gl chart
#: substitutes a CARTO basemap (an external request) whenever the deck has a MapView and no
#: map style, even with ``map_provider=None``; giving it this style keeps the page offline.
OFFLINE_STYLE = {"version": 8, "sources": {}, "layers": [
    {"id": "background", "type": "background", "paint": {"background-color": "#0b1220"}}]}

#: Colour ramp from few (dark blue) to many (bright yellow) open problems.
RAMP = np.array([[30, 64, 175], [124, 58, 237], [219, 39, 119], [249, 115, 22], [250, 204, 21]], dtype=float)


def ramp_colors(counts: pd.Series) -> list[list[int]]:
    """RGBA per count on RAMP, on a square-root scale of the maximum (vectorised)."""
    c = counts.to_numpy(dtype=float)
    if len(c) == 0:
        return []
    x = np.sqrt(c / max(c.max(), 1.0)) * (len(RAMP) - 1)
    i = np.clip(np.floor(x).astype(int), 0, len(RAMP) - 2)
    f = (x - i)[:, None]
    rgb = RAMP[i] * (1 - f) + RAMP[i + 1] * f
    alpha = np.full((len(c), 1), 215.0)
    return np.hstack([rgb, alpha]).round().astype(int).tolist()


def hex_layer(hexes: pd.DataFrame, extruded: bool = False) -> pdk.Layer:
    """H3HexagonLayer of `hexes` (columns hex, count), coloured by count."""
    data = pd.DataFrame({"hex": hexes["hex"].astype(str), "count": hexes["count"].astype(int),
                         "color": ramp_colors(hexes["count"])})
    return pdk.Layer("H3HexagonLayer", data, get_hexagon="hex", get_fill_color="color", get_line_color=[15, 23, 42],
                     line_width_min_pixels=0, stroked=False, filled=True, extruded=extruded, pickable=True,
                     opacity=0.85, get_elevation="count", elevation_scale=20)


def outline_layer(grids: gpd.GeoDataFrame) -> pdk.Layer:
    """The grid outlines (light lines) for orientation."""
    geojson = json.loads(grids[[grids.geometry.name]].to_json(drop_id=True))
    return pdk.Layer("GeoJsonLayer", geojson, stroked=True, filled=False, get_line_color=[148, 163, 184, 200],
                     line_width_min_pixels=1.5, pickable=False)


def heat_deck(hexes: pd.DataFrame, grids: gpd.GeoDataFrame | None, center: tuple[float, float], zoom: float = 11.8,
              extruded: bool = False) -> pdk.Deck:
    """A dark pydeck Deck: hexagons of open problems over the grid outlines; tooltip shows the count."""
    layers = [hex_layer(hexes, extruded)]
    if grids is not None and len(grids):
        layers.insert(0, outline_layer(grids))
    lat, lon = center
    view = pdk.ViewState(latitude=lat, longitude=lon, zoom=zoom, pitch=40 if extruded else 0)
    deck = pdk.Deck(layers=layers, initial_view_state=view, map_provider=None, map_style=None,
                    tooltip={"text": "未结案问题 {count} 件"})
    # pydeck takes a dict style only with mapbox, and Streamlit wants a string: a data: URL it is.
    deck.map_style = "data:application/json;charset=utf-8," + quote(json.dumps(OFFLINE_STYLE, separators=(",", ":")))
    return deck
