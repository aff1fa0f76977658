"""督查通报 (issue 14 step 5): built through the CLI for November 2026 on the small city, with cards,
exposures (photos), 约谈 and 点长; the PDF read back with pdftotext must carry the same figures as
`gis figures`, the names, embedded CJK fonts (pdffonts); the .docx is read back with python-docx;
page 1 renders with pdftoppm."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from datetime import date, datetime

import pandas as pd
import pytest
from docx import Document
from PIL import Image
from sqlalchemy import update

from gis.accountability import bulletin, cards, exposure, interviews
from gis.accountability.bulletin import HEADLINE, fmt
from gis.accountability.cards import Evidence
from gis.cli.main import main
from gis.db.models import Problem, ProblemEvent
from gis.io import importer
from gis.people.permissions import Actor, PermissionDenied
from tests import io_files as f

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) not installed")
LEADER = Actor("wang", "领导")
NOV = datetime(2026, 11, 20, 9)
PHONE = "13812345678"


def _png(path, color):
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    Image.new("RGB", (120, 90), color).save(buf, format="PNG")
    path.write_bytes(buf.getvalue())


@pytest.fixture
def november(city_rw, tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDMAP_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setenv("GRIDMAP_MIN_INSPECTIONS", "1")
    monkeypatch.setenv("GRIDMAP_UNIT_MIN_CASES", "1")
    links = pd.DataFrame({"对象类型": ["点位"] * 3, "对象编号": ["DW-0001", "DW-0004", "DW-0003"],
                          "帮包角色": ["点长"] * 3, "责任人": ["周杰", "郑磊", "吴芳"], "开始日期": ["2026-01-01"] * 3})
    importer.import_file(city_rw, Actor.system(), "assignments", f.write_csv(links, tmp_path / "l.csv"))
    _png(tmp_path / "uploads" / "WT01" / "before.png", (200, 40, 40))
    _png(tmp_path / "uploads" / "WT01" / "after.png", (40, 160, 40))
    with city_rw.begin() as conn:
        conn.execute(update(Problem).where(Problem.code == "WT03").values(description=f"占道经营，来电 {PHONE}"))
        pid = conn.execute(Problem.__table__.select().where(Problem.code == "WT01")).first().id
        for action, at, photo in (("上报", datetime(2026, 11, 2, 9), "WT01/before.png"),
                                  ("提交整改", datetime(2026, 11, 2, 20), "WT01/after.png")):
            conn.execute(ProblemEvent.__table__.insert().values(problem_id=pid, action=action, to_status="整改中",
                                                                actor="gw", at=at, photo_path=photo))
    yellow = cards.issue(city_rw, LEADER, "unit", "U-002", "黄", "占道经营整改不力", Evidence(problems=["WT01"]), now=NOV)
    red = cards.issue(city_rw, LEADER, "point", "DW-0004", "红", "许营村点位连续不达标", now=NOV)
    cards.lift(city_rw, LEADER, yellow, "复查已整改", now=datetime(2026, 11, 25, 9))
    exposure.expose(city_rw, LEADER, ["WT03", "WT01"], "典型问题", now=NOV)
    interviews.record(city_rw, LEADER, "约谈", "U-003", "柳园街道办事处副主任 孙伟", date(2026, 11, 26), "红牌未整改",
                      cards=red, outcome="限期一周整改", follow_up=date(2026, 12, 3), now=NOV)
    return {"engine": city_rw, "yellow": yellow, "red": red}


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_bulletin_cli_pdf_and_docx(november, tmp_path, capsys):
    engine = november["engine"]
    url = engine.url.render_as_string(hide_password=False)
    req = tmp_path / "req.txt"
    req.write_text("一、古楼街道办事处12月5日前报送整改报告。\n二、许营村点位每周复查。", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["--database", url, "figures", "--month", "2026-11", "--json"]) == 0
    figs = json.loads(capsys.readouterr().out)
    last = json.loads((main(["--database", url, "figures", "--month", "2026-10", "--json"]), capsys.readouterr().out)[1])
    assert main(["--database", url, "bulletin", "2026-11", "--format", "docx,pdf", "--out", str(out),
                 "--number", "12", "--requirements", str(req), "--date", "2026-12-03"]) == 0
    printed = capsys.readouterr().out
    pdf, docx = out / "督查通报-2026-11.pdf", out / "督查通报-2026-11.docx"
    assert f"写出 {pdf}" in printed and f"写出 {docx}" in printed

    text = _flat(subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                                check=True).stdout)
    # reading order (cells whose text wraps stay whole), for names inside narrow table cells
    raw = _flat(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout)
    for piece in ("东昌府区创建全国文明城市工作指挥部办公室", "东创城办〔2026〕12号",
                  "关于2026年11月全区创城网格化管理工作情况的督查通报", "2026年12月3日"):
        assert piece in text, piece
    for name in HEADLINE:  # the month's figures against last month, equal to `gis figures`
        assert _flat(f"{name}{fmt(name, figs['city'][name])}{fmt(name, last['city'][name])}") in text, name
    for code, block in figs["grids"].items():
        if not block["样本不足"]:
            assert _flat(f"{block['排名']}{code}") in text and f"{block['综合得分']:.2f}" in text, code
    for piece in ("古楼街道办事处", "周杰", "郑磊", "DW-0004许营村郑磊25.00%", november["yellow"], november["red"],
                  "本月签发三色牌2张（黄牌1张、红牌1张、绿牌0张），摘牌1张", "WT03", "WT01", "曝光决定：wang",
                  "柳园街道办事处副主任孙伟", "限期一周整改", "古楼街道办事处12月5日前报送整改报告", "许营村点位每周复查"):
        assert piece in text or piece in raw, piece
    assert PHONE not in text

    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts  # the emb column
    assert any("NotoSerifCJK" in line for line in fonts)
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    page1 = next(tmp_path.glob("p-*1.png"))
    assert Image.open(page1).size[0] > 200

    doc = Document(str(docx))
    paras = [p.text for p in doc.paragraphs]
    assert paras[:3] == ["东昌府区创建全国文明城市工作指挥部办公室", "东创城办〔2026〕12号",
                         "关于2026年11月全区创城网格化管理工作情况的督查通报"]
    assert doc.paragraphs[0].runs[0].font.color.rgb == bulletin_docx_red()
    headline = doc.tables[0]
    assert [c.text for c in headline.rows[0].cells] == ["指标", "11月", "10月", "环比"]
    assert {r.cells[0].text: r.cells[1].text for r in headline.rows[1:]} == \
        {n: fmt(n, figs["city"][n]) for n in HEADLINE}
    all_cells = {c.text for t in doc.tables for r in t.rows for c in r.cells}
    assert {november["yellow"], november["red"]} <= all_cells
    assert any(p.startswith("1. 约谈柳园街道办事处（柳园街道办事处副主任 孙伟），2026-11-26") for p in paras)
    assert len(doc.inline_shapes) == 3  # the map and WT01's before/after photos
    assert paras[-1] == "2026年12月3日"


def bulletin_docx_red():
    from gis.accountability.bulletin_docx import RED
    return RED


def test_bulletin_refusals(city_engine, tmp_path, capsys):
    url = city_engine.url.render_as_string(hide_password=False)
    assert main(["--database", url, "bulletin", "2026-13", "--out", str(tmp_path)]) == 1
    assert "月份“2026-13”格式不对" in capsys.readouterr().err
    assert main(["--database", url, "bulletin", "2026-11", "--format", "odt", "--out", str(tmp_path)]) == 1
    assert "格式“odt”不支持" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(PermissionDenied, match="不能执行“导出督查通报”"):
        bulletin.build(city_engine, Actor("x", "网格员", "T-01"), date(2026, 11, 1), tmp_path)
