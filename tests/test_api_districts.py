"""The Open311 API of a deployment with several districts (区县, issue 17): `jurisdiction_id` is a district
(code or name). Served by uvicorn in a subprocess and driven with httpx (tests/test_api.py), on both backends.

The city: the demo's 东昌府区 and 阳谷县, 600 problems; one API key serves both districts.
"""

from __future__ import annotations

from datetime import date, datetime

import httpx
import pytest
from sqlalchemy import func, select

from gis.db.engine import get_engine
from gis.db.models import Problem
from gis.demo.districts import select_districts
from gis.people import apikeys
from tests.conftest import new_database_url
from tests.test_api import ADMIN, served_api

HOME, YG = "371502", "371521"
SINCE = "2026-08-01T00:00:00+08:00"


@pytest.fixture(scope="module")
def api(backend_name, tmp_path_factory):
    from gis.demo.build import build_demo

    engine = get_engine(new_database_url(backend_name, tmp_path_factory, "apidistricts"))
    build_demo(engine, n_problems=600, until=date(2026, 11, 20), out_dir=None, districts=select_districts("阳谷县"))
    key = apikeys.create(engine, ADMIN, "12345热线")
    uploads = tmp_path_factory.mktemp("uploads")
    with served_api(engine, uploads) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield client, key, engine


def _place(engine, district: str) -> tuple[str, str]:
    """(lat, long) of one of the district's problems: inside one of its grids."""
    p = Problem.__table__
    with engine.connect() as conn:
        lon, lat = conn.execute(select(p.c.lon, p.c.lat).where(p.c.district_code == district, p.c.grid_id.is_not(None))
                                .order_by(p.c.code).limit(1)).one()
    return f"{float(lat):.6f}", f"{float(lon):.6f}"


def _post(client, key, place, **fields):
    lat, lon = place
    data = {"api_key": key, "service_code": "暴露垃圾", "lat": lat, "long": lon, "description": "路口垃圾堆放", **fields}
    return client.post("/requests.json", data={k: v for k, v in data.items() if v is not None})


def _district_of(engine, code: str) -> str:
    p = Problem.__table__
    with engine.connect() as conn:
        return conn.execute(select(p.c.district_code).where(p.c.code == code)).scalar_one()


def _count(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Problem.__table__)).scalar())


def test_a_request_lies_in_its_jurisdiction(api):
    client, key, engine = api
    yg, home = _place(engine, YG), _place(engine, HOME)
    for jurisdiction in (YG, "阳谷县"):
        r = _post(client, key, yg, jurisdiction_id=jurisdiction)
        assert r.status_code == 201, r.text
        code = r.json()[0]["service_request_id"]
        assert _district_of(engine, code) == YG and "YG-" in r.json()[0]["service_notice"]
    before = _count(engine)
    r = _post(client, key, home, jurisdiction_id=YG)
    assert r.status_code == 400
    assert f"不在阳谷县（jurisdiction_id={YG}）内，不予受理" in r.json()[0]["description"]
    r = _post(client, key, yg, jurisdiction_id="东昌府区")
    assert r.status_code == 400 and f"不在东昌府区（jurisdiction_id={HOME}）内" in r.json()[0]["description"]
    r = _post(client, key, yg, jurisdiction_id="莘县")
    assert r.status_code == 404
    assert "jurisdiction_id“莘县”不存在：本系统只受理东昌府区（371502）、阳谷县（371521）的诉求" in r.json()[0]["description"]
    r = _post(client, key, ("36.000000", "117.500000"))  # in neither district
    assert r.status_code == 400 and "不在东昌府区、阳谷县内" in r.json()[0]["description"]
    assert _count(engine) == before
    # without jurisdiction_id: the district the point lies in, with the deployment's one key
    for place, district in ((yg, YG), (home, HOME)):
        r = _post(client, key, place)
        assert r.status_code == 201, r.text
        assert _district_of(engine, r.json()[0]["service_request_id"]) == district


def test_requests_are_listed_by_jurisdiction(api):
    client, key, engine = api
    made = _post(client, key, _place(engine, YG)).json()[0]["service_request_id"]
    p = Problem.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(p.c.code, p.c.district_code).where(p.c.reported_at >= datetime(2026, 8, 1))).all()
    expected = {d: {c for c, dc in rows if dc == d} for d in (HOME, YG)}
    assert expected[YG] and expected[HOME] and len(rows) <= 1000
    listed = {}
    for jurisdiction, district in ((YG, YG), ("阳谷县", YG), (HOME, HOME)):
        r = client.get("/requests.json", params={"jurisdiction_id": jurisdiction, "start_date": SINCE})
        assert r.status_code == 200, r.text
        listed[jurisdiction] = {x["service_request_id"] for x in r.json()}
        assert listed[jurisdiction] == expected[district], jurisdiction
    everything = {x["service_request_id"] for x in client.get("/requests.json", params={"start_date": SINCE}).json()}
    assert everything == expected[YG] | expected[HOME] and made in listed[YG]
    assert client.get("/requests.json", params={"jurisdiction_id": "朝阳区"}).status_code == 404
    assert client.get(f"/requests/{made}.json", params={"jurisdiction_id": YG}).status_code == 200
    r = client.get(f"/requests/{made}.json", params={"jurisdiction_id": HOME})
    assert r.status_code == 404 and "不属于辖区 371502" in r.json()[0]["description"]


def test_docs_name_the_districts(api):
    client, *_ = api
    spec = client.get("/openapi.json").json()
    assert spec["info"]["description"].startswith("东昌府区、阳谷县城市管理问题受理接口")
    get_params = {q["name"]: q.get("description", "") for q in spec["paths"]["/requests.{format}"]["get"]["parameters"]}
    assert "区县代码" in get_params["jurisdiction_id"] and "只返回该区县的诉求" in get_params["jurisdiction_id"]
    body = spec["paths"]["/requests.{format}"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert "坐标须在该区县内" in body["properties"]["jurisdiction_id"]["description"]
    one = {q["name"] for q in spec["paths"]["/requests/{code}"]["get"]["parameters"]}
    assert one == {"code", "jurisdiction_id"}
    page = client.get("/docs").text
    assert "辖区（jurisdiction_id，区县代码或名称）：东昌府区（371502）、阳谷县（371521）" in page
