"""Test photos: JPEGs with an EXIF orientation and EXIF GPS, made with Pillow."""

from __future__ import annotations

import io

from PIL import Image


def _dms(x: float) -> tuple[float, float, float]:
    d = int(x)
    m = int((x - d) * 60)
    s = round(((x - d) * 60 - m) * 60, 4)
    return (float(d), float(m), s)


def jpeg_with_gps(lon: float | None, lat: float | None, size=(400, 300), orientation: int = 6) -> bytes:
    """A JPEG `size` wide × high, EXIF orientation `orientation` (6 = turn 90° clockwise to view),
    and EXIF GPS at (lon, lat) unless None."""
    img = Image.new("RGB", size, (200, 60, 40))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "测试相机"
    if lon is not None:
        gps = exif.get_ifd(0x8825)
        gps.update({1: "N" if lat >= 0 else "S", 2: _dms(abs(lat)), 3: "E" if lon >= 0 else "W", 4: _dms(abs(lon))})
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()
