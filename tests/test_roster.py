"""用户批量导入 (issue 13): `gis template users` → fill in → `gis user import`, all accounts or none.

On the small city (grids T-01 … T-04): a roster of three accounts imports with generated passwords
written once to a workbook, and each can sign in; a roster with bad rows is refused by row and column in
Chinese with not one account or audit entry written.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select

from gis.cli.main import main
from gis.db.models import AuditEntry, User
from gis.people import auth


def _run(capsys, url, *argv):
    code = main(["--database", url, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _count(engine, model):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model.__table__)).scalar()


def test_a_filled_template_creates_every_account_once(city_rw, capsys, tmp_path):
    url = city_rw.url.render_as_string(hide_password=False)
    tpl = tmp_path / "用户名单.xlsx"
    code, out, err = _run(capsys, url, "template", "users", str(tpl))
    assert code == 0, err
    assert "已写出用户名单导入模板" in out
    header = list(pd.read_excel(tpl).columns)
    assert header == ["用户名*", "姓名", "角色*", "网格编号", "区县"]  # 区县: issue 17 (tests/test_district_scope.py)
    pd.DataFrame([["zhangli", "张丽", "网格长", "T-01", None], ["liuyang", "刘洋", "网格员", "T-02", None],
                  ["chenjing", "陈静", "领导", "T-03", None]], columns=header).to_excel(tpl, index=False)
    before = _count(city_rw, AuditEntry)
    out_file = tmp_path / "初始密码.xlsx"
    code, out, err = _run(capsys, url, "user", "import", str(tpl), "--out", str(out_file))
    assert code == 0, err
    assert "已创建用户 3 个。" in out and "初始密码已写入" in out
    handed = pd.read_excel(out_file, dtype=str)
    assert list(handed["用户名"]) == ["zhangli", "liuyang", "chenjing"]
    assert handed.loc[2, "网格编号"] != "T-03"  # a 领导 has no grid of their own
    with city_rw.connect() as conn:
        rows = {r.username: r for r in conn.execute(select(User).where(User.username.in_(handed["用户名"])))}
    assert (rows["zhangli"].display_name, rows["zhangli"].role, rows["zhangli"].grid_code) == ("张丽", "网格长", "T-01")
    assert rows["chenjing"].grid_code is None
    for username, password in zip(handed["用户名"], handed["初始密码"]):
        assert auth.authenticate(city_rw, username, password).actor is not None
    assert _count(city_rw, AuditEntry) - before >= 3  # user.add ×3 (+ the sign-ins)


def test_a_roster_with_bad_rows_writes_nothing(city_rw, capsys, tmp_path):
    url = city_rw.url.render_as_string(hide_password=False)
    existing = auth.list_users(city_rw)["username"].iloc[0] if not auth.list_users(city_rw).empty else None
    rows = [["wang wu", "王五", "网格长", "T-01"],      # row 2: a space in the user name
            ["zhaoliu", "赵六", "网格员", None],         # row 3: a 网格员 without a grid
            ["sunqi", "孙七", "队长", None],             # row 4: no such role
            ["zhouba", "周八", "网格长", "T-99"],        # row 5: no such grid
            ["wujiu", "吴九", "核查员", None],           # row 6: good
            ["wujiu", "吴九", "核查员", None]]           # row 7: twice in the file
    if existing:
        rows.append([existing, "某人", "领导", None])  # row 8: exists already
    book = tmp_path / "名单.csv"
    pd.DataFrame(rows, columns=["用户名", "姓名", "角色", "网格编号"]).to_csv(book, index=False, encoding="gbk")
    before = (_count(city_rw, User), _count(city_rw, AuditEntry))
    code, out, err = _run(capsys, url, "user", "import", str(book))
    assert code == 1
    assert "用户名单有误，未导入任何用户" in err
    assert "第 2 行【用户名】：须为 1–64 个字符，且不含空格（值：wang wu）" in err
    assert "第 3 行【网格编号】：网格员须填所属网格" in err
    assert "第 4 行【角色】" in err and "（值：队长）" in err
    assert "第 5 行【网格编号】：网格“T-99”不存在" in err
    assert "第 6 行" not in err
    assert "第 7 行【用户名】：用户名“wujiu”在表中重复" in err
    if existing:
        assert f"第 8 行【用户名】：用户“{existing}”已存在" in err
    assert (_count(city_rw, User), _count(city_rw, AuditEntry)) == before
    # a roster without the 角色 column is refused by its header
    pd.DataFrame({"用户名": ["a"]}).to_csv(book, index=False)
    code, _, err = _run(capsys, url, "user", "import", str(book))
    assert code == 1 and "用户名单缺少“角色”列" in err
