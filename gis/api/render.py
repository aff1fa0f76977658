"""Open311 responses in JSON or XML, and its error arrays (``[{"code": 400, "description": …}]``)."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from fastapi.responses import Response

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
#: The XML element of each item in a list, by the list's root element.
ITEMS = {"services": "service", "service_requests": "request", "errors": "error"}


def split_format(name: str) -> tuple[str, str]:
    """``"DC-1.xml"`` → ("DC-1", "xml"); no known suffix → (name, "json")."""
    stem, dot, ext = name.rpartition(".")
    if dot and ext.lower() in FORMATS:
        return stem, ext.lower()
    return name, "json"


def _xml_value(parent: ET.Element, key: str, value) -> None:
    el = ET.SubElement(parent, key)
    if isinstance(value, list):
        for item in value:
            _xml_item(el, "attribute" if key == "attributes" else "item", item)
    elif isinstance(value, bool):
        el.text = "true" if value else "false"
    elif value is not None:
        el.text = str(value)


def _xml_item(parent: ET.Element, tag: str, item: dict) -> None:
    el = ET.SubElement(parent, tag)
    for key, value in item.items():
        _xml_value(el, key, value)


def to_xml(root: str, items: list[dict] | dict) -> bytes:
    top = ET.Element(root)
    if isinstance(items, dict):  # a service definition: one object
        for key, value in items.items():
            _xml_value(top, key, value)
    else:
        for item in items:
            _xml_item(top, ITEMS.get(root, "item"), item)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")


def respond(data, fmt: str, root: str, status: int = 200) -> Response:
    """`data` (a list of objects, or one object) as JSON, or as XML under `root`."""
    if fmt == "xml":
        body = to_xml(root, data)
    else:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Response(body, status_code=status, media_type=FORMATS[fmt])


def errors(status: int, description: str, fmt: str = "json", headers: dict | None = None) -> Response:
    """Open311's error array with one error."""
    resp = respond([{"code": status, "description": description}], fmt, "errors", status)
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp
