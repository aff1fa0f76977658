"""Field work rules (gis.problems.field): report with a photo, 我的待办, 今日巡查, 测评录入 — on both backends."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from PIL import Image
from sqlalchemy import select

from gis.db.models import Inspection, Problem, ProblemEvent
from gis.metrics import scores
from gis.people.permissions import PermissionDenied, Actor
from gis.problems import field, photos, workflow
from tests.photo_files import jpeg_with_gps

NOW = datetime(2026, 11, 20, 10, 0)
WORKER = Actor("wk", "网格员", "T-01")
INSPECTOR = Actor("insp", "核查员")


def test_place_names_the_areas_and_unit(city_rw):
    where = field.place(city_rw, 115.984, 36.446, NOW)
    assert where == {"grid_code": "T-01", "grid_name": where["grid_name"], "unit": "古楼街道办事处",
                     "compound": "阳光小区", "village": None, "street": where["street"]}
    assert field.place(city_rw, 116.5, 36.0, NOW) is None


def test_report_with_exif_photo(city_rw, tmp_path):
    data = jpeg_with_gps(115.984, 36.446)
    lon, lat = photos.gps(data)
    made = field.report(city_rw, WORKER, "暴露垃圾", "垃圾桶满溢", lon, lat, photo=data, photo_name="a.jpg", now=NOW,
                        photo_dir=tmp_path)
    assert (made["grid_code"], made["status"]) == ("T-01", "待派遣")  # 立案 at once
    with city_rw.connect() as conn:
        p = conn.execute(select(Problem.__table__).where(Problem.__table__.c.code == made["code"])).mappings().one()
        ev = conn.execute(select(ProblemEvent.__table__.c.photo_path)
                          .where(ProblemEvent.__table__.c.problem_id == p["id"])).scalar_one()
    assert p["source"] == "网格员巡查" and p["registered_at"] == NOW and abs(p["lon"] - 115.984) < 1e-6
    stored = (tmp_path / ev).read_bytes()
    assert dict(Image.open(io.BytesIO(stored)).getexif()) == {} and photos.gps(stored) is None
    found = field.report(city_rw, INSPECTOR, "占道经营", "占道", 115.995, 36.455, now=NOW)
    assert found["grid_code"] == "T-04" and found["status"] == "待派遣"
    with pytest.raises(PermissionDenied):
        field.report(city_rw, WORKER, "占道经营", "别的网格", 115.995, 36.455, now=NOW)
    with pytest.raises(field.FieldError, match="请先确定位置"):
        field.report(city_rw, WORKER, "占道经营", "x", None, None, now=NOW)
    with pytest.raises(photos.PhotoError, match="无法识别"):
        field.report(city_rw, WORKER, "占道经营", "x", 115.984, 36.446, photo=b"\xff\xd8\xffjunk", now=NOW)
    assert list(tmp_path.rglob("*.jpg")) == [tmp_path / ev]


def test_todo_soonest_first_with_one_action(city_rw):
    a = field.report(city_rw, WORKER, "占道经营", "24 小时", 115.984, 36.446, now=NOW)
    b = field.report(city_rw, WORKER, "露天烧烤", "2 小时", 115.984, 36.446, now=NOW)
    todo = field.todo(city_rw, WORKER, NOW)
    mine = todo[todo["code"].isin([a["code"], b["code"]])]
    assert mine["code"].tolist() == [b["code"], a["code"]]
    assert list(todo["deadline"]) == sorted(todo["deadline"])
    assert set(mine["action"]) == {"派遣"} and set(todo["grid_code"]) == {"T-01"}
    workflow.dispatch(city_rw, WORKER, b["code"], "U-002", now=NOW)
    assert field.todo(city_rw, WORKER, NOW).set_index("code").loc[b["code"], "action"] == "签收"
    workflow.submit(city_rw, WORKER, b["code"], "已处理", now=NOW)
    assert b["code"] not in field.todo(city_rw, WORKER, NOW)["code"].tolist()
    checks = field.todo(city_rw, INSPECTOR, NOW)
    assert checks.set_index("code").loc[b["code"], "action"] == "核查通过"
    assert field.todo(city_rw, Actor("l", "领导"), NOW).empty


def test_due_points_and_inspection_moves_the_score(city_rw, tmp_path):
    today = date(2026, 11, 20)
    assert field.due_points(city_rw, WORKER, today, days=7).empty  # last visits on 11-15
    due = field.due_points(city_rw, WORKER, today, days=3)
    assert set(due["grid_code"]) == {"T-01"} and "DW-0002" in due["code"].tolist()
    assert field.point_standards(city_rw, "DW-0001")["code"].tolist() == ["1.1.1", "1.2.1", "9.1.1"]
    assert field.point_standards(city_rw, "DW-0002")["code"].tolist() == ["1.2.1", "9.1.1"]  # 背街小巷
    with pytest.raises(PermissionDenied):
        field.record_inspection(city_rw, WORKER, "DW-0001", {"1.1.1": field.PASS}, today=today)
    with pytest.raises(field.FieldError, match="请拍照留证"):
        field.record_inspection(city_rw, INSPECTOR, "DW-0001", {"1.1.1": field.FAIL}, today=today)
    month = date(2026, 11, 1)
    before = scores.monthly_scores(city_rw, month, as_of=NOW).set_index("code").loc["T-01"]
    with pytest.raises(field.FieldError, match="不适用"):
        field.record_inspection(city_rw, INSPECTOR, "DW-0002", {"1.1.1": field.PASS}, today=today)
    n = field.record_inspection(city_rw, INSPECTOR, "DW-0001",
                                {"1.1.1": field.PASS, "1.2.1": field.PARTIAL, "9.1.1": field.FAIL},
                                {"9.1.1": jpeg_with_gps(115.985, 36.45)}, today=today, photo_dir=tmp_path)
    assert n == 3
    after = scores.monthly_scores(city_rw, month, as_of=NOW).set_index("code").loc["T-01"]
    # three standards at one point on one day are one inspection visit (the sample counts point-days)
    assert after["inspections"] == before["inspections"] + 1 and after["score"] != before["score"]
    with city_rw.connect() as conn:
        i = Inspection.__table__
        rows = conn.execute(select(i.c.standard_code, i.c.passed, i.c.score, i.c.photo_path)
                            .where(i.c.inspector == "insp").order_by(i.c.standard_code)).all()
    assert [(r[0], r[1], r[2]) for r in rows] == [("1.1.1", True, 2.0), ("1.2.1", False, 1.0), ("9.1.1", False, 0.0)]
    assert rows[2][3] and (tmp_path / rows[2][3]).is_file()
    assert "DW-0001" not in field.due_points(city_rw, INSPECTOR, today, days=3)["code"].tolist()
    assert "DW-0002" in field.due_points(city_rw, INSPECTOR, today, days=3)["code"].tolist()
