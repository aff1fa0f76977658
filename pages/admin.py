"""系统管理 (管理员 only): users, the audit log (filter, export), wall-screen tokens, API keys, and the rules
(测评标准 points and 问题类型 limits from a date, aliases, new categories: gis.registry.edits).

The gate hides this page from other roles; the page checks again, and every change goes
through gis.people.auth / gis.people.kiosk, which require 管理员 themselves.
"""

from datetime import datetime, time, timedelta

import streamlit as st

from gis import clock
from gis.people import audit

from gis.people import auth

from gis.people import kiosk
from gis.io import sheets
from gis.io.fields import DATASET_LABELS
from gis.people import apikeys
from gis.problems.worktime import UNITS
from gis.registry import directory, edits
from pages.cache import clear as clear_caches, engine
from gis.people.permissions import OWN_GRID_ROLES, ROLES, PermissionDenied, allowed, district_scope
from pages.ui import current_actor, md_escape, table
from pages import gate

gate.require()  # first: no page runs without the sign-in gate (pages/gate.py)

actor = current_actor()
st.title("系统管理")
if actor is None or not allowed(actor, "user.manage"):
    st.error("无权访问：系统管理仅限管理员。")
    st.stop()

eng = engine()


def _done(text: str, secret: str | None = None) -> None:
    st.session_state["admin_notice"] = (text, secret)


def _act(fn, *args, ok: str, show_secret: bool = False, **kwargs) -> None:
    try:
        result = fn(eng, actor, *args, **kwargs)
    except (auth.AuthError, PermissionDenied, edits.RegistryError) as exc:
        st.error(md_escape(str(exc)))
        return
    if fn.__module__ == edits.__name__:
        clear_caches()  # scores and deadlines of past months change with a rule dated back
    _done(ok, result if show_secret else None)
    st.rerun()


notice = st.session_state.pop("admin_notice", None)
if notice:
    st.success(md_escape(notice[0]))
    if notice[1]:
        st.code(notice[1], language=None)
        st.caption("密码 / 令牌只显示这一次，请立即转交本人。")
# the tokens' and keys' district (issue 17): a city-level administrator of several districts chooses (市级: every
# district); a district's administrator's are their district's, with no field (gis.people.stored_secrets.owner)
places = {code: ("市级（全市）" if code == auth.CITY_LEVEL else label) for code, label in auth.district_choices(eng, actor).items()}
SECRET_COLUMNS = {"district_code": "区县", "created_at": "创建时间", "created_by": "创建人", "revoked_at": "撤销时间"}
users_tab, audit_tab, kiosk_tab, api_tab, rules_tab, directory_tab = st.tabs(
    ["用户", "审计日志", "大屏令牌", "接口密钥", "规则", "单位与人员"])

with users_tab:
    users = auth.list_users(eng, district_scope(actor))  # a district's administrator: its users
    table(users.rename(columns=auth.USER_COLUMNS), hide_index=True, width="stretch")

    left, right = st.columns(2)
    choices = auth.district_choices(eng, actor)  # a city-level administrator of several districts chooses one
    with left.form("admin_add_user", clear_on_submit=True):
        st.subheader("新增用户")
        username = st.text_input("用户名", max_chars=auth.MAX_USERNAME_LENGTH)
        display = st.text_input("姓名（可选）", max_chars=64)
        role = st.selectbox("角色", ROLES)
        district = st.selectbox("所属区县（网格长 / 网格员取其网格的区县）", list(choices), format_func=choices.get,
                                key="admin_add_district") if choices else None
        grid = st.text_input("所属网格（网格长 / 网格员必填，如 DC-07）", max_chars=32)
        password = st.text_input("初始密码（留空则随机生成）", type="password")
        if st.form_submit_button("新增", type="primary"):
            _act(auth.add_user, username, role, password or None, grid if role in OWN_GRID_ROLES else None,
                 display or None, district_code=district, hint="在“所属区县”中选择",
                 ok=f"已新增用户 {md_escape(username)}（{role}）。", show_secret=not password)

    with right:
        st.subheader("停用 / 启用 / 重置密码")
        names = users["username"].tolist()
        chosen = st.selectbox("用户", names, index=None, placeholder="选择用户", key="admin_user_pick")
        b1, b2, b3 = st.columns(3)
        if chosen and b1.button("停用", key="admin_disable"):
            _act(auth.set_disabled, chosen, True, ok=f"已停用用户 {md_escape(chosen)}。")
        if chosen and b2.button("启用", key="admin_enable"):
            _act(auth.set_disabled, chosen, False, ok=f"已启用用户 {md_escape(chosen)}（并解除锁定）。")
        if chosen and b3.button("重置密码", key="admin_reset"):
            _act(auth.reset_password, chosen, ok=f"已重置用户 {md_escape(chosen)} 的密码并解除锁定。", show_secret=True)

