"""三色牌 register (issue 14 step 2): cards issued by hand and by the monthly rules, the escalation
ladder with its roles, 摘牌 after verified rectification, history and audit; on the small city."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select, update

from gis.accountability import cards
from gis.accountability.cards import CardError, Evidence
from gis.db.models import AuditEntry, Card, CardAction, Exposure, Problem
from gis.people.permissions import Actor, PermissionDenied

VERIFIER = Actor("hecha", "核查员")
COMMAND = Actor("diaodu", "指挥中心")
LEADER = Actor("wang", "领导")
WORKER = Actor("xiaoli", "网格员", "T-01")
NOW = datetime(2026, 11, 20, 9, 0)


def _count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model.__table__)).scalar_one()


@pytest.fixture
def upload(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDMAP_UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def test_issue_by_hand_checks_role_and_input(city_rw, upload):
    with pytest.raises(PermissionDenied, match="不能执行“签发三色牌”"):
        cards.issue(city_rw, WORKER, "grid", "T-01", "黄", "暗访发现问题", now=NOW)
    for kind, code, color, reason, ev, message in (
            ("grid", "T-99", "黄", "x", None, "网格“T-99”不存在"),
            ("street", "JX-001", "黄", "x", None, "亮牌对象类型“street”不对"),
            ("unit", "U-002", "蓝", "x", None, "牌色“蓝”不对"),
            ("unit", "U-002", "黄", "  ", None, "请填写亮牌事由"),
            ("unit", "U-002", "黄", "x", Evidence(problems=["WT03", "NOPE"]), "证据中的问题编号不存在：NOPE")):
        with pytest.raises(CardError, match=message):
            cards.issue(city_rw, VERIFIER, kind, code, color, reason, ev, now=NOW)
    assert _count(city_rw, Card) == 0 and _count(city_rw, CardAction) == 0

    code = cards.issue(city_rw, VERIFIER, "unit", "U-002", "黄", "暗访发现占道经营未整改",
                       Evidence(problems=["WT03"], inspections=[3], photos=["WT03/a.jpg"]), now=NOW)
    assert code == "2026-0001"
    reg = cards.register(city_rw)
    row = reg.iloc[0]
    assert (row["target_kind"], row["target"], row["color"], row["step"], row["status"], row["issued_by"]) == \
        ("责任单位", "古楼街道办事处", "黄", "限期整改", "生效", "hecha")
    assert row["deadline"] == datetime(2026, 11, 27, 9, 0)  # GRIDMAP_CARD_RESPONSE_DAYS = 7
    assert cards.card_actions(city_rw, code)["action"].tolist() == ["签发", "限期整改"]
    with city_rw.connect() as conn:
        audit = conn.execute(select(AuditEntry.action, AuditEntry.target_code)).all()
    assert ("card.issue", code) in audit


def test_escalation_ladder_roles_and_lifting(city_rw, upload):
    code = cards.issue(city_rw, VERIFIER, "unit", "U-002", "红", "占道经营反复出现",
                       Evidence(problems=["WT03"]), now=NOW)
    with pytest.raises(CardError, match="需要上传说明文件"):
        cards.escalate(city_rw, COMMAND, code, "要求书面说明", now=NOW)
    with pytest.raises(CardError, match="类型不支持"):
        cards.escalate(city_rw, COMMAND, code, "要求书面说明", file=("x.exe", b"MZ"), now=NOW)
    assert cards.escalate(city_rw, COMMAND, code, "已收到书面说明", file=("说明.pdf", b"%PDF-1.4 test"),
                          now=NOW) == "书面说明"
    stored = cards.card_actions(city_rw, code).iloc[-1]["file"]
    assert stored.startswith(f"cards/{code}/") and (upload / stored).read_bytes() == b"%PDF-1.4 test"

    with pytest.raises(PermissionDenied, match="不能执行“曝光”"):
        cards.escalate(city_rw, COMMAND, code, "曝光", now=NOW)
    assert cards.register(city_rw).iloc[0]["step"] == "书面说明" and _count(city_rw, Exposure) == 0
    rev = int(cards.register(city_rw).iloc[0]["revision"])
    with pytest.raises(CardError, match="已被他人更新"):
        cards.escalate(city_rw, LEADER, code, "曝光", revision=rev - 1, now=NOW)
    assert cards.escalate(city_rw, LEADER, code, "逾期未整改，予以曝光", revision=rev, now=NOW) == "曝光台"
    with city_rw.connect() as conn:
        exposed = conn.execute(select(Problem.code, Exposure.decided_by).join(Problem, Problem.id == Exposure.problem_id)).all()
    assert exposed == [("WT03", "wang")]
    assert cards.escalate(city_rw, LEADER, code, "约谈古楼街道办事处主任", now=NOW) == "约谈"
    assert cards.escalate(city_rw, LEADER, code, "对分管负责人问责", now=NOW) == "问责"
    with pytest.raises(CardError, match="已无下一步处置"):
        cards.escalate(city_rw, LEADER, code, "再升级", now=NOW)

    with pytest.raises(PermissionDenied, match="不能执行“摘牌”"):
        cards.lift(city_rw, COMMAND, code, "已整改", now=NOW)
    with pytest.raises(CardError, match=r"整改尚未全部核查通过，不能摘牌：WT03（整改中）"):
        cards.lift(city_rw, LEADER, code, "已整改", now=NOW)
    with city_rw.begin() as conn:
        conn.execute(update(Problem).where(Problem.code == "WT03").values(status="已结案", verified_at=NOW))
    cards.lift(city_rw, LEADER, code, "复查已整改到位", now=datetime(2026, 11, 25, 10))
    row = cards.register(city_rw).iloc[0]
    assert (row["status"], row["lifted_by"], row["lifted_at"]) == ("已摘牌", "wang", datetime(2026, 11, 25, 10))
    with pytest.raises(CardError, match="状态为“已摘牌”，不能摘牌"):
        cards.lift(city_rw, LEADER, code, "again", now=NOW)
    hist = cards.history(city_rw, "unit", "U-002")
    assert hist["action"].tolist() == ["签发", "限期整改", "书面说明", "曝光台", "约谈", "问责", "摘牌"]
    assert hist["actor"].tolist() == ["hecha", "hecha", "diaodu", "wang", "wang", "wang", "wang"]
    with city_rw.connect() as conn:
        acts = [a for (a,) in conn.execute(select(AuditEntry.action).where(AuditEntry.target_code == code))]
    assert acts.count("card.escalate") == 4 and "card.lift" in acts
    assert cards.history(city_rw, "unit", "U-003").empty


def test_monthly_rules(city_rw, upload, monkeypatch):
    monkeypatch.setenv("GRIDMAP_MIN_INSPECTIONS", "1")
    monkeypatch.setenv("GRIDMAP_UNIT_MIN_CASES", "1")
    admin = Actor.system()
    with pytest.raises(PermissionDenied):
        cards.apply_rules(city_rw, LEADER, date(2026, 11, 1), now=NOW)
    # two months in a row: October has no inspections, so no grid was ranked then → nothing
    monkeypatch.setenv("GRIDMAP_CARD_BLACKLIST_MONTHS", "2")
    monkeypatch.setenv("GRIDMAP_CARD_ESCALATE_DAYS", "0")
    first = cards.apply_rules(city_rw, admin, date(2026, 11, 1), now=NOW)
    assert set(cards.register(city_rw).set_index("code").loc[first, "target_kind"]) <= {"责任单位"}
    monkeypatch.setenv("GRIDMAP_CARD_BLACKLIST_MONTHS", "1")
    issued = first + cards.apply_rules(city_rw, admin, date(2026, 11, 1), now=NOW)
    reg = cards.register(city_rw).set_index("code")
    grids = sorted(reg.loc[[c for c in issued if reg.loc[c, "target_kind"] == "网格"], "target_code"])
    assert grids == ["T-01", "T-02", "T-03", "T-04"]  # four ranked grids: all of them are the 黑榜
    assert set(reg.loc[issued, "rule"]) <= {"黑榜", "十差单位"} and set(reg.loc[issued, "color"]) == {"黄"}
    assert cards.apply_rules(city_rw, admin, date(2026, 11, 1), now=NOW) == []  # idempotent
    n = _count(city_rw, Card)
    # a 黄牌 not lifted in 30 days → 红牌
    monkeypatch.setenv("GRIDMAP_CARD_ESCALATE_DAYS", "30")
    assert cards.apply_rules(city_rw, admin, date(2026, 11, 1), now=datetime(2026, 12, 19, 9)) == []
    reds = cards.apply_rules(city_rw, admin, date(2026, 11, 1), now=datetime(2026, 12, 20, 9))
    assert len(reds) == n and _count(city_rw, Card) == 2 * n
    reg = cards.register(city_rw).set_index("code")
    assert set(reg.loc[reds, "color"]) == {"红"} and set(reg.loc[reds, "rule"]) == {"黄牌逾期"}
    assert set(reg.loc[reg["color"] == "黄", "status"]) == {"已升级"}
    assert set(reg.loc[reds, "parent"]) == set(issued)
    monkeypatch.setenv("GRIDMAP_CARD_BLACKLIST_MONTHS", "x")
    with pytest.raises(ValueError, match="GRIDMAP_CARD_BLACKLIST_MONTHS 应为整数"):
        cards.apply_rules(city_rw, admin, date(2026, 11, 1), now=NOW)
