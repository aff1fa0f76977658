"""Rectification photos (gis.problems.photos) against hostile files, through gis and through 网格详情:
a JPEG header followed by HTML, a decompression bomb (a small PNG of 30000 × 30000 pixels), a header
claiming 48 MP, a truncated JPEG; EXIF orientation and GPS; a bad stored file never breaks the page.
"""

from __future__ import annotations

import io
import struct
import zlib
from datetime import datetime

import pytest
from PIL import Image
from sqlalchemy import select

from gis.db.models import Problem
from gis.people.permissions import Actor
from gis.problems import ledger, photos, workflow
from tests.apptools import captured_maps, run_app  # noqa: F401  (fixture)

CHIEF = Actor("zhoujie", "网格长", "T-01")
VERIFIER = Actor("hecha", "核查员")
NOW = datetime(2026, 11, 20, 10)


def jpeg(size=(64, 48), color=(30, 120, 200), exif=None) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", quality=90, **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def png_bomb(side: int = 30000) -> bytes:
    """A valid 1-bit PNG of side × side pixels: well under a megabyte on disk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (side + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def claims_48mp() -> bytes:
    """A small real JPEG whose frame header (SOF0) claims 8000 × 6000 pixels."""
    data = bytearray(jpeg())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", 6000, 8000)
    return bytes(data)


HOSTILE = {
    "html_behind_jpeg_header": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"<html><script>alert(1)</script></html>" * 50,
                                "不是 JPEG 或 PNG"),
    "png_bomb": (png_bomb(), "像素"),
    "header_48mp": (claims_48mp(), "8000×6000"),
    "truncated_jpeg": (jpeg((400, 300))[:1500], "损坏或不完整"),
    "svg": (b"<svg onload=alert(1)>", "不是 JPEG 或 PNG"),
    "empty": (b"", "空文件"),
}


def test_the_bomb_is_small_on_disk():
    assert len(HOSTILE["png_bomb"][0]) < 1_000_000


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_files_are_refused_with_a_chinese_message(name):
    data, said = HOSTILE[name]
    with pytest.raises(photos.PhotoError, match=said):
        photos.prepare(data, f"{name}.jpg")

def test_pillow_global_limit_is_left_alone():
    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(photos.PhotoError):
        photos.prepare(HOSTILE["png_bomb"][0])
    assert Image.MAX_IMAGE_PIXELS == before


def test_orientation_fixed_exif_and_gps_stripped():
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    exif[0x010F] = "相机厂商"
    exif.get_ifd(0x8825)[2] = (36.0, 27.0, 0.0)  # GPSLatitude
    photo = photos.prepare(jpeg((80, 40), exif=exif.tobytes()), "p.jpg")
    with Image.open(io.BytesIO(photo.data)) as out:
        assert out.format == "JPEG" and out.size == (40, 80) == (photo.width, photo.height)
        assert not out.getexif() and "exif" not in out.info


def test_large_photo_is_scaled_down_and_alpha_flattened():
    out = io.BytesIO()
    Image.new("RGBA", (3000, 1000), (0, 200, 0, 0)).save(out, "PNG")
    photo = photos.prepare(out.getvalue(), "wide.png")
    assert (photo.width, photo.height) == (photos.MAX_SIDE, 853) and photo.ext == ".jpg"
    with Image.open(io.BytesIO(photo.data)) as img:
        assert img.mode == "RGB" and img.getpixel((10, 10)) == pytest.approx((255, 255, 255), abs=3)


def test_stored_paths_stay_in_the_upload_folder(tmp_path):
    good = tmp_path / "WT01" / "a.jpg"
    good.parent.mkdir()
    good.write_bytes(jpeg())
    (tmp_path.parent / "outside.jpg").write_bytes(jpeg())
    assert photos.stored_file("WT01/a.jpg", tmp_path) == good.resolve()
    assert photos.stored_file("../outside.jpg", tmp_path) is None
    assert photos.stored_file(None, tmp_path) is None
    assert photos.for_display("WT01/a.jpg", tmp_path)[:3] == b"\xff\xd8\xff"
    for name, (data, _) in HOSTILE.items():
        (tmp_path / "WT01" / f"{name}.jpg").write_bytes(data)
        assert photos.for_display(f"WT01/{name}.jpg", tmp_path) is None
    assert photos.relative_path("WT/../01", NOW).startswith("WT____01/20261120100000-")


def test_hostile_upload_through_the_workflow_stores_nothing(city_rw, tmp_path):
    for name, (data, said) in HOSTILE.items():
        if not data:
            continue  # an empty upload is no photo at all
        with pytest.raises(workflow.WorkflowError, match=said):
            workflow.apply(city_rw, CHIEF, "WT03", workflow.SUBMIT, note="已整改", photo=data,
                           photo_name=f"{name}.jpg", now=NOW, photo_dir=tmp_path)
    assert list(tmp_path.rglob("*")) == []
    with city_rw.connect() as conn:
        assert conn.execute(select(Problem.status).where(Problem.code == "WT03")).scalar_one() == "整改中"


@pytest.mark.parametrize("stored", ["png_bomb", "html_behind_jpeg_header", "truncated_jpeg"])
def test_a_bad_stored_photo_never_breaks_the_page(city_rw, tmp_path, monkeypatch, captured_maps, stored):
    """A file stored before these checks (or damaged on disk): the page says 照片无法显示, the verifier
    still gets the forms, and the problem can be closed."""
    monkeypatch.setenv("GRIDMAP_UPLOAD_DIR", str(tmp_path))
    workflow.apply(city_rw, CHIEF, "WT03", workflow.SUBMIT, note="已整改", photo=jpeg(), photo_name="ok.jpg", now=NOW)
    rel = ledger.problem_history(city_rw, "WT03")["photo_path"].dropna().iloc[-1]
    (tmp_path / rel).write_bytes(HOSTILE[stored][0])  # replaced behind the app's back

    url = city_rw.url.render_as_string(hide_password=False)
    at = run_app(url, monkeypatch, page="pages/grid.py", query={"grid": "T-01", "problem": "WT03"}, actor=VERIFIER)
    assert not at.exception, at.exception
    assert any(photos.UNREADABLE in c.value for c in at.caption)
    assert not at.get("image")
    assert [b.label for b in at.button if b.label in workflow.ACTIONS] == ["核查通过", "退回"]
    next(b for b in at.button if b.label == "核查通过").click().run()
    assert not at.exception, at.exception
    with city_rw.connect() as conn:
        assert conn.execute(select(Problem.status).where(Problem.code == "WT03")).scalar_one() == "已结案"


def test_a_good_photo_is_shown(city_rw, tmp_path, monkeypatch, captured_maps):
    monkeypatch.setenv("GRIDMAP_UPLOAD_DIR", str(tmp_path))
    workflow.apply(city_rw, CHIEF, "WT03", workflow.SUBMIT, note="已整改", photo=jpeg(), photo_name="ok.jpg", now=NOW)
    url = city_rw.url.render_as_string(hide_password=False)
    at = run_app(url, monkeypatch, page="pages/grid.py", query={"grid": "T-01", "problem": "WT03"}, actor=VERIFIER)
    assert not at.exception, at.exception
    assert len(at.get("image")) == 1
    assert not any(photos.UNREADABLE in c.value for c in at.caption)