with audit_tab:
    f1, f2, f3 = st.columns([1, 1, 2])
    scope = district_scope(actor)  # a district's administrator: its entries (issue 17)
    people = audit.actors(eng, scope)  # stored actor → the person's name
    who = f1.selectbox("操作人", ["全部", *people], key="audit_actor",
                       format_func=lambda a: a if a == "全部" or people[a] == a else f"{people[a]}（{a}）")
    kinds = {"全部": None, "登录": "auth.", "用户": "user.", "问题": "problem.", "网格版本": "grid.",
             "导入": "import.", "大屏令牌": "kiosk.", "接口密钥": "apikey.", "规则": "registry."}
    kind = f2.selectbox("操作类型", list(kinds), key="audit_kind")
    today = clock.today()
    span = f3.date_input("日期范围", (today - timedelta(days=30), today), key="audit_dates")
    if isinstance(span, (list, tuple)):  # a range being picked has one end only
        start, end = (span[0], span[-1]) if span else (today, today)
    else:
        start = end = span or today
    log = audit.entries(eng, actor=None if who == "全部" else who, action_prefix=kinds[kind],
                        since=datetime.combine(start, time.min), until=datetime.combine(end + timedelta(days=1), time.min),
                        district=scope)
    shown = audit.table(log, DATASET_LABELS)
    st.caption(f"{len(shown):,} 条记录（最多显示 5000 条，最新在前）")
    table(shown, hide_index=True, width="stretch")
    d1, d2, _ = st.columns([1, 1, 4])
    stamp = f"{start:%Y%m%d}-{end:%Y%m%d}"
    d1.download_button("导出 CSV", sheets.table_bytes(shown, "csv"), f"审计日志_{stamp}.csv", "text/csv",
                       key="audit_csv")
    d2.download_button("导出 Excel", sheets.table_bytes(shown, "xlsx", sheet_name="审计日志"), f"审计日志_{stamp}.xlsx",
                       sheets.XLSX_MIME, key="audit_xlsx")

with kiosk_tab:
    st.caption("大屏只读令牌：在大屏浏览器中打开 `http://<服务器>:8501/?kiosk=<令牌>`，只能看到大屏页面。"
               "也可在 secrets.toml 的 GRIDMAP_KIOSK_TOKENS 中配置。")
    tokens = kiosk.list_tokens(eng, district_scope(actor))  # a district's administrator: its tokens (issue 17)
    table(tokens.fillna({"district_code": "市级"}).rename(columns=SECRET_COLUMNS | {"name": "名称"}), hide_index=True, width="stretch")
    k1, k2 = st.columns(2)
    with k1.form("admin_kiosk_create", clear_on_submit=True):
        name = st.text_input("新令牌名称", max_chars=64, placeholder="如：指挥中心大屏")
        wall = st.selectbox("区县（市级：全市大屏）", list(places), format_func=places.get,
                            key="admin_kiosk_district") if places else None
        if st.form_submit_button("生成令牌"):
            _act(kiosk.create, name, district=wall, ok=f"已生成大屏令牌 {md_escape(name)}。", show_secret=True)
    active = tokens.loc[tokens["revoked_at"].isna(), "name"].tolist()
    with k2:
        pick = st.selectbox("撤销令牌", active, index=None, placeholder="选择令牌", key="admin_kiosk_pick")
        if pick and st.button("撤销", key="admin_kiosk_revoke"):
            _act(kiosk.revoke, pick, ok=f"已撤销大屏令牌 {md_escape(pick)}。")

