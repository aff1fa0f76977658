"""Photos taken in the field (现场照片) for a reported problem: decoded, checked, re-encoded.

TEMPORARY (issue 15, street branch): another branch writes ``gis/problems/photos.py`` (decode and
re-encode with pixel limits, EXIF orientation, EXIF stripped). This module is the street work's
own small version of it; callers use only `prepare` (bytes in, stored bytes out) and `gps`, so the
lead swaps it for photos.py at merge in one import line.

What is served never carries EXIF (a phone photo's EXIF holds the exact spot and the device); the
location read from it (`gps`) is kept in the database as the problem's point instead.
"""

from __future__ import annotations

import io
import secrets
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024       # what a phone sends: a 12-megapixel JPEG is 3–6 MB
MAX_PIXELS = 50_000_000            # decompression-bomb guard, before decoding
LONG_SIDE = 2048                   # stored photos are at most this many pixels on their long side
QUALITY = 85


class PhotoError(ValueError):
    """A photo that cannot be taken; the message is shown to users as is (Chinese)."""


def _open(data: bytes, name: str | None) -> Image.Image:
    label = f"“{name}”" if name else ""
    if not data:
        raise PhotoError(f"照片{label}是空文件。")
    if len(data) > MAX_BYTES:
        raise PhotoError(f"照片{label}过大（{len(data) / 1024 / 1024:.1f} MB），最大 {MAX_BYTES // 1024 // 1024} MB。")
    try:
        img = Image.open(io.BytesIO(data))
        if img.format not in ("JPEG", "PNG", "WEBP", "MPO"):
            raise PhotoError(f"照片{label}不是 JPEG、PNG 或 WebP 图片。")
        if img.width * img.height > MAX_PIXELS:
            raise PhotoError(f"照片{label}像素过多（{img.width}×{img.height}），最多 {MAX_PIXELS // 1_000_000} 百万像素。")
        img.load()
    except PhotoError:
        raise
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as exc:
        raise PhotoError(f"照片{label}无法识别或已损坏，请重新拍摄。") from exc
    return img


def prepare(data: bytes, name: str | None = None) -> bytes:
    """The bytes to store for an uploaded photo: turned upright (EXIF orientation), at most
    LONG_SIDE pixels, re-encoded as JPEG with no EXIF. Raises PhotoError (Chinese) when refused."""
    img = ImageOps.exif_transpose(_open(data, name))
    img.thumbnail((LONG_SIDE, LONG_SIDE))
    if img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    out = io.BytesIO()
    img.save(out, "JPEG", quality=QUALITY, optimize=True)  # no exif= argument: nothing of it is kept
    return out.getvalue()


def _degrees(value, ref: str) -> float:
    d, m, s = (float(x) for x in value)
    deg = d + m / 60 + s / 3600
    return -deg if ref in ("S", "W") else deg


def gps(data: bytes) -> tuple[float, float] | None:
    """(lon, lat) in WGS84 from the photo's EXIF GPS, or None when it has none (or is unreadable)."""
    try:
        exif = Image.open(io.BytesIO(data)).getexif()
        info = exif.get_ifd(0x8825)  # GPSInfo
        if not info or 2 not in info or 4 not in info:
            return None
        lat = _degrees(info[2], info.get(1, "N"))
        lon = _degrees(info[4], info.get(3, "E"))
    except Exception:  # noqa: BLE001  (any broken EXIF means: no location from the photo)
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or (lon == 0 and lat == 0):
        return None
    return lon, lat


def save(stored: bytes, folder: Path, kind: str, now: datetime) -> str:
    """Write prepared bytes under `folder` as ``<kind>/<yyyymm>/<time>-<random>.jpg``; returns that relative path."""
    rel = f"{kind}/{now:%Y%m}/{now:%Y%m%d%H%M%S}-{secrets.token_hex(6)}.jpg"
    path = Path(folder) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(stored)
    return rel
