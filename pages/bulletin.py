"""督查通报: build the month's bulletin as Word and PDF (领导 and 管理员), with the 整改要求 text
editable before export. The bulletin itself is gis.accountability.bulletin (the same as
`python -m gis bulletin`); this page reads the widgets and offers the files for download."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from gis import clock
from gis.accountability import bulletin
from gis.accountability.fonts import FontMissing
from gis.metrics.periods import add_months, month_start
from gis.people.permissions import PermissionDenied, allowed
from pages import cache
from pages.ui import current_actor, md_escape
from pages import gate

gate.require()  # first: no page runs without the sign-in gate (pages/gate.py)

actor = current_actor()
st.title("督查通报")
if actor is None or not allowed(actor, "bulletin.export"):
    st.error("无权访问：督查通报仅限领导和管理员导出。")
    st.stop()

this = month_start(clock.today())
months = [add_months(this, -i) for i in range(13)]
a, b, c = st.columns(3)
month = a.selectbox("月份", months, index=1, format_func=lambda d: f"{d.year}年{d.month}月", key="bulletin_month")
number = b.number_input(f"文号序号（{bulletin.number_prefix()}〔{month.year}〕N号）", min_value=1, max_value=999,
                        value=month.month, key="bulletin_number")
district = c.text_input("街道（留空为全部）", key="bulletin_district").strip() or None
text = st.text_area("整改要求（导出前可修改，每行一段）", value=bulletin.DEFAULT_REQUIREMENTS, height=160,
                    key="bulletin_requirements")
if st.button("生成督查通报", type="primary", key="bulletin_build"):
    with st.spinner("正在生成 Word 和 PDF……"):
        try:
            with tempfile.TemporaryDirectory(prefix="bulletin-") as tmp:
                out = bulletin.build(cache.engine(), actor, month, Path(tmp), number=int(number), requirements=text,
                                     subdistrict=district)
                st.session_state["bulletin_files"] = {k: (v.name, v.read_bytes()) for k, v in out.items()
                                                      if k in bulletin.FORMATS}
                st.session_state["bulletin_seconds"] = out["seconds"]
        except (bulletin.BulletinError, PermissionDenied, FontMissing, ValueError) as exc:
            st.error(md_escape(str(exc)))
files = st.session_state.get("bulletin_files")
if files:
    st.success(f"已生成（用时 {st.session_state.get('bulletin_seconds', 0):.1f} 秒）。")
    left, right = st.columns(2)
    mimes = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "pdf": "application/pdf"}
    for col, fmt in ((left, "docx"), (right, "pdf")):
        if fmt in files:
            name, data = files[fmt]
            col.download_button(f"下载 {fmt.upper()}（{len(data) / 1024:.0f} KB）", data, file_name=name, mime=mimes[fmt],
                                key=f"bulletin_dl_{fmt}")