with api_tab:  # street (issue 15): Open311 API keys, one per client system (gis.people.apikeys)
    st.caption("Open311 问题受理接口（`http://<服务器>:8502/docs`）的密钥：每个对接系统一个（如 12345热线、微信小程序），"
               "只显示一次，撤销后立即失效。")
    keys = apikeys.list_keys(eng, district_scope(actor))  # a district's administrator: its keys (issue 17)
    table(keys.fillna({"district_code": "市级"}).rename(columns=SECRET_COLUMNS | {"name": "对接系统"}), hide_index=True, width="stretch")
    a1, a2 = st.columns(2)
    with a1.form("admin_apikey_create", clear_on_submit=True):
        client = st.text_input("对接系统名称", max_chars=apikeys.MAX_NAME_LENGTH, placeholder="如：12345热线")
        where = st.selectbox("区县（市级：全市受理）", list(places), format_func=places.get,
                             key="admin_apikey_district") if places else None
        if st.form_submit_button("生成接口密钥"):
            _act(apikeys.create, client, district=where, ok=f"已生成接口密钥 {md_escape(client)}。", show_secret=True)
    live = keys.loc[keys["revoked_at"].isna(), "name"].tolist()
    with a2:
        gone = st.selectbox("撤销接口密钥", live, index=None, placeholder="选择对接系统", key="admin_apikey_pick")
        if gone and st.button("撤销", key="admin_apikey_revoke"):
            _act(apikeys.revoke, gone, ok=f"已撤销接口密钥 {md_escape(gone)}。")

with rules_tab:  # rules (issue 13): changed from a date, past months keep theirs (README 规则按日期生效)
    today = clock.now().date()
    st.caption("规则按日期生效：修改自生效日期起执行，此前的月份仍按当时的规则计分和计算整改时限；"
               "生效日期早于今天时，此后上报的问题按新时限重算。每次修改都记入审计日志。")
    st.subheader("问题类型")
    cats = edits.category_rows(eng, today)
    st.dataframe(edits.category_display(cats), hide_index=True, width="stretch")
    c1, c2 = st.columns(2)
    cat_name = c1.selectbox("修改问题类型", cats["name"].tolist(), index=None, placeholder="选择问题类型", key="rules_cat")
    if cat_name:
        row = cats.set_index("name").loc[cat_name]
        unit = row["time_unit"] if row["time_unit"] in UNITS else "自然时"
        limit = row["time_limit"] if unit == row["time_unit"] and row["time_limit"] == row["time_limit"] else row["deadline_hours"]
        with c1.form("rules_cat_form"):
            amount = st.number_input("整改时限", min_value=0.0, value=float(limit), step=1.0, key="rules_cat_limit")
            unit_pick = st.selectbox("时限单位", UNITS, index=UNITS.index(unit), key="rules_cat_unit")
            urgent = st.number_input("紧急处置时限（自然时，0 = 无）", min_value=0.0,
                                     value=float(row["urgent_hours"]) if row["urgent_hours"] == row["urgent_hours"] and row["urgent_hours"] else 0.0,
                                     key="rules_cat_urgent")
            ded = st.number_input("扣分", min_value=0.0, value=float(row["deduction"]), step=0.5, key="rules_cat_ded")
            since = st.date_input("生效日期", today, key="rules_cat_from")
            if st.form_submit_button("保存规则", type="primary"):
                _act(edits.set_category_rule, cat_name, since, amount, unit_pick, ded, urgent or None,
                     ok=f"已修改问题类型 {cat_name} 的规则，自 {since:%Y-%m-%d} 起执行。")
        with c1.form("rules_alias_form"):
            names = st.text_input("别名（用“、”分隔）", row["aliases"], key="rules_cat_aliases")
            if st.form_submit_button("保存别名"):
                _act(edits.set_aliases, cat_name, names, ok=f"已保存问题类型 {cat_name} 的别名。")
    with c2.form("rules_cat_add", clear_on_submit=True):
        st.markdown("**新增问题类型**")
        new_name = st.text_input("名称", max_chars=edits.NAME_MAX, key="rules_new_name")
        n1, n2, n3 = st.columns(3)
        new_code = n1.text_input("编码（可选）", max_chars=edits.CODE_MAX, key="rules_new_code")
        new_kind = n2.selectbox("类别", ("", *edits.CATEGORY_KINDS), format_func=lambda k: k or "（不填）",
                                key="rules_new_kind")
        new_major = n3.text_input("大类（可选）", max_chars=20, key="rules_new_major")
        m1, m2, m3 = st.columns(3)
        new_limit = m1.number_input("整改时限", min_value=0.0, value=4.0, key="rules_new_limit")
        new_unit = m2.selectbox("时限单位", UNITS, key="rules_new_unit")
        new_ded = m3.number_input("扣分", min_value=0.0, value=1.0, step=0.5, key="rules_new_ded")
        if st.form_submit_button("新增问题类型"):
            _act(edits.add_category, new_name, new_limit, new_unit, new_ded, new_code, new_kind or None, new_major,
                 ok=f"已新增问题类型 {new_name}。")

    st.subheader("测评标准")
    stds = edits.standard_rows(eng, today)
    st.dataframe(edits.standard_display(stds), hide_index=True, width="stretch")
    code = st.selectbox("修改测评标准分值", stds["code"].tolist(), index=None, placeholder="选择测评标准编号",
                        format_func=lambda c: f"{c} {stds.set_index('code').at[c, 'text'][:30]}", key="rules_std")
    if code:
        with st.form("rules_std_form"):
            pts = st.number_input("分值（负面清单为扣分）", min_value=0.0, max_value=edits.MAX_POINTS,
                                  value=float(stds.set_index("code").at[code, "points"]), step=0.5, key="rules_std_points")
            since = st.date_input("生效日期", today, key="rules_std_from")
            if st.form_submit_button("保存分值", type="primary"):
                _act(edits.set_standard_points, code, pts, since, ok=f"已修改测评标准 {code} 的分值，自 {since:%Y-%m-%d} 起执行。")

