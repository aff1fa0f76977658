"""我的位置 / 拍照 / 相册 on the phone page: a small local bidirectional Streamlit component.

Why a component: Streamlit has no access to the browser's geolocation, and its camera and file
widgets speak English ("Take Photo", "Browse files"). The frontend is one plain HTML file in
``pages/field_capture_frontend/`` served by Streamlit itself (no npm build, no CDN): three Chinese
buttons, the geolocation call with Chinese messages when it is denied or unavailable, and an
``<input type=file accept="image/*">`` with ``capture="environment"`` (camera) or without (gallery).
The photo's bytes come back unchanged, so its EXIF GPS is still there for gis.problems.photos.gps.

`capture` returns a `Capture`: the last location (WGS84) and photo the user gave, or None for each.
Tests replace `capture` (AppTest cannot run custom components), the way pages.ui.show_map is replaced.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from pathlib import Path

import streamlit.components.v1 as components

_component = components.declare_component(
    "field_capture", path=str(Path(__file__).resolve().parent / "field_capture_frontend"))


@dataclass(frozen=True)
class Location:
    """Where the phone says it is: WGS84 lon/lat, accuracy in metres, `seq` new for each fix."""
    lon: float
    lat: float
    accuracy: float | None
    seq: int


@dataclass(frozen=True)
class Photo:
    name: str
    data: bytes
    seq: int


@dataclass(frozen=True)
class Capture:
    location: Location | None = None
    photo: Photo | None = None


def _location(raw) -> Location | None:
    try:
        lon, lat = float(raw["lon"]), float(raw["lat"])
    except (TypeError, KeyError, ValueError):
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    acc = raw.get("accuracy")
    return Location(lon, lat, float(acc) if isinstance(acc, (int, float)) else None, int(raw.get("seq") or 0))


def _photo(raw) -> Photo | None:
    try:
        data = base64.b64decode(raw["data"], validate=True)
    except (TypeError, KeyError, ValueError, binascii.Error):
        return None
    name = str(raw.get("name") or "现场照片.jpg")[:200]
    return Photo(name, data, int(raw.get("seq") or 0)) if data else None


def parse(value) -> Capture:
    """The component's JSON value as a `Capture` (anything malformed is dropped, never raised)."""
    if not isinstance(value, dict):
        return Capture()
    return Capture(_location(value.get("location")), _photo(value.get("photo")))


def capture(key: str, max_bytes: int) -> Capture:
    """Draw the three buttons; returns what the user has given so far on this form."""
    return parse(_component(key=key, max_bytes=int(max_bytes), default=None))
