"""登录: the sign-in form the gate (pages/gate.py) shows to everyone not signed in.

A module, not a page script: the gate calls `render()` instead of registering a page, so a
signed-out session has no page it could switch to.
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from gis.people import auth
from gis.config import setting
from gis.geo.district import district_name
from gis.io import InputError, readers
from gis.io.crs import COORD_LABELS
from gis.io.first_run import init_city
from pages.ui import md_escape

BOUNDARY_TYPES = ["geojson", "json", "zip", "shp", "dbf", "shx", "prj", "cpg", "gpkg"]


def render(engine, oidc: bool = False, message: str | None = None) -> None:
    """The sign-in form; on success the Actor goes into st.session_state and the app reruns."""
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("创城网格地图 · 登录")
        st.caption(f"{md_escape(district_name())}创建全国文明城市网格化管理平台。请使用管理员分配的账户登录。")
        if message:
            st.warning(md_escape(message))
        if auth.user_count(engine) == 0:
            st.info("系统中还没有用户。请在下方“初始化”设置辖区并创建首个管理员（或在服务器上运行 "
                    "`python -m gis init`，或 `python -m gis user add admin --role 管理员`），或运行 `python -m gis demo` "
                    "生成示范城区与示范账户（密码见 `data/demo_users.txt`）。")
            _first_run(engine)
        with st.form("login_form"):
            username = st.text_input("用户名", max_chars=auth.MAX_USERNAME_LENGTH, key="login_username")
            password = st.text_input("密码", type="password", max_chars=256, key="login_password")
            submitted = st.form_submit_button("登录", type="primary", width="stretch")
        if submitted:
            client = auth.client_key(st.context.ip_address, st.context.headers)
            result = auth.authenticate(engine, username, password, datetime.now(), client=client)
            if result.ok:
                st.session_state.update(actor=result.actor, auth_source="password", last_seen=datetime.now())
                st.rerun()
            if result.locked_until is not None:
                st.error(result.message, icon=":material/lock:")
            else:
                st.error(result.message)
        if oidc:
            st.divider()
            provider = setting("GRIDMAP_OIDC_PROVIDER")
            if st.button("使用统一身份认证登录", key="login_oidc", width="stretch"):
                if provider:
                    st.login(provider)
                else:
                    st.login()
        st.caption(f"连续 {auth.lockout_attempts()} 次密码错误将锁定账户 {auth.lockout_minutes():g} 分钟；"
                   f"{auth.idle_minutes():g} 分钟未操作自动退出。")


def _first_run(engine) -> None:
    """初始化 of a system without any user (gis.io.first_run, which refuses once a user exists): the
    district boundary, its name and the first 管理员. Shown only while the users table is empty."""
    import tempfile
    from pathlib import Path

    # Streamlit's uploader speaks English ("Upload", "… per file"): said in Chinese with CSS (as pages/mobile.py)
    st.markdown("""<style>
[data-testid="stFileUploaderDropzoneInstructions"] > div > span,
[data-testid="stFileUploaderDropzoneInstructions"] > div > small {display:none}
[data-testid="stFileUploaderDropzoneInstructions"] > div::after {content:"边界文件（GeoJSON、GeoPackage、Shapefile 或其 .zip）";
  font-size:0.9rem}
[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"],
[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] * {font-size:0 !important}
[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"]::after {content:"选择文件";
  font-size:1rem; white-space:nowrap}
</style>""", unsafe_allow_html=True)
    with st.expander("初始化（新城市上线）", expanded=True):
        with st.form("first_run_form"):
            files = st.file_uploader("辖区边界（GeoJSON、GeoPackage，或 Shapefile 的 .shp/.dbf/.shx/.prj 或 .zip）",
                                     type=BOUNDARY_TYPES, accept_multiple_files=True, key="first_run_boundary")
            coords = st.selectbox("边界坐标来源", list(COORD_LABELS), format_func=COORD_LABELS.get, key="first_run_coords",
                                  help="高德 / DataV 导出的边界为 GCJ-02，百度为 BD-09。")
            name = st.text_input("辖区名称", placeholder="如 东昌府区", max_chars=20, key="first_run_name")
            admin = st.text_input("管理员用户名", value="admin", max_chars=auth.MAX_USERNAME_LENGTH, key="first_run_admin")
            password = st.text_input("管理员密码", type="password", max_chars=256, key="first_run_password")
            again = st.text_input("再次输入密码", type="password", max_chars=256, key="first_run_password2")
            go = st.form_submit_button("初始化", type="primary", width="stretch")
        if not go:
            return
        if not files:
            st.error("请上传辖区边界文件。")
            return
        if password != again:
            st.error("两次输入的密码不一致。")
            return
        try:
            with tempfile.TemporaryDirectory(prefix="gridmap-init-") as tmp:
                path = readers.save_uploads([(f.name, f.getvalue()) for f in files], Path(tmp))
                result = init_city(engine, name, boundary=path, coords=coords, admin=admin.strip(),
                                   password=password, via="初始化页面", only_without_users=True)
        except InputError as exc:
            st.error(md_escape(f"{exc} 未做任何更改。"))
            return
        st.session_state["gate_message"] = (f"初始化完成：已设置辖区“{district_name()}”，已创建管理员“{result.admin}”，"
                                            "已载入默认问题类型。请用该管理员账户登录。")
        st.rerun()
