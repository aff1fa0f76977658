"""负面清单事件 (issue 12 §5) on tests/numbers_city.py, by hand.

November 2026 evaluated at 1 Dec 00:00, min_sample 4 (see tests/test_numbers.py for the inputs):

| grid | 测评通过率 | 问题扣分 (mean 1.125) | 超期扣分 | score without events | events | score with them |
|---|---|---|---|---|---|---|
| T-01 (U-002) | 18/24 = 75 % | 10 × 3 / 1.125 = 26.67 | 0 | 48.33 (rank 3) | 9.3.1 重大负面舆情 扣分 5, confirmed | 43.33 (rank 2) |
| T-02 (U-002) | 3/10 = 30 % | 13.33 | 20 × 1/3 = 6.67 | 10.00 (rank 4) | – | 10.00 (rank 3) |
| T-03 (U-003) | 6/8 = 75 % | 0 | 0 | 75.00 (rank 1) | 9.2.1 重大安全生产事故 否决 (18 Nov), confirmed | 一票否决: 0, rank 4 (last), not on the 红榜 |
| T-04 (U-003) | 6/8 = 75 % | 0 | 0 | 75.00 (rank 1) | 9.2.1 否决, withdrawn | 75.00 (rank 1) |

Units: U-003 vetoed → heads the 十差单位 (before: no unit has 10 应结案 cases, the list is empty);
U-002 负面清单扣分 5. October is unchanged; at 17 Nov the 18 Nov veto has not happened yet.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import func, select

from gis.cli import main as cli
from gis.db import migrate
from gis.db.engine import get_engine
from gis.db.models import AuditEntry, NegativeEvent
from gis.metrics import negative, scores, units
from gis.people.permissions import Actor, PermissionDenied
from tests import numbers_city
from tests.conftest import new_database_url

OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)
END_OCT, END_NOV = datetime(2026, 11, 1), datetime(2026, 12, 1)
COMMAND = Actor("command", "指挥中心")
NOW = datetime(2026, 11, 21, 9)


@pytest.fixture(scope="module")
def neg(backend_name, tmp_path_factory):
    url = new_database_url(backend_name, tmp_path_factory, "negative")
    engine = get_engine(url)
    migrate.upgrade(engine)
    numbers_city.load(engine)
    return url, engine


def _count(engine, model=NegativeEvent) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model.__table__)).scalar()


def test_bad_input_and_roles_write_nothing(neg):
    url, engine = neg
    before = (_count(engine), _count(engine, AuditEntry))
    with pytest.raises(PermissionDenied, match="网格长"):
        negative.report(engine, Actor("gridchief", "网格长", "T-01"), "9.2.1", "T-01", NOV, "火灾", now=NOW)
    cases = [(("1.1.1", "T-01", NOV), "不在负面清单内"), (("9.9.9", "T-01", NOV), "测评标准“9.9.9”不存在"),
             (("9.2.1", "T-99", NOV), "网格“T-99”不存在"), (("9.2.1", "T-01", date(2026, 11, 22)), "晚于今天")]
    for (std, grid, day), message in cases:
        with pytest.raises(negative.NegativeError, match=message):
            negative.report(engine, COMMAND, std, grid, day, "某化工厂发生爆炸", now=NOW)
    with pytest.raises(negative.NegativeError, match="责任单位编号不存在：U-404"):
        negative.report(engine, COMMAND, "9.2.1", "T-01", NOV, "火灾", unit_codes="U-002,U-404", now=NOW)
    with pytest.raises(negative.NegativeError, match="请填写事件经过"):
        negative.report(engine, COMMAND, "9.2.1", "T-01", NOV, "  ", now=NOW)
    with pytest.raises(negative.NegativeError, match="不存在"):
        negative.confirm(engine, COMMAND, "FM202611-999", now=NOW)
    # the CLI says the same in Chinese, exit 1
    assert cli.main(["--database", url, "negative", "add", "--standard", "9.2.1", "--grid", "T-01",
                     "--date", "2026-13-01", "--description", "火灾"]) == 1
    assert (_count(engine), _count(engine, AuditEntry)) == before


def test_veto_and_deduct_count_for_their_month_only(neg, capsys):
    url, engine = neg
    oct_before = scores.monthly_scores(engine, OCT, END_OCT, min_sample=4)
    nov_before = scores.monthly_scores(engine, NOV, END_NOV, min_sample=4).set_index("code")
    assert nov_before.at["T-03", "score"] == pytest.approx(75.0) and nov_before.at["T-03", "rank"] == 1
    assert nov_before.at["T-01", "score"] == pytest.approx(48.0 + 1 / 3) and nov_before.at["T-01", "rank"] == 3
    assert units.worst_units(engine, NOV, END_NOV).empty

    # through the command line, as the command centre's operator would
    assert cli.main(["--database", url, "negative", "add", "--standard", "9.2.1", "--grid", "T-03",
                     "--date", "2026-11-18", "--description", "某建筑工地发生坍塌，造成人员死亡"]) == 0
    veto = "FM202611-001"
    assert f"已登记负面清单事件 {veto}" in capsys.readouterr().out
    # reported but not confirmed: counts for nothing
    assert scores.monthly_scores(engine, NOV, END_NOV, min_sample=4).set_index("code").at["T-03", "score"] == 75.0
    assert cli.main(["--database", url, "negative", "confirm", veto, "--note", "经应急管理局核实"]) == 0
    assert "已确认负面清单事件 FM202611-001" in capsys.readouterr().out
    deduct = negative.report(engine, COMMAND, "9.3.1", "T-01", date(2026, 11, 5), "网传视频引发负面舆情", now=NOW)
    negative.confirm(engine, COMMAND, deduct, now=NOW)
    withdrawn = negative.report(engine, COMMAND, "9.2.1", "T-04", date(2026, 11, 20), "误报的火情", now=NOW)
    with pytest.raises(negative.NegativeError, match="须填写理由"):
        negative.withdraw(engine, COMMAND, withdrawn, "", now=NOW)
    negative.withdraw(engine, COMMAND, withdrawn, "经核实为误报", now=NOW)
    with pytest.raises(negative.NegativeError, match="已撤销（已撤销），不能再确认"):
        negative.confirm(engine, COMMAND, withdrawn, now=NOW)

    nov = scores.monthly_scores(engine, NOV, END_NOV, min_sample=4).set_index("code")
    assert bool(nov.at["T-03", "vetoed"]) and nov.at["T-03", "score"] == 0.0 and nov.at["T-03", "rank"] == 4
    assert nov.at["T-03", "color"] == "红"
    assert nov.at["T-01", "score"] == pytest.approx(43.0 + 1 / 3) and nov.at["T-01", "rank"] == 2
    assert nov.at["T-01", "negative_deduction"] == 5.0 and nov.at["T-01", "negative_events"] == [deduct]
    assert nov.at["T-04", "score"] == 75.0 and nov.at["T-04", "rank"] == 1 and not nov.at["T-04", "vetoed"]
    assert nov.at["T-02", "rank"] == 3
    lists = scores.rankings(scores.monthly_scores(engine, NOV, END_NOV, min_sample=4), n=4)
    assert "T-03" not in set(lists["best"]["code"]) and lists["worst"]["code"].iloc[0] == "T-03"
    # 17 Nov: the 18 Nov veto has not happened yet
    early = scores.monthly_scores(engine, NOV, datetime(2026, 11, 17), min_sample=1).set_index("code")
    assert not early.at["T-03", "vetoed"]
    # October: exactly as before
    pd.testing.assert_frame_equal(scores.monthly_scores(engine, OCT, END_OCT, min_sample=4), oct_before)

    worst = units.worst_units(engine, NOV, END_NOV)
    assert worst["code"].tolist() == ["U-003"] and bool(worst.at[0, "vetoed"])
    u = units.unit_figures(engine, NOV, END_NOV).set_index("code")
    assert u.at["U-002", "negative_deduction"] == 5.0 and not u.at["U-002", "vetoed"]

    # gis figures --json reads the same
    assert cli.main(["--database", url, "figures", "--month", "2026-11", "--as-of", "2026-11-30", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["grids"]["T-03"]["负面清单"] == {"事件": [veto], "否决": True, "扣分": 0.0}
    assert data["grids"]["T-03"]["综合得分"] == 0.0
    assert data["grids"]["T-01"]["负面清单"] == {"事件": [deduct], "否决": False, "扣分": 5.0}
    assert data["grids"]["T-04"]["负面清单"] == {"事件": [], "否决": False, "扣分": 0.0}
    assert data["units"]["U-003"]["负面清单"] == {"事件": [veto], "否决": True, "扣分": 0.0}
    assert data["units"]["U-002"]["负面清单"] == {"事件": [deduct], "否决": False, "扣分": 5.0}
    october = cli.main(["--database", url, "figures", "--month", "2026-10", "--json"])
    assert october == 0 and all(not g["负面清单"]["事件"] for g in json.loads(capsys.readouterr().out)["grids"].values())

    # the list, and the audit trail
    assert cli.main(["--database", url, "negative", "list", "--month", "2026-11"]) == 0
    out = capsys.readouterr().out
    assert f"{veto}  2026-11-18  T-03  已确认  9.2.1 发生重大安全生产事故（否决）  责任单位 U-003" in out
    assert f"{withdrawn}  2026-11-20  T-04  已撤销" in out
    with engine.connect() as conn:
        actions = [a for (a,) in conn.execute(select(AuditEntry.__table__.c.action).where(
            AuditEntry.__table__.c.action.like("negative.%")).order_by(AuditEntry.__table__.c.id))]
    assert actions == ["negative.report", "negative.confirm", "negative.report", "negative.confirm",
                       "negative.report", "negative.withdraw"]


def test_bulletin_lists_the_confirmed_events(neg, tmp_path):
    from gis.accountability import bulletin

    _, engine = neg
    if negative.events(engine, NOV, status=negative.CONFIRMED).empty:  # run alone: confirm one here
        code = negative.report(engine, COMMAND, "9.2.1", "T-03", date(2026, 11, 18), "坍塌事故", now=NOW)
        negative.confirm(engine, COMMAND, code, now=NOW)
    b = bulletin.collect(engine, NOV, as_of=END_NOV, work_dir=tmp_path)
    items = [item for _, part in b.sections for item in part]
    black = next(i for n, i in enumerate(items) if items[n - 1][:2] == ("p", "黑榜（综合得分后十）："))
    assert black[2][0][1:] == ["T-03", "柳园街道3号网格", "一票否决"]
    table = next(i for n, i in enumerate(items) if items[n - 1][0] == "p" and items[n - 1][1].startswith("负面清单：本月已确认"))
    assert [r[2] for r in table[2]].count("T-03") == 1 and "一票否决" in [r[5] for r in table[2]]


def test_the_command_centre_reports_and_confirms_on_the_cards_page(backend_name, tmp_path_factory, monkeypatch):
    from tests.apptools import run_app

    url = new_database_url(backend_name, tmp_path_factory, "negative_page")
    engine = get_engine(url)
    migrate.upgrade(engine)
    numbers_city.load(engine)
    at = run_app(url, monkeypatch, page="pages/cards.py", actor=COMMAND)
    assert not at.exception
    std = next(s for s in at.selectbox if s.label == "负面清单标准")
    std.select(next(o for o in std.options if o.startswith("9.2.1")))
    next(t for t in at.text_area if t.label == "事件经过").input("某小区发生火灾，造成人员伤亡")
    next(b for b in at.button if b.label == "登记").click().run()  # no grid: refused, in Chinese
    assert any("网格“”不存在" in e.value for e in at.error) and negative.events(engine).empty
    std = next(s for s in at.selectbox if s.label == "负面清单标准")
    std.select(next(o for o in std.options if o.startswith("9.2.1")))
    next(t for t in at.text_input if t.label == "网格编号（如 DC-07）").input("T-02")
    next(t for t in at.text_area if t.label == "事件经过").input("某小区发生火灾，造成人员伤亡")
    next(b for b in at.button if b.label == "登记").click().run()
    assert not at.exception and any("已登记负面清单事件 FM202611-001（待确认）" in s.value for s in at.success)
    ev = negative.events(engine).set_index("code")
    assert ev.at["FM202611-001", "standard_code"] == "9.2.1" and ev.at["FM202611-001", "grid_code"] == "T-02"
    assert ev.at["FM202611-001", "unit_codes"] == "U-002"
    assert ev.at["FM202611-001", "occurred_on"] == date(2026, 11, 21)  # the page's today, on the fixed clock
    table = next(d.value for d in at.dataframe if "负面清单标准" in d.value.columns)
    assert table["状态"].tolist() == ["待确认"]
    next(b for b in at.button if b.label == "确认").click().run()
    assert not at.exception and any("FM202611-001 已确认" in s.value for s in at.success)
    assert negative.events(engine)["status"].tolist() == ["已确认"]
    nov = scores.monthly_scores(engine, NOV, datetime(2026, 11, 21, 9), min_sample=1).set_index("code")
    assert bool(nov.at["T-02", "vetoed"]) and nov.at["T-02", "rank"] == 4


def test_a_grid_worker_sees_the_list_but_no_forms(neg, monkeypatch):
    from tests.apptools import run_app

    url, _ = neg
    at = run_app(url, monkeypatch, page="pages/cards.py", actor=Actor("xiaoli", "网格员", "T-01"))
    assert not at.exception
    assert any("指挥中心、领导和管理员可以登记" in i.value for i in at.info)
    assert not [b for b in at.button if b.label in ("登记", "确认", "撤销")]


def test_an_event_counts_by_the_rule_in_force_on_its_day(backend_name, tmp_path_factory):
    """规则按日期生效 reaches the negative list: 9.3.1 deducts 5 until 10 Nov and 8 from then on, so an event
    on 5 Nov costs T-01 5 points and one on 12 Nov 8 more: 48.33 − 13 = 35.33 (see the table above)."""
    from gis.db import rule_versions

    engine = get_engine(new_database_url(backend_name, tmp_path_factory, "negative_by_date"))
    migrate.upgrade(engine)
    numbers_city.load(engine)
    with engine.begin() as conn:
        rule_versions.set_from(conn, rule_versions.STANDARD, "9.3.1", date(2026, 11, 10), {"points": 8.0})
    for day in (date(2026, 11, 5), date(2026, 11, 12)):
        negative.confirm(engine, COMMAND, negative.report(engine, COMMAND, "9.3.1", "T-01", day, "负面舆情", now=NOW),
                         now=NOW)
    nov = scores.monthly_scores(engine, NOV, END_NOV, min_sample=4).set_index("code")
    assert nov.at["T-01", "negative_deduction"] == 13.0
    assert nov.at["T-01", "score"] == pytest.approx(35.0 + 1 / 3)
