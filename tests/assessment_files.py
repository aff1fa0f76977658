"""测评体系 workbooks for the import tests: a system of the seeds' size (12 测评项目, 90 测评内容, 186 测评标准
on the first sheet, 30 负面清单 items on a sheet 负面清单), written into a test's tmp_path."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

ITEMS = ("市容环境", "环境卫生", "交通秩序", "公共设施", "公益广告", "背街小巷", "农贸市场", "学校周边", "医院",
         "公共厕所", "广场公园", "文明行为")
KINDS = ("主次干道", "背街小巷", "商业大街", "农贸市场", "学校", "医院", "公共厕所", "广场公园", "车站", "九小门店",
         "小区", "城中村")
METHODS = ("实地考察", "问卷调查", "材料审核")


def system_frame(n_standards: int = 186, n_contents: int = 90) -> pd.DataFrame:
    """The first sheet: 12 items × 7–8 contents (90), 2–3 standards each (186), no codes (generated)."""
    rows = []
    for c in range(n_contents):
        item = ITEMS[c * len(ITEMS) // n_contents]
        per = 2 + (c < n_standards - 2 * n_contents)
        for k in range(per):
            rows.append({"测评项目": item, "测评内容": f"{item}内容{c + 1:02d}", "测评标准": f"{item}内容{c + 1:02d}的第{k + 1}条标准",
                         "分值": 1.0 + (c + k) % 3 * 0.5, "测评方式": METHODS[(c + k) % 3],
                         "适用点位类型": "、".join(KINDS[(c + j) % len(KINDS)] for j in range(1 + k % 2))})
    return pd.DataFrame(rows)


def negative_frame(n: int = 30) -> pd.DataFrame:
    """The sheet 负面清单: 30 items, the first 10 一票否决, the rest 扣分 (2–6 points)."""
    kinds = ("重大安全生产事故", "重大环境污染事件", "重大食品药品安全事故", "重大负面舆情", "严重违法违纪")
    return pd.DataFrame({
        "测评内容": [kinds[i % len(kinds)] for i in range(n)],
        "负面清单事项": [f"{kinds[i % len(kinds)]}第{i + 1}项" for i in range(n)],
        "处理方式": ["一票否决" if i < 10 else "扣分" for i in range(n)],
        "扣分": [None if i < 10 else float(2 + i % 5) for i in range(n)],
    })


def write_workbook(path: Path, system: pd.DataFrame, negative: pd.DataFrame | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        system.to_excel(xl, sheet_name="测评体系", index=False)
        if negative is not None:
            negative.to_excel(xl, sheet_name="负面清单", index=False)
    return path
