"""A bare Streamlit websocket client for attack tests: what a browser would be sent, without a browser.

`visit(base, page)` opens ``/_stcore/stream`` as the Streamlit frontend does, asks for one page
(``page`` is the URL path, e.g. ``"wall"``; ``query`` the query string), and collects every
element the server sends until the page is shown and Streamlit says it is done. The text of all
deltas is kept, so a test can look for data that must never reach a signed-out visitor.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect


@dataclass
class Visit:
    page: str
    deltas: list[str] = field(default_factory=list)  # each delta as text (protobuf strings are UTF-8)
    finished: int = 0  # completed script runs
    page_not_found: bool = False

    @property
    def text(self) -> str:
        return "\n".join(self.deltas)


def _rerun(page: str, query: str, fragment_id: str = "", auto: bool = False) -> bytes:
    msg = BackMsg()
    msg.rerun_script.query_string = query
    msg.rerun_script.page_name = page
    msg.rerun_script.page_script_hash = ""
    if fragment_id:
        msg.rerun_script.fragment_id = fragment_id
        msg.rerun_script.is_auto_rerun = auto
    return msg.SerializeToString()


def visit(base: str, page: str = "", query: str = "", until: str = "创城网格地图 · 登录",
          timeout: float = 60) -> Visit:
    """Open `page` signed out and read until `until` was drawn and a run finished (or `timeout`)."""
    out = Visit(page)
    url = base.replace("http://", "ws://") + "/_stcore/stream"
    deadline = time.monotonic() + timeout
    with connect(url, subprotocols=["streamlit"], open_timeout=timeout, max_size=None) as ws:
        ws.send(_rerun(page, query))
        while time.monotonic() < deadline:
            try:
                raw = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "delta":
                out.deltas.append(msg.delta.SerializeToString().decode("utf-8", errors="replace"))
            elif kind == "page_not_found":
                out.page_not_found = True
            elif kind == "script_finished":
                out.finished += 1
                if until in out.text and msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                    break
    return out
