"""The Open311 API served by uvicorn in a subprocess, driven with a real HTTP client (httpx), on both backends."""

from __future__ import annotations

import contextlib
from datetime import datetime
import io
import json
import os
import subprocess
import sys
import time
from xml.etree import ElementTree as ET

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from gis.db import migrate
from gis.db.engine import get_engine
from gis.db.models import AuditEntry, Problem, ProblemEvent
from gis.geo import china
from gis.people import apikeys
from gis.people.permissions import COMMAND, VERIFIER, Actor
from gis.problems import workflow
from gis.problems import photos
from tests.browser import ROOT, _free_port
from tests.conftest import load_small_city, new_database_url
from tests.photo_files import jpeg_with_gps

NOW = "2026-11-20T10:00:00"
ADMIN = Actor.system("测试")


@contextlib.contextmanager
def served_api(engine, upload_dir, env: dict | None = None, timeout: float = 60):
    """`python -m gis api` on a free port; yields its base URL."""
    port = _free_port()
    url = engine.url.render_as_string(hide_password=False)
    proc_env = {**os.environ, "GRIDMAP_NOW": NOW, "GRIDMAP_UPLOAD_DIR": str(upload_dir), **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "gis", "--database", url, "api", "--port", str(port)],
                            cwd=ROOT, env=proc_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(base + "/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                raise RuntimeError(f"api did not start:\n{out[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def api(backend_name, tmp_path_factory):
    """One served API per backend for this module, on its own copy of the small city."""
    engine = get_engine(new_database_url(backend_name, tmp_path_factory, "api"))
    migrate.upgrade(engine)
    load_small_city(engine)
    key = apikeys.create(engine, ADMIN, "12345热线")
    uploads = tmp_path_factory.mktemp("uploads")
    with served_api(engine, uploads) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield client, key, engine, uploads


def _count(engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(Problem.__table__.c.id)).all())


def _post(client, key, **fields):
    data = {"api_key": key, "service_code": "暴露垃圾", "lat": "36.445", "long": "115.985",
            "description": "小区门口垃圾堆放三天", **fields}
    return client.post("/requests.json", data={k: v for k, v in data.items() if v is not None})


def test_services_json_and_xml(api):
    client, _, _, _ = api
    r = client.get("/services.json")
    assert r.status_code == 200
    codes = {s["service_code"]: s for s in r.json()}
    assert set(codes) == {"占道经营", "暴露垃圾", "露天烧烤"}
    assert codes["暴露垃圾"]["description"] == "整改时限 4 自然时"
    root = ET.fromstring(client.get("/services.xml").content)
    assert root.tag == "services" and {s.findtext("service_code") for s in root.findall("service")} == set(codes)
    assert client.get("/services/暴露垃圾.json").json() == {"service_code": "暴露垃圾", "attributes": []}
    missing = client.get("/services/没有.xml")
    assert missing.status_code == 404
    err = ET.fromstring(missing.content).find("error")
    assert err.findtext("code") == "404" and "不存在" in err.findtext("description")


def test_post_then_read_back(api):
    client, key, engine, uploads = api
    r = _post(client, key, address_string="古楼街道阳光小区东门")
    assert r.status_code == 201, r.text
    [made] = r.json()
    code = made["service_request_id"]
    assert "待指挥中心立案" in made["service_notice"] and "T-01" in made["service_notice"]
    [req] = client.get(f"/requests/{code}.json").json()
    assert req["status"] == "open" and req["status_notes"] == "待立案"
    assert req["service_code"] == "暴露垃圾" and req["address"] == "古楼街道阳光小区东门"
    assert req["requested_datetime"] == "2026-11-20T10:00:00+08:00"
    assert req["expected_datetime"] == "2026-11-20T14:00:00+08:00"
    assert req["agency_responsible"] is None and (req["lat"], req["long"]) == (36.445, 115.985)
    with engine.connect() as conn:
        p = conn.execute(select(Problem.__table__).where(Problem.__table__.c.code == code)).mappings().one()
        audit = conn.execute(select(AuditEntry.__table__.c.actor).where(AuditEntry.__table__.c.target_code == code)).all()
    assert (p["status"], p["source"], p["reporter"]) == ("待立案", "市民热线", "接口:12345热线")
    assert audit == [("接口:12345热线",)]
    # XML and the list with filters
    root = ET.fromstring(client.get(f"/requests/{code}.xml").content)
    assert root.tag == "service_requests" and root.find("request").findtext("status") == "open"
    listed = client.get("/requests.json", params={"status": "open", "service_code": "暴露垃圾"}).json()
    assert code in [x["service_request_id"] for x in listed]
    assert all(x["status"] == "open" and x["service_code"] == "暴露垃圾" for x in listed)
    assert code not in [x["service_request_id"] for x in client.get("/requests.json", params={"status": "closed"}).json()]
    assert client.get("/requests.json", params={"start_date": "2026-11-21T00:00:00+08:00"}).json() == []
    # the command centre registers and dispatches: the status and the responsible unit follow
    workflow.register(engine, Actor("调度", COMMAND), code, now=datetime(2026, 11, 20, 11))
    workflow.dispatch(engine, Actor("网格员", "网格员", "T-01"), code, "U-002", now=datetime(2026, 11, 20, 11, 30))
    [req] = client.get("/requests.json", params={"service_request_id": f"{code},NOPE"}).json()
    assert req["status_notes"] == "整改中" and req["agency_responsible"]
    assert req["expected_datetime"] == "2026-11-20T15:00:00+08:00"
    assert req["updated_datetime"] == "2026-11-20T11:30:00+08:00"


def test_gcj02_declared_and_photo_upload(api):
    client, key, engine, uploads = api
    gx, gy = china.wgs84_to_gcj02(115.995, 36.455)
    photo = jpeg_with_gps(115.985, 36.445, size=(3000, 2000))
    r = client.post("/requests.json", data={"api_key": key, "service_code": "占道经营", "lat": f"{float(gy):.7f}",
                                            "long": f"{float(gx):.7f}", "coords": "gcj02", "description": "占道摆摊"},
                    files={"media": ("现场.jpg", photo, "image/jpeg")})
    assert r.status_code == 201, r.text
    [req] = client.get(f"/requests/{r.json()[0]['service_request_id']}.json").json()
    assert abs(req["long"] - 115.995) < 1e-5 and abs(req["lat"] - 36.455) < 1e-5
    assert "T-04" in r.json()[0]["service_notice"]
    served = client.get(req["media_url"].replace(str(client.base_url), ""))
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    img = Image.open(io.BytesIO(served.content))
    # turned upright (orientation 6: the 3:2 landscape pixels become portrait) and scaled to the long side
    assert img.size[1] == photos.MAX_SIDE and abs(img.size[0] - photos.MAX_SIDE * 2 / 3) <= 1
    assert dict(img.getexif()) == {}  # no EXIF served (no GPS, no camera)
    assert client.get("/media/../secrets.toml").status_code == 404


@pytest.mark.parametrize("fields, status, words", [
    ({"api_key": None}, 403, "api_key"),
    ({"api_key": "not-a-key"}, 403, "api_key"),
    ({"service_code": None}, 400, "缺少 service_code"),
    ({"service_code": "乱扔"}, 400, "不是已有的问题类型"),
    ({"lat": None}, 400, "缺少 lat"),
    ({"long": "东经"}, 400, "不是数字"),
    ({"description": "  "}, 400, "缺少 description"),
    ({"lat": "39.9", "long": "116.4"}, 400, "不在东昌府区内"),
    ({"coords": "bd09"}, 400, "coords"),
    ({"jurisdiction_id": "朝阳区"}, 404, "只受理东昌府区"),
    ({"media_url": "ftp://x"}, 400, "media_url"),
])
def test_refused_requests_write_nothing(api, fields, status, words):
    client, key, engine, _ = api
    before = _count(engine)
    r = _post(client, key, **fields)
    assert r.status_code == status, r.text
    [err] = r.json()
    assert err["code"] == status and words in err["description"], err
    assert _count(engine) == before


def test_revoked_key_bad_photo_and_xml_error(api):
    client, _, engine, _ = api
    key = apikeys.create(engine, ADMIN, "临时")
    before = _count(engine)
    r = client.post("/requests.xml", data={"api_key": key, "service_code": "暴露垃圾", "lat": "36.445",
                                           "long": "115.985", "description": "x"},
                    files={"media": ("a.jpg", b"not a picture", "image/jpeg")})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/xml")
    assert "无法识别" in ET.fromstring(r.content).find("error").findtext("description")
    apikeys.revoke(engine, ADMIN, "临时")
    r = _post(client, key)
    assert r.status_code == 403 and "已撤销" in r.json()[0]["description"]
    assert _count(engine) == before
    assert client.get("/requests/NOPE.json").status_code == 404
    assert client.get("/nowhere").json() == [{"code": 404, "description": "没有这个接口地址。"}]
    assert client.get("/requests.json", params={"start_date": "昨天"}).status_code == 400
    assert client.get("/requests.json", params={"status": "pending"}).status_code == 400


def test_oversized_body_is_refused(api):
    client, key, engine, _ = api
    before = _count(engine)
    big = b"\xff\xd8\xff" + b"0" * (9 * 1024 * 1024)
    r = client.post("/requests.json", data={"api_key": key}, files={"media": ("big.jpg", big, "image/jpeg")})
    assert r.status_code == 413 and "请求体过大" in r.json()[0]["description"]

    def chunks():  # no Content-Length: the limit holds on the stream too
        for _ in range(10):
            yield b"a" * (1024 * 1024)
    r = client.post("/requests.json", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert _count(engine) == before


def test_followup_and_satisfaction(api, capsys):
    client, key, engine, _ = api
    code = _post(client, key).json()[0]["service_request_id"]
    r = client.post(f"/requests/{code}/followup.json", data={"api_key": key, "satisfaction": "满意"})
    assert r.status_code == 400 and "结案后才能回访" in r.json()[0]["description"]
    t = datetime(2026, 11, 20, 11)
    workflow.register(engine, Actor("调度", COMMAND), code, now=t)
    grid = Actor("网格员", "网格员", "T-01")
    workflow.dispatch(engine, grid, code, "U-002", now=t)
    workflow.submit(engine, grid, code, "已清运", now=t)
    workflow.verify(engine, Actor("核查", VERIFIER), code, now=t)
    assert client.get(f"/requests/{code}.json").json()[0]["status"] == "closed"
    r = client.post(f"/requests/{code}/followup.json", data={"api_key": key, "satisfaction": "很好"})
    assert r.status_code == 400 and "满意、基本满意、不满意" in r.json()[0]["description"]
    r = client.post(f"/requests/{code}/followup.json", data={"api_key": key, "satisfaction": "基本满意"})
    assert r.status_code == 200, r.text
    [req] = client.get(f"/requests/{code}.json").json()
    assert req["status_notes"] == "已结案；回访：基本满意"
    again = client.post(f"/requests/{code}/followup.json", data={"api_key": key, "satisfaction": "满意"})
    assert again.status_code == 400 and "不能重复回访" in again.json()[0]["description"]
    with engine.connect() as conn:
        e = ProblemEvent.__table__
        assert conn.execute(select(e.c.action, e.c.note).where(e.c.action == "回访")).all() == [("回访", "基本满意")]
    # 满意率 joins the month's figures
    from gis.cli.main import main

    url = engine.url.render_as_string(hide_password=False)
    assert main(["--database", url, "figures", "--month", "2026-11", "--as-of", "2026-11-30", "--json"]) == 0
    city = json.loads(capsys.readouterr().out)["city"]
    assert (city["回访数"], city["满意率"]) == (1, 1.0)


def test_docs_page_is_self_contained(api):
    client, *_ = api
    page = client.get("/docs")
    assert page.status_code == 200 and "POST" in page.text and "/requests.{format}" in page.text
    assert "service_code" in page.text and "待立案" in page.text
    for needle in ("cdn", "unpkg", "jsdelivr", "<script", "https://", "swagger"):
        assert needle not in page.text.lower(), needle
    assert client.get("/openapi.json").json()["info"]["title"] == "创城网格地图 Open311 接口"
    assert "access-control-allow-origin" not in client.get("/services.json", headers={"Origin": "http://evil"}).headers


def test_rate_limit(city_rw, tmp_path):
    key = apikeys.create(city_rw, ADMIN, "小程序")
    with served_api(city_rw, tmp_path, {"GRIDMAP_API_RATE": "3"}) as base, httpx.Client(base_url=base) as client:
        codes = [client.get("/services.json", headers={"X-Api-Key": key}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = client.get("/services.json", headers={"X-Api-Key": key})
        assert int(r.headers["retry-after"]) >= 1 and "每分钟最多 3 次" in r.json()[0]["description"]


def test_apikey_cli(city_rw, capsys):
    from gis.cli.main import main

    url = city_rw.url.render_as_string(hide_password=False)
    assert main(["--database", url, "apikey", "create", "微信小程序"]) == 0
    key = capsys.readouterr().out.strip().rsplit("：", 1)[1]
    assert apikeys.client(city_rw, key).username == "接口:微信小程序"
    assert main(["--database", url, "apikey", "create", "微信小程序"]) == 1
    assert "已存在" in capsys.readouterr().err
    assert main(["--database", url, "apikey", "revoke", "微信小程序"]) == 0
    assert apikeys.client(city_rw, key) is None
    assert main(["--database", url, "apikey", "list"]) == 0
    listed = capsys.readouterr().out
    assert "微信小程序\t" in listed and "已撤销" in listed
    with city_rw.connect() as conn:
        a = AuditEntry.__table__
        acts = [r[0] for r in conn.execute(select(a.c.action).where(a.c.target_code == "微信小程序"))]
    assert acts == ["apikey.create", "apikey.revoke"]
