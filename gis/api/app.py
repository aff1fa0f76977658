"""The Open311 GeoReport v2 routes. Each route reads the request, hands off to
`gis.problems.intake` / `gis.people.apikeys`, and renders (`gis.api.render`): no rule lives here.

    GET  /services.json|xml                  the categories
    GET  /services/{code}[.json|.xml]        one service definition
    POST /requests.json|xml                  a new request (api_key; 待立案)
    GET  /requests.json|xml                  requests, with Open311's filters
    GET  /requests/{id}[.json|.xml]          one request
    POST /requests/{id}/followup[.json|.xml] 12345 回访 (api_key; extension)
    GET  /media/{path}                       stored report photos (EXIF stripped)
    GET  /docs, /openapi.json                the API page, served from here (no CDN)

The GET routes read from the read replica (DATABASE_READ_URL) when `engine` is DATABASE_URL's and a
replica is configured and answers (gis.db.engine.with_read_engine); POSTs write to `engine`. A request
just posted that the replica does not have yet is looked up again on `engine`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from sqlalchemy import Engine

from gis.api import docs, limits
from gis.api.render import errors, respond, split_format
from gis.config import setting
from gis.db.engine import get_read_engine, with_read_engine
from gis.people import apikeys, audit
from gis.problems import intake, photos

log = logging.getLogger("gis.api")
MAX_FORM_FIELDS = 40

#: OpenAPI parameters of each route (the docs page reads them from /openapi.json).
_Q = lambda name, text, required=False: {"name": name, "in": "query", "required": required,  # noqa: E731
                                         "description": text, "schema": {"type": "string"}}
POST_FIELDS = {
    "api_key": "接口密钥（必填；也可放在 X-Api-Key 请求头）",
    "service_code": "问题类型（必填，见 /services.json）",
    "lat": "纬度（必填）", "long": "经度（必填）",
    "coords": "坐标系：wgs84（默认）或 gcj02（高德等国内地图应用）",
    "description": "问题描述（必填，最多 2000 字）",
    "address_string": "地址（可选，最多 200 字）",
    "media_url": "照片地址（可选，http/https）",
    "media": "照片文件（可选，multipart/form-data；JPEG/PNG/WebP，≤ 10 MB，保存时去除 EXIF）",
    "jurisdiction_id": "辖区（可选）：区县代码（如 371521）或名称（如 阳谷县）；给出时坐标须在该区县内，"
                       "不给出时按坐标所在区县受理",
}
JURISDICTION = "辖区（可选）：区县代码（如 371521）或名称；只返回该区县的诉求"


def _form_schema(fields: dict, required: tuple) -> dict:
    props = {k: {"type": "string", "description": v} for k, v in fields.items()}
    props.get("media", {}).update(format="binary")
    schema = {"type": "object", "properties": props, "required": list(required)}
    return {"requestBody": {"required": True, "content": {
        "application/x-www-form-urlencoded": {"schema": schema}, "multipart/form-data": {"schema": schema}}}}


def create_app(engine: Engine, photo_dir: Path | None = None) -> FastAPI:
    """The API app on `engine`. Settings: GRIDMAP_API_RATE, GRIDMAP_API_MAX_BODY_MB, GRIDMAP_API_CORS_ORIGINS."""
    app = FastAPI(title="创城网格地图 Open311 接口", version="GeoReport v2",
                  description=f"{intake.jurisdiction(engine, codes=False)}城市管理问题受理接口（Open311 GeoReport v2）。",
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    rate = limits.RateLimit(limits.rate_per_minute())
    folder = Path(photo_dir) if photo_dir is not None else photos.upload_dir()
    origins = [o.strip() for o in (setting("GRIDMAP_API_CORS_ORIGINS", "") or "").split(",") if o.strip()]
    if origins:  # CORS is off unless origins are listed
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                           allow_headers=["X-Api-Key", "Content-Type"])
    app.add_middleware(limits.BodyLimit, limit=limits.max_body_bytes())

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        text = {404: "没有这个接口地址。", 405: "该接口地址不支持此请求方法。"}.get(exc.status_code, "请求无效。")
        return errors(exc.status_code, text, split_format(request.url.path)[1])

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception):
        log.exception("API error on %s", request.url.path)
        return errors(500, "服务器内部错误，请稍后重试；如持续出现请联系管理员。", split_format(request.url.path)[1])

    def limited(request: Request, api_key: str | None, fmt: str) -> Response | None:
        wait = rate.retry_after(limits.client_key(api_key, request.client.host if request.client else None))
        if wait:
            return errors(429, f"请求过于频繁：每分钟最多 {rate.per_minute} 次，请 {wait} 秒后重试。", fmt,
                          {"Retry-After": str(wait)})
        return None

    def key_of(request: Request, form: dict | None = None) -> str | None:
        return (form or {}).get("api_key") or request.headers.get("x-api-key") or request.query_params.get("api_key")

    def media_base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def reads(fn, *args, **kwargs):
        """`fn(engine, *args, **kwargs)` on the read replica, else on `engine` (a read)."""
        return with_read_engine(lambda e: fn(e, *args, **kwargs), engine)

    async def call(fmt: str, root: str, fn, *args, status: int = 200, **kwargs) -> Response:
        try:
            data = await run_in_threadpool(fn, *args, **kwargs)
        except intake.IntakeError as exc:
            return errors(exc.status, str(exc), fmt)
        return respond(data, fmt, root, status)

    # --- services -------------------------------------------------------------------------

    @app.get("/services.{format}", summary="问题类型列表（服务）", )
    async def list_services(request: Request, format: str):
        fmt = _fmt(format)
        return limited(request, key_of(request), fmt) or await call(fmt, "services", reads, intake.services)

    @app.get("/services/{code}", summary="一个问题类型的服务定义（可加 .json / .xml）")
    async def one_service(request: Request, code: str):
        code, fmt = split_format(code)
        return limited(request, key_of(request), fmt) or await call(fmt, "service_definition", reads,
                                                                     intake.service, code)

    # --- requests -------------------------------------------------------------------------

    @app.post("/requests.{format}", summary="上报诉求（待立案）",
              openapi_extra={**_form_schema(POST_FIELDS, (
                  "api_key", "service_code", "lat", "long", "description"))})
    async def post_request(request: Request, format: str):
        fmt = _fmt(format)
        form, photo, name = await _read_form(request)
        if isinstance(form, Response):
            return form
        key = key_of(request, form)
        if (blocked := limited(request, key, fmt)) is not None:
            return blocked
        actor = await run_in_threadpool(apikeys.client, engine, key)
        if actor is None:
            await run_in_threadpool(_audit_refused, engine, request, key)
            return errors(403, "api_key 缺失、无效或已撤销。", fmt)
        return await call(fmt, "service_requests", lambda: [intake.submit(
            engine, actor, form, photo, name, photo_dir=folder)], status=201)

    @app.get("/requests.{format}", summary="查询诉求",
             openapi_extra={"parameters": [
                 _Q("service_request_id", "诉求编号，多个用逗号分隔（给出时忽略其他条件）"),
                 _Q("service_code", "问题类型"), _Q("start_date", "上报时间起（ISO 8601）"),
                 _Q("end_date", "上报时间止（ISO 8601）"), _Q("status", "open、closed 或 open,closed"),
                 _Q("jurisdiction_id", JURISDICTION)]})
    async def get_requests(request: Request, format: str):
        fmt = _fmt(format)
        q = request.query_params
        if (blocked := limited(request, key_of(request), fmt)) is not None:
            return blocked

        def run():
            district = intake.check_jurisdiction(engine, q.get("jurisdiction_id"))
            ids = [s.strip() for s in (q.get("service_request_id") or "").split(",") if s.strip()]
            start = intake.parse_time(q["start_date"], "start_date") if q.get("start_date") else None
            end = intake.parse_time(q["end_date"], "end_date") if q.get("end_date") else None
            return reads(intake.requests, ids or None, q.get("service_code") or None, start, end,
                         q.get("status") or None, media_base=media_base(request), district=district)

        return await call(fmt, "service_requests", run)

    @app.get("/requests/{code}", summary="一条诉求（可加 .json / .xml）",
             openapi_extra={"parameters": [_Q("jurisdiction_id", "辖区（可选）：区县代码或名称；诉求不属于该区县时为 404")]})
    async def get_request(request: Request, code: str):
        code, fmt = split_format(code)
        if (blocked := limited(request, key_of(request), fmt)) is not None:
            return blocked
        def run():
            district = intake.check_jurisdiction(engine, request.query_params.get("jurisdiction_id"))
            try:
                return [reads(intake.request, code, media_base(request), district)]
            except intake.IntakeError as exc:
                if exc.status != 404 or get_read_engine(engine) is engine:
                    raise
                return [intake.request(engine, code, media_base(request), district)]  # just posted: not on the replica yet

        return await call(fmt, "service_requests", run)

    @app.post("/requests/{code}/followup", summary="12345 回访：满意 / 基本满意 / 不满意（扩展接口，可加 .json / .xml）",
              openapi_extra=_form_schema({"api_key": "接口密钥（必填）", "satisfaction": "满意、基本满意或不满意（必填）",
                                          "note": "回访说明（可选）"}, ("api_key", "satisfaction")))
    async def post_followup(request: Request, code: str):
        fmt = "xml" if request.url.path.endswith(".xml") else "json"
        form, _, _ = await _read_form(request)
        if isinstance(form, Response):
            return form
        key = key_of(request, form)
        if (blocked := limited(request, key, fmt)) is not None:
            return blocked
        actor = await run_in_threadpool(apikeys.client, engine, key)
        if actor is None:
            return errors(403, "api_key 缺失、无效或已撤销。", fmt)
        return await call(fmt, "service_requests", lambda: [intake.follow_up(
            engine, actor, code, form.get("satisfaction"), form.get("note"))])

    for suffix in (".json", ".xml"):
        app.add_api_route(f"/requests/{{code}}/followup{suffix}", post_followup, methods=["POST"],
                          include_in_schema=False)

    # --- photos and the API page ------------------------------------------------------------

    @app.get("/media/{path:path}", summary="诉求照片（已去除 EXIF）")
    async def media(path: str):
        target = (folder / path).resolve()
        if not path.startswith("reports/") or not target.is_relative_to(folder.resolve()) or not target.is_file():
            return errors(404, "照片不存在。")
        return FileResponse(target, media_type="image/jpeg")

    @app.get("/docs", include_in_schema=False)
    async def api_page():
        return HTMLResponse(docs.page(app.openapi(), await run_in_threadpool(intake.jurisdiction, engine)))

    @app.get("/", include_in_schema=False)
    async def root():
        return HTMLResponse(docs.page(app.openapi(), await run_in_threadpool(intake.jurisdiction, engine)))

    return app


def _fmt(value: str) -> str:
    if value not in ("json", "xml"):
        raise StarletteHTTPException(404)
    return value


async def _read_form(request: Request):
    """(fields, photo bytes, photo name) of a form-encoded, multipart or JSON body, or an error response."""
    fmt = "xml" if request.url.path.endswith(".xml") else "json"
    ctype = request.headers.get("content-type", "")
    try:
        if ctype.startswith("application/json"):
            data = json.loads(await request.body() or b"{}")
            if not isinstance(data, dict):
                raise ValueError
            return {k: (str(v) if v is not None else None) for k, v in data.items()}, None, None
        form = await request.form(max_files=1, max_fields=MAX_FORM_FIELDS)
    except Exception:  # noqa: BLE001  (malformed body of any kind: one clear answer)
        if request.scope.get("gridmap.body_too_large"):
            raise limits.BodyTooLarge from None
        return errors(400, "请求体无法解析：请用 application/x-www-form-urlencoded、multipart/form-data 或 JSON。",
                      fmt), None, None
    fields, photo, name = {}, None, None
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key == "media":
                photo, name = await value.read(), value.filename
        else:
            fields[key] = value
    return fields, photo, name


def _audit_refused(engine: Engine, request: Request, key: str | None) -> None:
    with engine.begin() as conn:
        audit.record(conn, "接口", "apikey.refused", "apikey", None,
                     {"地址": request.client.host if request.client else None, "有密钥": bool(key),
                      "路径": request.url.path})
