"""The 测评体系 (assessment system) rule of which 测评项目 (items) apply at each kind of inspection point.

A point of a kind is inspected against the standards of these items, plus the 负面清单. The demo
city's standards use these items; the field page (移动巡查) and the demo's inspections read them here.
"""

from __future__ import annotations

# Which 测评项目 an inspector checks at each kind of 点位 (inspection point).
KIND_ITEMS: dict[str, tuple[str, ...]] = {
    "主次干道": ("市容环境", "环境卫生", "交通秩序", "公共设施", "公益广告"),
    "背街小巷": ("背街小巷", "环境卫生", "公共设施"),
    "商业大街": ("市容环境", "环境卫生", "公益广告", "文明行为"),
    "农贸市场": ("农贸市场",),
    "学校": ("学校周边",),
    "医院": ("医院", "文明行为"),
    "公共厕所": ("公共厕所",),
    "广场公园": ("广场公园", "文明行为"),
    "车站": ("公共交通站点", "文明行为"),
    "九小门店": ("九小门店",),
    "小区": ("居民小区",),
    "城中村": ("城中村",),
    "机关单位": ("文明行为", "公益广告"),
    "建筑工地": ("建筑工地", "公益广告"),
}


def applies(standards, kind: str):
    """Which rows of `standards` (columns item, content, point_kinds, negative) apply at a point of `kind`:
    those whose 适用点位类型 (point_kinds, comma-separated) name the kind when the 测评体系 gives them; else
    those of the kind's 测评项目 (KIND_ITEMS) or whose 测评内容 is the kind; the 负面清单 everywhere.
    Returns a boolean Series aligned with `standards`."""
    listed = standards["point_kinds"].fillna("").astype(str)
    by_kinds = listed.map(lambda text: kind in text.split(","))
    by_item = standards["item"].isin(KIND_ITEMS.get(kind, ())) | (standards["content"] == kind)
    return standards["negative"].fillna(False).astype(bool) | (listed.ne("") & by_kinds) | (listed.eq("") & by_item)