with directory_tab:  # 单位与人员 (issue 13): correct details without a re-import (gis.registry.directory)
    st.caption("修改责任单位和责任人的名称、联系方式、所属单位；帮包关系请用“帮包关系”导入（按日期保留历史）。每次修改都记入审计日志。")
    u_col, p_col = st.columns(2)
    units = directory.unit_rows(eng)
    unit_code = u_col.selectbox("修改责任单位", units["code"].tolist(), index=None, placeholder="选择单位",
                                format_func=lambda c: f"{c} {units.set_index('code').at[c, 'name']}", key="dir_unit")
    if unit_code:
        row = units.set_index("code").loc[unit_code]
        with u_col.form("dir_unit_form"):
            values = {k: st.text_input(label, row[k] or "", key=f"dir_unit_{k}")
                      for k, (label, _) in directory.UNIT_FIELDS.items()}
            if st.form_submit_button("保存单位", type="primary"):
                _act(directory.update_unit, unit_code, **values, ok=f"已保存责任单位 {unit_code}。")
    people = directory.person_rows(eng)
    person_code = p_col.selectbox("修改责任人", people["code"].tolist(), index=None, placeholder="选择责任人",
                                  format_func=lambda c: f"{c} {people.set_index('code').at[c, 'name']}", key="dir_person")
    if person_code:
        row = people.set_index("code").loc[person_code]
        with p_col.form("dir_person_form"):
            values = {k: st.text_input(label, row[k] or "", key=f"dir_person_{k}")
                      for k, (label, _) in directory.PERSON_FIELDS.items()}
            choices = ["", *units["code"]]
            unit_pick = st.selectbox("所属单位", choices, index=choices.index(row["unit_code"] or ""),
                                     format_func=lambda c: "（无）" if not c else f"{c} {units.set_index('code').at[c, 'name']}",
                                     key="dir_person_unit")
            if st.form_submit_button("保存责任人", type="primary"):
                _act(directory.update_person, person_code, unit_pick, **values, ok=f"已保存责任人 {person_code}。")
