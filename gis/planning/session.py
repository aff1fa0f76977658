"""The planner's working copy (工作副本): one layer version being edited, between page reruns.

网格规划 keeps one `WorkingSession` per browser session. Every edit (a drawn shape, a merge, a
boundary file) is applied to the session's candidate layer at once (`gis.planning.edits`), with an
undo stack; nothing reaches the database until `save` (a draft) and `publish`
(`gis.planning.versions`, which checks permissions, conflicts and topology errors itself).

The edit modes are named here once, with the drawing tool each needs on the map and the help
text the page shows. A drawing comes in as st_folium answers it (GeoJSON features) and is applied
once: the map keeps returning the last drawing on every rerun, so applied drawings are remembered.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Callable

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import shape
from sqlalchemy import Engine

from gis.people.permissions import Actor
from gis.planning import edits, versions

ADD, RESHAPE, SPLIT, MERGE, UPLOAD = "新增网格", "修改边界", "分割网格", "合并网格", "上传边界文件"
DRAW_TOOL = {ADD: "polygon", RESHAPE: "polygon", SPLIT: "line", MERGE: "none", UPLOAD: "none"}  # mode → map tool
MODES = tuple(DRAW_TOOL)
HELP = {
    ADD: "用左上角的多边形或矩形工具画出新网格；顶点在 {tol} 米内自动吸附到相邻网格边界，相邻网格让出重叠部分。",
    RESHAPE: ("选择网格后，点地图左上角的编辑工具（✎），拖动网格边界上的白色方块（顶点），再点“保存”；"
              "或画一个新多边形作为该网格的新边界：超出原边界的部分由相邻网格让出（勾选“相邻网格让出重叠部分”时），"
              "原边界内没有画进去的部分不再属于任何网格，成为空隙，须划给相邻网格后才能发布。"),
    SPLIT: "选择网格后，用折线工具画一条穿过网格的分割线（双击结束），两端画到网格之外。",
    MERGE: "选择两个相邻网格，点“合并”。",
    UPLOAD: "上传 QGIS 等制作的 GeoPackage、Shapefile（.zip）或 GeoJSON，字段 code/编号、name/名称、subdistrict/街道。",
}


@dataclass
class NewGrid:
    """What the planner typed for a grid about to be drawn or split off (blank: automatic)."""

    code: str | None = None
    name: str | None = None
    subdistrict: str | None = None


@dataclass
class WorkingSession:
    """A layer version loaded for editing, its candidate grids, undo stack and applied drawings."""

    url: str
    base: int  # layer id the working copy is based on
    number: int
    layer_revision: int
    revisions: dict[str, int]
    grids: gpd.GeoDataFrame
    undo_stack: list[gpd.GeoDataFrame] = field(default_factory=list)
    dirty: bool = False
    applied: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, engine: Engine, url: str, layer_id: int | None = None,
             applied: set[str] | None = None) -> "WorkingSession":
        """A fresh working copy of `layer_id` (default: the version in force)."""
        wc = versions.working_copy(engine, layer_id)
        return cls(url, wc.layer_id, wc.number, wc.layer_revision, wc.revisions, wc.grids,
                   applied=applied if applied is not None else set())

    # ------------------------------------------------------------------ edits
    def change(self, new_grids: gpd.GeoDataFrame) -> None:
        self.undo_stack.append(self.grids)
        self.grids = new_grids
        self.dirty = True

    def undo(self) -> None:
        if self.undo_stack:
            self.grids = self.undo_stack.pop()
            self.dirty = bool(self.undo_stack)

    def merge(self, keep: str, other: str) -> str:
        self.change(edits.merge_grids(self.grids, keep, other))
        return f"已将网格 {other} 并入 {keep}。"

    def apply_file(self, data: bytes, filename: str, source: str, whole_layer: bool,
                   neighbours_yield: bool = False) -> str:
        file_grids = edits.read_upload(data, filename, source)
        before = self.grids
        self.change(edits.apply_file(before, file_grids, whole_layer, neighbours_yield and not whole_layer))
        said = f"已应用文件 {filename}（{len(file_grids)} 个网格）"
        gave = edits.changed_codes(self.grids, before)["changed"]
        gave = [c for c in gave if c not in set(file_grids["code"].astype(str))]
        if gave:
            said += f"；相邻网格 {'、'.join(gave)} 让出了与文件中网格重叠的部分"
        return said + "。"

    def yield_overlaps(self, reference: gpd.GeoDataFrame) -> str:
        """The grids changed from `reference` keep their shape; their neighbours give up the overlaps."""
        changed = edits.changed_codes(self.grids, reference)
        codes = changed["changed"] + changed["added"]
        if not codes:
            raise edits.PlanningError("工作副本中没有修改过的网格。")
        before = self.grids
        after = edits.yield_to(before, codes)
        gave = edits.changed_codes(after, before)["changed"]
        if not gave:
            raise edits.PlanningError("修改过的网格与相邻网格没有重叠，无需让出。")
        self.change(after)
        return f"相邻网格 {'、'.join(gave)} 已让出与 {'、'.join(codes)} 重叠的部分。"

    def apply_drawing(self, mode: str, answer: dict, selected: str | None, new: NewGrid, tolerance_m: float,
                      neighbours_yield: bool, to_wgs84: Callable = lambda g: g) -> str | None:
        """Apply the map's newest drawing in `mode`; returns the message, or None when there is nothing new.

        `answer` is st_folium's (``last_active_drawing``, ``all_drawings``); `to_wgs84` brings a shape
        drawn on a GCJ-02 basemap back to WGS84. PlanningError when the edit cannot be done (the
        drawing still counts as handled, so the message is shown once).
        """
        drawings = answer.get("all_drawings") or []
        feature = answer.get("last_active_drawing")
        if feature and (feature.get("properties") or {}).get("code"):
            feature = None  # a grid's own shape, not something drawn
        edited = _edited_grid(drawings) if mode == RESHAPE else None
        keys = {}
        if feature and feature.get("geometry"):
            keys["drawn"] = self._digest(feature["geometry"])
        if edited:
            keys["edited"] = self._digest(edited[0], [f["geometry"] for f in edited[1]])
        # every answer is handled once: the map repeats it on each rerun, also after another grid or
        # mode is chosen (so the digests leave those out: an old drawing must not hit the next grid)
        fresh = {k for k, v in keys.items() if v not in self.applied}
        self.applied.update(keys.values())
        if mode == RESHAPE and "edited" in fresh:
            code = edited[0]
            geom = to_wgs84(shapely.union_all([shape(f["geometry"]) for f in edited[1]]))
            if code in set(self.grids["code"]) and edits.same_outline(self.grids, code, geom):
                edited = None  # the grid's vertices as they were: a drawing came with them, or nothing moved
            else:
                self.change(edits.replace_geometry(self.grids, code, geom, tolerance_m, neighbours_yield))
                return f"已按拖动后的顶点修改网格 {code} 的边界。"
        if "drawn" not in fresh:
            return None
        geom = to_wgs84(shape(feature["geometry"]))
        if mode == ADD:
            grids = edits.add_grid(self.grids, geom, new.code, new.name, new.subdistrict, tolerance_m, neighbours_yield)
            self.change(grids)
            return f"已新增网格 {grids['code'].iloc[-1]}，顶点已吸附到相邻网格。"
        if mode == RESHAPE and selected:
            before = self.grids
            after = edits.replace_geometry(before, selected, geom, tolerance_m, neighbours_yield)
            self.change(after)
            return edits.reshape_message(before, after, selected)
        if mode == SPLIT and selected:
            grids = edits.split_grid(self.grids, selected, geom, new.code, new.name)
            self.change(grids)
            return f"已将网格 {selected} 分割出新网格 {grids['code'].iloc[-1]}。"
        return None

    @staticmethod
    def _digest(*parts) -> str:
        return hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    # ------------------------------------------------------------------ versions
    def base_status(self, history: pd.DataFrame) -> str | None:
        """The status (草案 / 已发布 / 已归档) of the version the copy is based on."""
        row = history[history["id"] == self.base]
        return str(row["status"].iloc[0]) if len(row) else None

    def label(self, history: pd.DataFrame) -> str:
        status = self.base_status(history)
        return f"第{self.number}版（{versions.STATUS_LABELS.get(status, status)}）" if status else f"第{self.number}版"

    def may_publish(self, history: pd.DataFrame) -> bool:
        """A saved draft with nothing unsaved (topology errors are refused by `versions.publish` itself)."""
        return not self.dirty and self.base_status(history) == versions.DRAFT

    def save(self, engine: Engine, actor: Actor, title: str) -> tuple["WorkingSession", str]:
        new_id = versions.save_draft(engine, actor, self.grids, self.base, self.revisions, title)
        fresh = WorkingSession.load(engine, self.url, new_id, self.applied)
        return fresh, f"已保存为草案 第{fresh.number}版。"

    def publish(self, engine: Engine, actor: Actor) -> tuple["WorkingSession", str]:
        versions.publish(engine, actor, self.base, self.layer_revision)
        return WorkingSession.load(engine, self.url, None, self.applied), f"第{self.number}版已发布，原现行版本已归档。"

    def restore(self, engine: Engine, actor: Actor, layer_id: int, number: int) -> tuple["WorkingSession", str]:
        new_id = versions.restore(engine, actor, layer_id)
        return WorkingSession.load(engine, self.url, new_id, self.applied), f"已由第{number}版恢复为新草案。"


def _edited_grid(drawings: list[dict]) -> tuple[str, list[dict]] | None:
    """The grid whose vertices came back from the edit tool: (code, its parts' features), or None.

    The grid being edited is put on the map one polygon per part, each carrying its ``code``
    (layers.planning.editable_grid); anything drawn has no code.
    """
    parts = [f for f in drawings if (f.get("properties") or {}).get("code") and f.get("geometry")]
    if not parts:
        return None
    code = str(parts[-1]["properties"]["code"])
    return code, [f for f in parts if str(f["properties"]["code"]) == code]


def current_layer(history: pd.DataFrame) -> int | None:
    """Id of the published version in `versions.history`, or None."""
    published = history[history["status"] == versions.PUBLISHED]
    return int(published["id"].iloc[0]) if len(published) else None
