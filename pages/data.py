"""数据管理: import files (Shapefile, GeoPackage, GeoJSON, CSV, Excel) and export layers.

Read the upload → gis.io reads, maps and validates it → show what was detected (encoding, CRS,
guesses), the editable field mapping, a preview map and the bad rows → 管理员 imports it (one
transaction) → export downloads. No SQL here; every check and write lives in gis.io. A district's
管理员 (区县, issue 17) imports into their own district only and exports its rows only.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import streamlit as st

from pages import cache
from gis.config import database_url
from gis.io import InputError, checks, readers, sheets, validate
from gis.io.crs import COORD_LABELS
from gis.io.exporter import FORMATS, export
from gis.io.fields import EXPORT_KINDS, DATASET_LABELS, KINDS, fields
from gis.io.importer import import_area, import_prepared
from gis.io.templates import file_name, template_bytes
from gis.problems.categories import parse_renames
from gis.people.permissions import PermissionDenied, allowed, district_scope
from layers.basemap import make_map
from layers.common import geojson_layer
from layers.preview import preview_layer
from pages.ui import CITY_CENTER, basemap, current_actor, for_display, md_escape, show_map
from pages import gate

gate.require()  # first: no page runs without the sign-in gate (pages/gate.py)

PREVIEW_LIMIT = 3000
GRID_STYLE = {"color": "#64748b", "weight": 1.2, "fillColor": "#cbd5e1", "fillOpacity": 0.25}
NOT_MAPPED = "（不导入）"
UPLOAD_TYPES = ["shp", "dbf", "shx", "prj", "cpg", "zip", "gpkg", "geojson", "json", "csv", "xlsx"]
ENCODINGS = {"自动检测": None, "UTF-8": "utf-8", "GBK": "gbk", "GB18030": "gb18030"}
FORMAT_LABELS = {".xlsx": "Excel（.xlsx，中文表头）", ".csv": "CSV（UTF-8，中文表头）", ".shp": "Shapefile（.zip，含 .prj 与 UTF-8 .cpg）",
                 ".gpkg": "GeoPackage（.gpkg）", ".geojson": "GeoJSON（.geojson）"}

actor = current_actor()
may_import = actor is not None and allowed(actor, "data.import")
st.title("数据管理")
st.caption("导入规划、住建、热线等部门的数据（Shapefile、GeoPackage、GeoJSON、CSV、Excel），导出各图层。"
           "坐标统一转换为 WGS84；国家 2000（CGCS2000）及其高斯-克吕格分带、高德/百度坐标均可识别。")

tab_import, tab_export = st.tabs(["导入", "导出"])


def _source(digest: str, files: tuple[tuple[str, bytes], ...], layer: str | None, encoding: str | None):
    """The upload read once per (content, layer, encoding) and kept for this session only: the previous
    file is dropped before the next is read, so a session holds one file at most."""
    key = (digest, layer, encoding)
    held = st.session_state.get("data_source")
    if held is not None and held[0] == key:
        return held[1]
    st.session_state.pop("data_source", None)
    st.session_state.pop("data_prepared", None)
    with tempfile.TemporaryDirectory(prefix="gridmap-upload-") as tmp:
        path = readers.save_uploads(list(files), Path(tmp))
        source = readers.read(path, layer=layer, encoding=encoding)
    st.session_state["data_source"] = (key, source)
    return source


def _prepared(source, digest: str, kind: str, mapping: dict, crs: str | None, coords: str, repair: bool):
    """`validate.prepare` once per choice of kind, mapping, CRS and repair (kept for this session)."""
    key = (digest, kind, tuple(sorted(mapping.items(), key=lambda kv: kv[0])), crs, coords, repair)
    held = st.session_state.get("data_prepared")
    if held is not None and held[0] == key:
        return held[1]
    st.session_state.pop("data_prepared", None)
    prepared = validate.prepare(source, kind, mapping=mapping, crs=crs, coords=coords, repair=repair,
                                area=import_area(cache.engine(), district_scope(actor)))
    st.session_state["data_prepared"] = (key, prepared)
    return prepared


def _show_errors(prepared: validate.Prepared) -> None:
    err = prepared.errors
    st.error(f"有 {err['row'].nunique()} 行存在问题（共 {len(err)} 处）。请修改文件后重新上传；在此之前不会写入任何数据。")
    table = err.rename(columns={"row": "行号", "field": "字段", "value": "值", "reason": "问题"})
    table["值"] = table["值"].astype(str).where(table["值"].notna(), "")
    st.dataframe(table, hide_index=True, width="stretch", height=min(38 + 35 * len(table), 420))
    st.download_button("下载问题清单（CSV）", sheets.csv_bytes(table), "导入问题清单.csv",
                       mime="text/csv", key="dl_errors")


def _preview_map(prepared: validate.Prepared) -> None:
    shown = prepared.frame.head(PREVIEW_LIMIT)
    if prepared.geoms is not None:
        geoms = prepared.geoms[: len(shown)]
    elif "lon" in shown:
        geoms = gpd.points_from_xy(shown["lon"], shown["lat"])
    else:
        return
    gdf = gpd.GeoDataFrame(shown.reset_index(drop=True), geometry=gpd.GeoSeries(geoms), crs=4326)
    gdf = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    if gdf.empty:
        return
    labels = {f.name: f.label for f in fields(prepared.kind) if f.name in ("code", "name", "category", "description")}
    config = basemap()
    m = make_map(CITY_CENTER, zoom=13, basemap=config)
    grids = cache.current_grids(database_url())
    if len(grids):
        geojson_layer(for_display(grids, config), "现有网格", lambda _f: GRID_STYLE,
                      tooltip={"code": "网格编号", "name": "网格名称"}).add_to(m)
    shown_gdf = for_display(gdf, config)
    preview_layer(shown_gdf, labels).add_to(m)
    b = shown_gdf.total_bounds
    m.fit_bounds([[b[1], b[0]], [b[3], b[2]]], padding=(30, 30), max_zoom=15)
    more = f"（仅显示前 {PREVIEW_LIMIT} 条）" if len(prepared.frame) > PREVIEW_LIMIT else ""
    st.markdown(f"**预览地图**：橙色为待导入的 {len(gdf):,} 个要素{more}，灰色为现有网格。")
    show_map(m, key="data_preview", height=460)


def _review(prepared: validate.Prepared, kind: str, renames: dict[str, str] | None = None) -> None:
    """Preview map, sample rows, bad rows, and the import buttons (管理员)."""
    _preview_map(prepared)
    with st.expander(f"数据预览（前 20 行，共 {prepared.rows:,} 行）"):
        st.dataframe(prepared.frame.head(20), hide_index=True, width="stretch")
    if not prepared.ok:
        _show_errors(prepared)
    elif not may_import:
        st.success(f"校验通过：{prepared.rows:,} 条{DATASET_LABELS[kind]}。")
        st.warning("只有管理员可以导入数据。")
    else:
        b1, b2, _ = st.columns([1, 1, 2])
        dry = b1.button("试运行（只校验，不写入）", key="data_dry", width="stretch")
        go = b2.button(f"导入 {prepared.rows:,} 条{DATASET_LABELS[kind]}", type="primary", key="data_go", width="stretch")
        if dry or go:
            bar = st.progress(0.0, text="准备导入…")
            result = import_prepared(cache.engine(), actor, prepared, dry_run=dry, renames=renames,
                                     progress=lambda frac, text: bar.progress(frac, text=text))
            bar.progress(1.0, text="完成")
            if not result.ok:
                _show_errors(result.prepared)
            else:
                if result.written:
                    cache.clear()
                st.success(md_escape(result.summary()))


with tab_import:
    c1, c2, c3 = st.columns([1, 1, 1])
    kind = c1.selectbox("导入为", KINDS, format_func=DATASET_LABELS.get, index=KINDS.index("problems"))
    coords = c2.selectbox("经纬度来源", list(COORD_LABELS), format_func=COORD_LABELS.get,
                          help="高德、腾讯地图导出的坐标为 GCJ-02，百度地图为 BD-09；投影坐标（如 EPSG:4548）不受此项影响。")
    enc_label = c3.selectbox("字符编码", list(ENCODINGS), help="默认读取 .cpg；没有 .cpg 时自动识别 UTF-8 与 GBK/GB18030。")
    c4, c5, c6 = st.columns([1, 1, 1])
    crs_text = c4.text_input("坐标系（可选）", placeholder="如 EPSG:4548；留空则读取 .prj 或按坐标范围推断")
    layer = c5.text_input("图层 / 工作表（可选）", placeholder="GeoPackage 图层或 Excel 工作表名")
    repair = c6.checkbox("修复无效几何", help="自相交等无效几何将被修复，并在报告中列出。")
    t1, t2 = st.columns([1, 2])
    t1.download_button(f"下载模板：{DATASET_LABELS[kind]}", template_bytes(kind), file_name(kind), mime=sheets.XLSX_MIME,
                       key=f"data_template_{kind}", icon=":material/download:", width="stretch")
    t2.caption("模板为中文表头加一行示例（带 * 的列为必填），填写后即可在此导入；示例行请替换为实际数据。")
    renames, renames_problem = None, None
    if kind == "problems":
        renames_text = st.text_area("问题类型对应（可选，仅用于本次导入）", key="data_renames", height=80,
                                    placeholder="每行一个 旧名=新名，如：垃圾乱倒=暴露垃圾",
                                    help="台账中的问题类型名称与系统不同时在此对应；系统已有的别名（如 违章建筑 → 违法建设）无需填写。")
        try:
            renames = parse_renames([renames_text]) or None
        except ValueError as exc:
            renames_problem = str(exc)
            st.error(md_escape(renames_problem))
    limit_mb = readers.max_bytes() // (1 << 20)
    uploads = st.file_uploader(
        f"选择文件（Shapefile 请同时选 .shp、.dbf、.shx、.prj、.cpg，或上传 .zip；单次不超过 {limit_mb} MB）",
        type=UPLOAD_TYPES, accept_multiple_files=True, key="data_upload")

    if not uploads:
        st.info("支持：Shapefile（.shp 及其附属文件，或 .zip）、GeoPackage（.gpkg）、GeoJSON、CSV（经度/纬度或 WKT 列）、Excel（.xlsx）。"
                "上传后先显示识别结果、字段对应与预览，确认无误再导入。")
    else:
        mains = [u for u in uploads if Path(u.name).suffix.lower() in readers.SUFFIXES]
        if len(mains) > 1:  # several data files added one after the other: the latest one (with its sidecars) wins
            stem = Path(mains[-1].name).stem
            uploads = [u for u in uploads if Path(u.name).stem == stem]
            st.caption(f"已选用最近上传的 {md_escape(mains[-1].name)}；其余文件未使用（可点 × 移除）。")
        files = tuple(sorted((u.name, u.getvalue()) for u in uploads))
        digest = hashlib.sha256(b"".join(n.encode() + b"\0" + d for n, d in files)).hexdigest()[:16]
        try:
            with st.spinner("正在读取文件…"), checks.one_at_a_time(actor.username if actor else "（未登录）"):
                source = _source(digest, files, layer.strip() or None, ENCODINGS[enc_label])
                mapping_key = f"map_{digest}_{kind}"
                guessed = validate.fl.guess_mapping(source.frame.columns, kind)
                options = [NOT_MAPPED] + [str(c) for c in source.frame.columns]
                chosen = {f.name: st.session_state.get(f"{mapping_key}_{f.name}", guessed.get(f.name))
                          for f in fields(kind)}
                chosen = {k: (None if v == NOT_MAPPED else v) for k, v in chosen.items()}
                try:
                    prepared = _prepared(source, digest, kind, chosen, crs_text.strip() or None, coords, repair)
                    problem = None
                except InputError as exc:
                    prepared, problem = None, str(exc)
            st.subheader("识别结果")
            info = [f"文件：{source.name}，{len(source.frame):,} 行"]
            if source.layers:
                info.append(f"图层：{source.layer}（共 {len(source.layers)} 个：{'、'.join(source.layers)}）")
            if prepared is not None:
                info += prepared.notes
            else:
                info += source.notes
            st.markdown("\n".join(f"- {md_escape(line)}" for line in info))
            mapped = [f"{f.label} ← {md_escape(chosen[f.name])}" for f in fields(kind) if chosen.get(f.name)]
            st.markdown("**字段对应**：" + "；".join(mapped) if mapped else "**字段对应**：尚未对应任何字段")
            with st.expander("修改字段对应", expanded=problem is not None):
                st.caption("左侧为系统字段，右侧选择文件中的列；带 * 的为必填。已按常见中文表头自动对应。")
                cols = st.columns(3)
                for i, f in enumerate(fields(kind)):
                    default = guessed.get(f.name)
                    cols[i % 3].selectbox(f"{f.label}{' *' if f.required else ''}", options,
                                          index=options.index(str(default)) if default is not None else 0,
                                          key=f"{mapping_key}_{f.name}")
            if prepared is None:
                st.error(md_escape(problem))
            elif renames_problem is None:
                _review(prepared, kind, renames)
        except (InputError, PermissionDenied) as exc:
            st.error(md_escape(exc))

with tab_export:
    e1, e2, _ = st.columns([1, 1, 1])
    ekind = e1.selectbox("导出图层", EXPORT_KINDS, format_func=DATASET_LABELS.get, key="export_kind")
    fmt = e2.selectbox("格式", FORMATS, format_func=FORMAT_LABELS.get, key="export_format", index=FORMATS.index(".xlsx"))
    st.caption("导出的文件可原样再导入（往返一致）：Excel 与 CSV 使用中文表头，点位与问题给出经度/纬度，其余图层给出 WKT 几何。")
    if st.button("生成导出文件", key="export_go"):
        try:
            with tempfile.TemporaryDirectory(prefix="gridmap-export-") as tmp:
                path = Path(tmp) / f"{ekind}{fmt}"
                n = export(cache.engine(), ekind, path, district_scope(actor))  # a district's user: their own
                if fmt == ".shp":
                    buf = io.BytesIO()
                    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                        for part in sorted(Path(tmp).glob(f"{ekind}.*")):
                            zf.write(part, part.name)
                    data, name = buf.getvalue(), f"{ekind}_shp.zip"
                else:
                    data, name = path.read_bytes(), path.name
            st.session_state["export_file"] = (data, name, n, ekind)
        except InputError as exc:
            st.error(md_escape(exc))
    if "export_file" in st.session_state:
        data, name, n, which = st.session_state["export_file"]
        st.success(md_escape(f"已生成 {name}：{n:,} 条{DATASET_LABELS[which]}。"))
        st.download_button(f"下载 {name}", data, name, key="export_download")
