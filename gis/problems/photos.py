"""Rectification photos (整改照片): decoded and re-encoded at upload, stored under one rule, shown safely.

A photo is never stored as uploaded. `prepare` reads the header first (format JPEG or PNG, at most
`MAX_PIXELS` pixels, checked before any pixel is decoded), decodes the whole image, turns it upright
from its EXIF orientation, scales it down to `MAX_SIDE` pixels on the long side and writes a fresh
JPEG (quality `JPEG_QUALITY`) without EXIF — so GPS positions and camera data do not leave with the
file, and a file that only *starts* like a JPEG (a JPEG header followed by HTML), a truncated one or a
decompression bomb (a small PNG of 30000 × 30000 pixels) is refused with a Chinese message.

Pillow's global ``Image.MAX_IMAGE_PIXELS`` is left alone: the limit here is checked per call from the
header, and Pillow's own bomb error is caught as a refusal.

Stored files live under `upload_dir()` (``GRIDMAP_UPLOAD_DIR``, default ``data/uploads/``) as
``<problem code>/<time>-<random>.jpg`` (`relative_path`); `stored_file` resolves such a path and
refuses one that leaves the folder. `for_display` decodes a stored file with the same limits and
returns None for anything it cannot show (a file stored before these checks, a damaged disk), so a
bad photo never breaks the page that shows it.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from gis.config import DATA_DIR, setting

MAX_BYTES = 10 * 1024 * 1024  # an upload larger than this is refused before it is read (a phone's 12 MP JPEG: 3–6 MB)
MAX_PIXELS = 40_000_000  # 40 MP: more than any phone camera; a larger header is refused before decoding
MAX_SIDE = 2560  # stored photos are scaled down to this long side
DISPLAY_SIDE = 1024  # what pages show
JPEG_QUALITY = 85
FORMATS = {"JPEG": "JPEG", "PNG": "PNG"}  # accepted formats (as Pillow names them)
EXTENSION = ".jpg"  # every stored photo is a re-encoded JPEG
UNREADABLE = "照片无法显示"  # shown instead of a stored photo that cannot be decoded


class PhotoError(ValueError):
    """A photo that cannot be accepted; the message is for users (Chinese)."""


@dataclass(frozen=True)
class Photo:
    """A photo ready to store: re-encoded JPEG bytes and their size in pixels."""

    data: bytes
    width: int
    height: int
    ext: str = EXTENSION


def _open(data: bytes, what: str) -> Image.Image:
    """The image with its header read (no pixels decoded yet), or PhotoError."""
    try:  # (no warnings.catch_warnings: it is not thread-safe; our own limit below is lower than Pillow's)
        image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except Image.DecompressionBombError:
        raise PhotoError(f"{what}像素过多，最多 {MAX_PIXELS // 1_000_000} 百万像素。") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise PhotoError(f"{what}不是 JPEG 或 PNG 图片，无法识别。") from None
    width, height = image.size
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise PhotoError(f"{what}尺寸为 {width}×{height} 像素，超过上限 {MAX_PIXELS // 1_000_000} 百万像素。")
    return image


def _decode(image: Image.Image, what: str) -> Image.Image:
    """Every pixel decoded, upright (EXIF orientation), in RGB; PhotoError when the data is broken."""
    try:
        image.load()
        upright = ImageOps.exif_transpose(image)
        if upright.mode in ("RGBA", "LA") or (upright.mode == "P" and "transparency" in upright.info):
            rgba = upright.convert("RGBA")
            flat = Image.new("RGB", rgba.size, "white")
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        return upright.convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise PhotoError(f"{what}已损坏或不完整，无法解码。") from None


def _jpeg(image: Image.Image, side: int) -> tuple[bytes, int, int]:
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)  # no exif=…: nothing of the original's EXIF
    return out.getvalue(), image.width, image.height


def prepare(data: bytes, name: str | None = None) -> Photo:
    """An uploaded photo checked, decoded and re-encoded for storage; PhotoError when it cannot be."""
    what = f"照片“{name or '（未命名）'}”"
    if not data:
        raise PhotoError(f"{what}是空文件。")
    if len(data) > MAX_BYTES:
        raise PhotoError(f"照片过大（{len(data) / 1024 / 1024:.1f} MB），最大 {MAX_BYTES // 1024 // 1024} MB。")
    with _open(data, what) as image:
        jpeg, width, height = _jpeg(_decode(image, what), MAX_SIDE)
    return Photo(jpeg, width, height)


def upload_dir() -> Path:
    """Where rectification photos are stored (GRIDMAP_UPLOAD_DIR, default data/uploads/)."""
    return Path(setting("GRIDMAP_UPLOAD_DIR", str(DATA_DIR / "uploads")))


def _safe(code: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in code)


def relative_path(problem_code: str, at: datetime, ext: str = EXTENSION) -> str:
    """Where a new photo of a problem goes, relative to the upload folder: ``<code>/<time>-<random>.jpg``."""
    return f"{_safe(problem_code)}/{at:%Y%m%d%H%M%S}-{secrets.token_hex(4)}{ext}"


def stored_file(relative: str | None, base: Path | None = None) -> Path | None:
    """The stored file of a relative photo path, or None when absent or outside the upload folder."""
    if not isinstance(relative, str) or not relative:
        return None
    root = (Path(base) if base is not None else upload_dir()).resolve()
    full = (root / relative).resolve()
    return full if full.is_relative_to(root) and full.is_file() else None


def for_display(relative: str | None, base: Path | None = None) -> bytes | None:
    """A stored photo as JPEG bytes for a page (at most DISPLAY_SIDE px), or None if it cannot be shown.

    The file is decoded with the same limits as an upload; whatever is wrong with it (missing,
    outside the folder, not an image, a bomb, truncated) gives None and the page shows `UNREADABLE`.
    """
    path = stored_file(relative, base)
    if path is None:
        return None
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        with _open(path.read_bytes(), "照片") as image:
            return _jpeg(_decode(image, "照片"), DISPLAY_SIDE)[0]
    except (PhotoError, OSError):
        return None


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
    """A field photo (现场照片 of a report or an inspection): write prepared bytes under `folder` as ``<kind>/<yyyymm>/<time>-<random>.jpg``; returns that relative path."""
    rel = f"{kind}/{now:%Y%m}/{now:%Y%m%d%H%M%S}-{secrets.token_hex(6)}.jpg"
    path = Path(folder) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(stored)
    return rel
