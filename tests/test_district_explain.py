"""Each page's queries, for one district, read that district's rows only (issue 17; docs/scale.md).

On PostGIS: the statements a district's wall, grid page, accountability panels and audit log send (captured
as they run, with their parameters) are EXPLAINed with sequential scans disabled. Every read of the large
tables (problems, inspections, and since migration 0019 problem events, card actions, exposures, 约谈 / 问责
and the audit log) must be an index range whose condition names the district (``district_code``), or one
of its grids (``grid_id``), or a row already found (``id``, a problem's ``problem_id``): never a scan of the
whole table or of a range across districts. This is what lets Citus route a district's page to one shard, and PostgreSQL
read a district's rows only today.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlalchemy import event

from gis.accountability import cards, exposure, interviews, points
from gis.db.engine import get_engine
from gis.demo.districts import select_districts
from gis.geo import queries
from gis.metrics import heat, kpis, scores, units
from gis.people import audit
from gis.problems import ledger
from tests.conftest import BACKENDS, new_database_url

pytestmark = pytest.mark.skipif("postgis" not in BACKENDS, reason="EXPLAIN plans are PostgreSQL's")

YG = "371521"
MONTH, AS_OF = date(2026, 10, 1), datetime(2026, 11, 21)
LARGE = {"problems", "inspections", "problem_events", "card_actions", "exposures", "interviews", "audit_log"}
KEYS = ("district_code", "grid_id", "(id =", "(p.id =", "point_id", "problem_id")  # a district, its grid, a row found


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    from gis.demo.build import build_demo

    url = new_database_url("postgis", tmp_path_factory, "explain17")
    engine = get_engine(url)
    build_demo(engine, n_problems=3000, until=date(2026, 11, 20), out_dir=None, districts=select_districts("阳谷县"))
    with engine.begin() as conn:  # an audit log as the districts' work writes it: an entry per problem, in its district
        conn.exec_driver_sql("INSERT INTO audit_log (at, actor, action, target_kind, target_code, district_code) "
                             "SELECT reported_at, 'user' || mod(id, 40), 'problem.create', 'problem', code, district_code "
                             "FROM problems")
        conn.exec_driver_sql("ANALYZE audit_log")
    return engine


PAGES = {
    "大屏 KPI": lambda e: kpis.kpis(e, MONTH, AS_OF, district=YG),
    "大屏 趋势": lambda e: kpis.trend(e, 12, AS_OF, district=YG),
    "大屏 得分": lambda e: scores.monthly_scores(e, MONTH, AS_OF, district=YG),
    "大屏 十差单位": lambda e: units.worst_units(e, MONTH, AS_OF, district=YG),
    "大屏 热力": lambda e: heat.open_problem_hexes(e, AS_OF, district=YG),
    "大屏 点位达标": lambda e: points.point_rates(e, MONTH, AS_OF, district=YG),
    "大屏 三色牌": lambda e: cards.active(e, district=YG),
    "曝光台": lambda e: exposure.exposed(e, now=AS_OF, district=YG),
    "约谈问责": lambda e: interviews.records(e, MONTH, date(2026, 11, 1), district=YG),
    "系统管理 审计日志": lambda e: audit.entries(e, since=datetime(2026, 10, 22), until=AS_OF, district=YG),
    "系统管理 操作人": lambda e: audit.actors(e, YG),
    "总览 计数": lambda e: queries.city_counts(e, YG),
    "网格台账": lambda e: ledger.ledger(e, "YG-03"),
    "网格台账 计数": lambda e: ledger.ledger_counts(e, "YG-03", AS_OF),
}


def _captured(engine, run) -> list[tuple[str, dict]]:
    seen = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and not executemany:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        run(engine)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return seen


def _reads(plan: dict, out: list) -> list:
    """(node type, relation, index condition of it or its bitmap child) of every read of a large table."""
    rel = plan.get("Relation Name")
    if rel in LARGE:
        cond = plan.get("Index Cond", "")
        if plan["Node Type"] == "Bitmap Heap Scan":
            cond = " ".join(c.get("Index Cond", "") for c in _bitmap_children(plan))
        out.append((plan["Node Type"], rel, cond))
    for child in plan.get("Plans", []):
        _reads(child, out)
    return out


def _bitmap_children(plan: dict) -> list[dict]:
    found = []
    for child in plan.get("Plans", []):
        found += [child] if child["Node Type"] == "Bitmap Index Scan" else _bitmap_children(child)
    return found


@pytest.mark.parametrize("page", list(PAGES))
def test_a_district_page_reads_its_district_rows_only(engine, page):
    statements = _captured(engine, PAGES[page])
    assert statements, page
    bad = []
    with engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        for sql, params in statements:
            if not LARGE & set(sql.replace("(", " ").replace(",", " ").split()):
                continue
            raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql, params).scalar()
            plan = (raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]
            bad += [(kind, rel, cond, sql[:160]) for kind, rel, cond in _reads(plan, [])
                    if kind == "Seq Scan" or not any(k in cond for k in KEYS)]
    assert bad == [], page
