"""约谈 / 问责 records (issue 14 step 4): validation, roles, links to cards and problems, audit, listing."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from gis.accountability import cards, interviews
from gis.accountability.cards import CardError
from gis.db.models import AuditEntry, Interview
from gis.people.permissions import Actor, PermissionDenied

LEADER = Actor("wang", "领导")
NOW = datetime(2026, 11, 20, 9, 0)


def _n(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Interview.__table__)).scalar_one()


def test_record_and_list_interviews(city_rw):
    card = cards.issue(city_rw, LEADER, "unit", "U-002", "红", "占道经营反复出现", now=NOW)
    with pytest.raises(PermissionDenied, match="不能执行“约谈/问责”"):
        interviews.record(city_rw, Actor("diaodu", "指挥中心"), "约谈", "U-002", "李娜", date(2026, 11, 21), "x")
    for args, message in ((("谈话", "U-002", "李娜", date(2026, 11, 21), "x"), "类型“谈话”不对"),
                          (("约谈", "U-009", "李娜", date(2026, 11, 21), "x"), "责任单位“U-009”不存在"),
                          (("约谈", "U-002", " ", date(2026, 11, 21), "x"), "请填写约谈对象"),
                          (("问责", "U-002", "李娜", date(2026, 11, 21), ""), "请填写问责事由")):
        with pytest.raises(CardError, match=message):
            interviews.record(city_rw, LEADER, *args, now=NOW)
    with pytest.raises(CardError, match="三色牌编号不存在：2099-0001"):
        interviews.record(city_rw, LEADER, "约谈", "U-002", "李娜", date(2026, 11, 21), "x", cards="2099-0001", now=NOW)
    with pytest.raises(CardError, match="不能早于约谈日期"):
        interviews.record(city_rw, LEADER, "约谈", "U-002", "李娜", date(2026, 11, 21), "x",
                          follow_up=date(2026, 11, 1), now=NOW)
    assert _n(city_rw) == 0

    first = interviews.record(city_rw, LEADER, "约谈", "U-002", "古楼街道办事处主任 李娜", date(2026, 11, 21),
                              "红牌未按期整改", cards=card, problems="WT03，WT05", outcome="表态一周内整改到位",
                              follow_up=date(2026, 11, 28), now=NOW)
    interviews.record(city_rw, LEADER, "问责", "U-003", "柳园街道办事处分管副主任", date(2026, 10, 30),
                      "露天烧烤屡查屡犯", outcome="通报批评", now=NOW)
    nov = interviews.records(city_rw, since=date(2026, 11, 1), until=date(2026, 12, 1))
    assert nov["id"].tolist() == [first]
    row = nov.iloc[0]
    assert (row["kind"], row["unit"], row["cards"], row["problems"], row["follow_up"]) == \
        ("约谈", "古楼街道办事处", card, "WT03,WT05", date(2026, 11, 28))
    assert interviews.records(city_rw)["kind"].tolist() == ["约谈", "问责"]
    assert interviews.records(city_rw, unit_code="U-003")["outcome"].tolist() == ["通报批评"]
    with city_rw.connect() as conn:
        acts = [a for (a,) in conn.execute(select(AuditEntry.action).where(AuditEntry.action.like("interview.%")))]
    assert sorted(acts) == ["interview.accountability", "interview.talk"]
