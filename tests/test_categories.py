"""问题类型 registry (gis.problems.categories): the default set, aliases, `--map`, import kind `categories` /
`units`, templates that import back, and `gis init`'s refusals (issue 13)."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import select

from gis.cli.main import main
from gis.db.engine import get_engine
from gis.db.models import TIME_UNITS, Category, CategoryAlias, Unit, User
from gis.geo import district
from gis.io import importer
from gis.io.fields import KINDS
from gis.io.templates import template_frame, write_template
from gis.people import auth
from gis.people.permissions import Actor
from gis.problems import categories as reg
from tests import io_files as f

BUJIAN = ["公用设施", "道路交通", "市容环境", "园林绿化", "房屋土地", "其他设施"]
SHIJIAN = ["市容环境", "宣传广告", "施工管理", "突发事件", "街面秩序", "其他事件"]
USUAL = ["暴露垃圾", "积存垃圾渣土", "道路不洁", "违法建设", "非法小广告", "违规户外广告", "施工占道", "工地扬尘", "占道经营",
         "店外经营", "流动摊贩", "乱停乱放", "露天烧烤", "井盖缺失", "井盖破损", "道路破损", "路灯不亮", "公厕脏乱"]


def _run(capsys, url, *argv):
    code = main(["--database", url, *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_default_set_follows_the_national_classification():
    df = reg.default_categories()
    assert 40 <= len(df) <= 60 and df["name"].is_unique and df["code"].is_unique
    assert sorted(df.loc[df["kind"] == "部件", "major"].unique()) == sorted(BUJIAN)
    assert sorted(df.loc[df["kind"] == "事件", "major"].unique()) == sorted(SHIJIAN)
    assert set(USUAL) <= set(df["name"])
    assert set(df["time_unit"]) <= set(TIME_UNITS) and (df["time_limit"] > 0).all() and (df["deduction"] > 0).all()
    aliases = [a for t in df["aliases"] for a in reg.split_aliases(t)]
    assert len(aliases) == len(set(aliases)) and not set(aliases) & set(df["name"])
    row = df.set_index("name").loc["违法建设"]
    assert reg.split_aliases(row["aliases"])[:2] == ["违章建筑", "私搭乱建"]
    assert (row["time_limit"], row["time_unit"], row["urgent_hours"]) == (20, "工作日", 4)


def test_load_defaults_adds_only_what_is_missing(city_rw):
    with city_rw.begin() as conn:
        before = conn.execute(select(Category.__table__)).all()
        inserted, existing = reg.load_defaults(conn)
    assert (inserted, existing) == (57, 3)  # 占道经营, 暴露垃圾, 露天烧烤 are the small city's own
    with city_rw.begin() as conn:
        assert reg.load_defaults(conn) == (0, 60)
        rows = {r.name: r for r in conn.execute(select(Category.__table__)).all()}
        aliases = dict(conn.execute(select(CategoryAlias.alias, CategoryAlias.name)).all())
    assert [rows[r.name] for r in before] == before  # the city's own rows are untouched
    assert aliases["违章建筑"] == "违法建设" and aliases["小广告"] == "非法小广告"
    assert "马路市场" not in aliases  # an alias of the small city's own 占道经营: not added by load_defaults


def test_demo_style_database_gets_aliases_only(city_rw):
    with city_rw.begin() as conn:
        cats = conn.execute(select(Category.__table__)).all()
        assert reg.link_aliases(conn) > 0
        assert conn.execute(select(Category.__table__)).all() == cats
        aliases = dict(conn.execute(select(CategoryAlias.alias, CategoryAlias.name)).all())
        assert reg.link_aliases(conn) == 0
    assert aliases["马路市场"] == "占道经营" and aliases["垃圾满溢"] == "暴露垃圾"


def test_unknown_category_is_refused_with_suggestions_and_map_fixes_it(city_rw, capsys, tmp_path):
    url = _url(city_rw)
    with city_rw.begin() as conn:
        reg.link_aliases(conn)
    df = f.problems_frame()
    df["问题类型"] = ["占道摆摊", "暴露垃圾", "烧烤摊"]
    csv = f.write_csv(df, tmp_path / "p.csv", encoding="gbk")
    code, _, err = _run(capsys, url, "import", "problems", str(csv))
    assert code == 1
    assert "第 4 行【问题类型】：问题类型“烧烤摊”不在问题类型表中；最接近的有：露天烧烤" in err
    assert "占道摆摊" not in err  # an alias of 占道经营
    assert importer.counts(city_rw)["problems"] == 10
    code, _, err = _run(capsys, url, "import", "problems", str(csv), "--map", "烧烤摊")
    assert code == 2 and "旧名=新名" in err
    code, out, err = _run(capsys, url, "import", "problems", str(csv), "--map", "烧烤摊=露天烧烤")
    assert code == 0, err
    with city_rw.connect() as conn:
        got = dict(conn.execute(select(importer.Problem.code, importer.Problem.category)
                                .where(importer.Problem.code.like("IM-%"))).all())
    assert got == {"IM-001": "占道经营", "IM-002": "暴露垃圾", "IM-003": "露天烧烤"}


def test_categories_and_units_import_from_their_files(city_rw, capsys, tmp_path):
    url = _url(city_rw)
    code, out, err = _run(capsys, url, "import", "categories", str(reg.DEFAULTS_FILE))
    assert code == 0, err
    assert "已导入 60 条问题类型（新增 57，更新 3）" in out
    with city_rw.connect() as conn:
        row = conn.execute(select(Category.__table__).where(Category.name == "占道经营")).one()
    assert (row.time_limit, row.time_unit, row.code, row.kind, row.major) == (8, "工作时", "S0501", "事件", "街面秩序")
    # an alias that is another category's name is refused by row; nothing written
    bad = pd.DataFrame({"问题类型": ["私搭乱建改"], "整改时限": [3], "时限单位": ["工作日"], "扣分": [1], "别名": ["暴露垃圾"]})
    code, _, err = _run(capsys, url, "import", "categories", str(f.write_csv(bad, tmp_path / "c.csv")))
    assert code == 1 and "第 2 行【别名】：别名“暴露垃圾”本身是问题类型名称，不能作别名" in err
    bad = pd.DataFrame({"问题类型": ["新类型"], "整改时限": [3], "时限单位": ["小时"], "扣分": [1]})
    code, _, err = _run(capsys, url, "import", "categories", str(f.write_csv(bad, tmp_path / "c2.csv")))
    assert code == 1 and "【时限单位】：取值不在允许范围（工作时、工作日、自然时）" in err
    units = pd.DataFrame({"单位编号": ["DW-9"], "单位名称": ["区住建局"], "联系电话": ["0635-1"]})
    code, out, err = _run(capsys, url, "import", "units", str(f.write_csv(units, tmp_path / "u.csv")))
    assert code == 0, err
    with city_rw.connect() as conn:
        assert conn.execute(select(Unit.name).where(Unit.code == "DW-9")).scalar_one() == "区住建局"


@pytest.mark.parametrize("kind", KINDS)
def test_every_template_reads_back_valid(kind, tmp_path, capsys):
    path = tmp_path / f"{kind}.xlsx"
    code, out, _ = _run(capsys, "sqlite:///" + str(tmp_path / "unused.sqlite"), "template", kind, str(path))
    assert code == 0 and "导入模板" in out
    frame = template_frame(kind)
    assert len(frame) == 1 and all("\u4e00" <= h[0] <= "\u9fff" or h in ("WKT",) for h in frame.columns)
    prepared = importer.load(path, kind)
    assert prepared.ok, prepared.error_lines()
    assert prepared.rows == 1


def test_filled_templates_import_into_a_city(city_rw, capsys, tmp_path):
    url = _url(city_rw)
    for kind in ("categories", "units", "leaders", "problems"):
        path = write_template(kind, tmp_path / f"{kind}.xlsx")
        code, out, err = _run(capsys, url, "import", kind, str(path))
        assert code == 0, (kind, err)
        assert "已导入 1 条" in out


def test_init_refuses_bad_input_and_changes_nothing(empty_url, capsys, tmp_path):
    csv = f.write_csv(f.problems_frame(), tmp_path / "points.csv")
    code, _, err = _run(capsys, empty_url, "init", "--boundary", str(csv), "--name", "某某区")
    assert code == 1 and "辖区边界应为面" in err and "未做任何更改。" in err
    code, _, err = _run(capsys, empty_url, "init", "--name", "某某区")
    assert code == 1 and "--boundary" in err
    code, _, err = _run(capsys, empty_url, "init", "--boundary", str(district.BOUNDARY_FILE), "--name", "某某区",
                        "--password", "short")
    assert code == 1 and "密码至少 8 个字符" in err
    assert not district.custom_district()
    engine = get_engine(empty_url)
    assert auth.user_count(engine) == 0
    with engine.connect() as conn:
        assert conn.execute(select(Category.name)).first() is None


def test_first_admin_only_while_there_is_no_user(city_rw):
    from gis.io import InputError
    from gis.io.first_run import init_city

    if auth.user_count(city_rw) == 0:
        auth.add_user(city_rw, Actor.system(), "someone", "领导", password="password-1")
    with pytest.raises(auth.AuthError, match="已有用户"):
        auth.add_first_admin(city_rw, "intruder", "password-2")
    with pytest.raises(InputError, match="已有用户"):
        init_city(city_rw, "某某区", boundary=district.BOUNDARY_FILE, coords="gcj02", admin="intruder",
                  password="password-2", only_without_users=True)
    assert not district.custom_district()
    with city_rw.connect() as conn:
        assert "intruder" not in conn.execute(select(User.username)).scalars().all()
