"""The kinds of area (区域类型) a grid is made of, with their Chinese names, defined once.

A *grid* (网格) holds compounds (小区), streets and lanes (街巷), urban villages (城中村) and
inspection points (点位). Pages, the ledger, the impact preview and the importer name an area
kind by these keys and show `AREA_LABELS[kind]`.
"""

from __future__ import annotations

GRID, COMPOUND, STREET, VILLAGE, POINT = "grid", "compound", "street", "village", "point"
AREA_KINDS = (GRID, COMPOUND, STREET, VILLAGE, POINT)
AREA_LABELS = {GRID: "网格", COMPOUND: "小区", STREET: "街巷", VILLAGE: "城中村", POINT: "点位"}
