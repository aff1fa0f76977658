"""The API page (/docs): the app's own OpenAPI document as one self-contained HTML page.

FastAPI's /docs loads Swagger UI from a CDN, which an intranet cannot reach: this page is
rendered here from ``app.openapi()`` with inline CSS, no script and no external address.
"""

from __future__ import annotations

from html import escape

CSS = """body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:960px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.5}h1{font-size:1.5em}h2{font-size:1.1em;margin-top:2em;border-bottom:1px solid #ddd}
code,pre{background:#f4f4f4;padding:0 .3em;border-radius:3px}pre{padding:.6em;overflow-x:auto}
.m{display:inline-block;min-width:3.5em;font-weight:bold;color:#fff;border-radius:3px;text-align:center;margin-right:.5em}
.GET{background:#2f7d32}.POST{background:#1565c0}table{border-collapse:collapse;width:100%;margin:.5em 0}
td,th{border:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}th{background:#fafafa}"""

EXAMPLE = """curl -X POST http://127.0.0.1:8502/requests.json \\
  --data-urlencode api_key=<密钥> --data-urlencode service_code=<问题类型> \\
  --data-urlencode lat=36.45 --data-urlencode long=115.98 --data-urlencode description=<问题描述>
curl http://127.0.0.1:8502/requests/<诉求编号>.json"""


def _params(op: dict) -> list[tuple[str, str, bool]]:
    out = [(p["name"], p.get("description", ""), p.get("required", False)) for p in op.get("parameters", [])]
    body = op.get("requestBody", {}).get("content", {})
    for media in body.values():
        schema = media.get("schema", {})
        required = set(schema.get("required", []))
        out += [(k, v.get("description", ""), k in required) for k, v in schema.get("properties", {}).items()]
        break
    return out


def page(spec: dict, jurisdictions: str) -> str:
    """The HTML of the API page for an OpenAPI document; `jurisdictions`: the districts (区县) served,
    "东昌府区（371502）、…" (`gis.problems.intake.jurisdiction`)."""
    parts = [f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
             f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
             f"<title>{escape(spec['info']['title'])}</title><style>{CSS}</style></head><body>",
             f"<h1>{escape(spec['info']['title'])}</h1><p>{escape(spec['info'].get('description', ''))}"
             f"辖区（jurisdiction_id，区县代码或名称）：{escape(jurisdictions)}。机器可读的接口说明："
             f"<a href='/openapi.json'>/openapi.json</a>。</p>",
             "<p>返回格式由地址后缀决定：<code>.json</code> 或 <code>.xml</code>。错误按 Open311 规范返回错误数组"
             "（400 参数错误、403 密钥无效、404 不存在、413 请求体过大、429 请求过于频繁）。"
             "新诉求进入“待立案”，由指挥中心立案；status 为 open / closed，status_notes 为中文状态，"
             "agency_responsible 为责任单位，expected_datetime 为整改时限。</p>",
             f"<h2>示例</h2><pre>{escape(EXAMPLE)}</pre>"]
    for path, ops in spec.get("paths", {}).items():
        for method, op in ops.items():
            m = method.upper()
            parts.append(f"<h2><span class='m {m}'>{m}</span><code>{escape(path)}</code></h2>"
                         f"<p>{escape(op.get('summary', ''))}</p>")
            params = _params(op)
            if params:
                rows = "".join(f"<tr><td><code>{escape(n)}</code></td><td>{'是' if r else '否'}</td>"
                               f"<td>{escape(d)}</td></tr>" for n, d, r in params)
                parts.append(f"<table><tr><th>参数</th><th>必填</th><th>说明</th></tr>{rows}</table>")
    parts.append("</body></html>")
    return "".join(parts)
