"""登录: the sign-in form the gate (pages/gate.py) shows to everyone not signed in.

A module, not a page script: the gate calls `render()` instead of registering a page, so a
signed-out session has no page it could switch to.
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from gis.people import auth
from gis.config import setting
from pages.ui import md_escape


def render(engine, oidc: bool = False, message: str | None = None) -> None:
    """The sign-in form; on success the Actor goes into st.session_state and the app reruns."""
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("创城网格地图 · 登录")
        st.caption("东昌府区创建全国文明城市网格化管理平台。请使用管理员分配的账户登录。")
        if message:
            st.warning(md_escape(message))
        if auth.user_count(engine) == 0:
            st.info("系统中还没有用户。请在服务器上运行 `python -m gis user add admin --role 管理员` "
                    "创建管理员，或运行 `python -m gis demo` 生成示范账户（密码见 `data/demo_users.txt`）。")
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
