"""From a read file to rows ready to write: mapping, coordinates, types, and every bad row with its reason.

`prepare` never writes. It returns a `Prepared` whose `errors` table lists each bad row by its
number (as the user sees it: sheet row with the header as row 1, or feature number) with the
field, the value and the reason; an import goes ahead only when that table is empty. Everything
is vectorised (pandas/numpy/shapely): a million rows are checked in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from gis.io import InputError
from gis.io import crs as crsmod
from gis.io import encoding as enc
from gis.io import fields as fl
from gis.io.readers import Source
from gis.registry import assessment_file
from gis.db import limits
from gis.db.models import (
    POINT_KINDS, ROAD_CLASSES, ROLES, SOURCES, STATUSES, TIME_UNITS, Assignment, Category, Compound, Grid,
    InspectionPoint, Person, Problem, Standard, Street, Unit, UrbanVillage,
)

MODELS = {"grids": Grid, "streets": Street, "compounds": Compound, "villages": UrbanVillage, "points": InspectionPoint,
          "categories": Category, "units": Unit, "leaders": Person, "assignments": Assignment, "problems": Problem,
          "assessment": Standard}
CATEGORY_KINDS = ("部件", "事件")
TARGET_KINDS = {"网格": "grid", "grid": "grid", "街巷": "street", "道路": "street", "street": "street",
                "小区": "compound", "compound": "compound", "城中村": "village", "village": "village",
                "点位": "point", "point": "point"}
TYPE_LABELS = {"MultiPolygon": "面", "Polygon": "面", "LineString": "线", "Point": "点"}
_DATE_RE = (r"^\s*(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})\s*日?"
            r"(?:[\sT]*(\d{1,2})\s*[:：时]\s*(\d{1,2})\s*(?:[:：分]\s*(\d{1,2})(?:\.\d+)?\s*秒?)?\s*分?)?\s*$")


@dataclass
class Prepared:
    """Rows ready to write (`frame`, WGS84 `geoms`), or the reasons they are not (`errors`)."""

    kind: str
    source: Source
    mapping: dict[str, str | None]
    frame: pd.DataFrame
    geoms: np.ndarray | None
    errors: pd.DataFrame
    repairs: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    crs: str = ""
    crs_how: str = ""
    coords: str = "wgs84"

    @property
    def ok(self) -> bool:
        return self.errors.empty

    @property
    def rows(self) -> int:
        return len(self.frame)

    def error_lines(self, limit: int = 50) -> list[str]:
        lines = [f"第 {r.row} 行{f'【{r.field}】' if r.field else ''}：{r.reason}"
                 + (f"（值：{r.value}）" if r.value not in (None, "") else "")
                 for r in self.errors.head(limit).itertuples()]
        if len(self.errors) > limit:
            lines.append(f"……另有 {len(self.errors) - limit} 处问题未列出。")
        return lines


class Errors:
    """Collects bad rows as small DataFrames (vectorised: one add per check)."""

    def __init__(self, first_row: int):
        self.first_row = first_row
        self.parts: list[pd.DataFrame] = []

    def add(self, mask, field: str, reason: str | pd.Series, values=None) -> None:
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        if len(idx) == 0:
            return
        vals = [None] * len(idx) if values is None else pd.Series(values).iloc[idx].astype(object).tolist()
        reasons = [reason] * len(idx) if isinstance(reason, str) else pd.Series(reason).iloc[idx].tolist()
        self.parts.append(pd.DataFrame({"row": idx + self.first_row, "field": field, "value": vals, "reason": reasons,
                                        "_i": idx}))

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=["row", "field", "value", "reason"])
        out = pd.concat(self.parts, ignore_index=True).sort_values(["_i"], kind="stable")
        return out.drop(columns="_i").reset_index(drop=True)


def max_chars(kind: str, field: str) -> int | None:
    """The length limit of an import field: its column's (`gis.db.limits`), or None for non-text fields."""
    table = MODELS[kind].__table__
    column = table.c.get(field) if field in table.c else limits.REFERENCE_COLUMNS.get(field)
    return None if column is None else limits.max_chars(column)


def parse_datetimes(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Dates/times as datetime64, accepting 2025-03-05[ 08:30[:00]], 2025/3/5, 2025年3月5日 08:30, 2025.3.5.

    Returns (parsed, bad) where bad marks non-empty values that could not be read."""
    s = values.astype("string[pyarrow]").str.strip()
    empty = s.isna() | (s == "")
    out = pd.to_datetime(s.where(~empty), format="ISO8601", errors="coerce")
    retry = (out.isna() & ~empty).to_numpy()
    if retry.any():
        parts = s[retry].str.extract(_DATE_RE)
        nums = parts.apply(pd.to_numeric, errors="coerce").fillna({3: 0, 4: 0, 5: 0})
        nums.columns = ["year", "month", "day", "hour", "minute", "second"]
        ok = nums[["year", "month", "day"]].notna().all(axis=1)
        parsed = pd.Series(pd.NaT, index=nums.index, dtype="datetime64[us]")
        if ok.any():
            parsed[ok] = pd.to_datetime(nums[ok].astype("int64"), errors="coerce")
        out = out.astype("datetime64[us]")
        out[retry] = parsed.to_numpy()
    out = out.astype("datetime64[us]")
    bad = (out.isna() & ~empty).to_numpy()
    return out, bad


def _text(frame: pd.DataFrame, column: str | None) -> pd.Series:
    if column is None:
        return pd.Series(pd.NA, index=frame.index, dtype="string[pyarrow]")
    s = frame[column]
    if not (s.dtype == object or pd.api.types.is_string_dtype(s)):
        s = s.astype("string[pyarrow]")
        return s.str.replace(r"\.0$", "", regex=True)
    s = s.astype("string[pyarrow]").str.strip()
    return s.mask(s == "")


def _geometry_from_table(src: Source, kind: str, errors: Errors, notes: list[str]):
    frame = src.frame
    lon_col, lat_col, wkt_col = fl.coordinate_columns(frame.columns)
    if lon_col and lat_col:
        x = pd.to_numeric(frame[lon_col].astype("string[pyarrow]").str.strip(), errors="coerce").to_numpy(dtype=float)
        y = pd.to_numeric(frame[lat_col].astype("string[pyarrow]").str.strip(), errors="coerce").to_numpy(dtype=float)
        raw_x = frame[lon_col].astype("string[pyarrow]").str.strip()
        raw_y = frame[lat_col].astype("string[pyarrow]").str.strip()
        errors.add(np.isnan(x) & raw_x.fillna("").ne("").to_numpy(), lon_col, "经度不是数字", raw_x)
        errors.add(np.isnan(y) & raw_y.fillna("").ne("").to_numpy(), lat_col, "纬度不是数字", raw_y)
        missing = (raw_x.fillna("").eq("") | raw_y.fillna("").eq("")).to_numpy()
        errors.add(missing, f"{lon_col}/{lat_col}", "缺少坐标")
        notes.append(f"坐标取自列“{lon_col}”“{lat_col}”。")
        return ("xy", x, y, [lon_col, lat_col])
    if wkt_col:
        text = frame[wkt_col].astype("string[pyarrow]").str.strip()
        geoms = shapely.from_wkt(text.fillna("").to_numpy(dtype=object), on_invalid="ignore")
        unreadable = shapely.is_missing(geoms) & text.fillna("").ne("").to_numpy()
        errors.add(unreadable, wkt_col, "WKT 几何无法解析", text.str.slice(0, 60))
        errors.add(text.fillna("").eq("").to_numpy(), wkt_col, "缺少几何（WKT 为空）")
        notes.append(f"几何取自 WKT 列“{wkt_col}”。")
        return ("geoms", geoms, None, [wkt_col])
    want = "经度/纬度（lon/lat、x/y）两列" + ("" if kind in ("points", "problems") else "")
    raise InputError(f"{src.name} 中找不到坐标：需要{want}或一个 WKT 列。现有表头：{'、'.join(map(str, frame.columns))}。")


def _swap_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Rows whose lon/lat are the wrong way round (China: lon 73–136, lat 3–54)."""
    return (x >= 3) & (x <= 54) & (y >= 73) & (y <= 136)


def _coerce_type(geoms: np.ndarray, want: str, errors: Errors) -> np.ndarray:
    """Geometries as the kind's type: Polygon→MultiPolygon, single-part Multi*→single, lines merged."""
    out = geoms.copy()
    present = ~(shapely.is_missing(out) | shapely.is_empty(out))
    types = np.array(shapely.get_type_id(out))
    names = {0: "Point", 1: "LineString", 2: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString",
             6: "MultiPolygon", 7: "GeometryCollection"}
    nparts = np.array(shapely.get_num_geometries(out))
    if want == "MultiPolygon":
        poly = present & (types == 3)
        out[poly] = [shapely.MultiPolygon([g]) for g in out[poly]]
        ok = poly | (types == 6)
    elif want == "Polygon":
        single = present & (types == 6) & (nparts == 1)
        out[single] = shapely.get_geometry(out[single], 0)
        multi = present & (types == 6) & (nparts > 1)
        if multi.any():
            errors.add(multi, "几何", [f"多部件面（{n} 个部分），应为单个面" for n in nparts])
        ok = (types == 3) | single | multi
    elif want == "LineString":
        ml = present & (types == 5)
        if ml.any():
            out[ml] = shapely.line_merge(out[ml])
        types2 = np.array(shapely.get_type_id(out))
        still = ml & (types2 == 5)
        errors.add(still, "几何", "多段线无法合并为一条线")
        ok = (types2 == 1) | (types2 == 2) | still
    else:  # Point
        single = present & (types == 4) & (nparts == 1)
        out[single] = shapely.get_geometry(out[single], 0)
        ok = (types == 0) | single
    wrong = present & ~ok
    if wrong.any():
        errors.add(wrong, "几何", [f"几何类型为 {names.get(int(t), '未知')}，应为{TYPE_LABELS[want]}（{want}）" for t in types])
    errors.add(~present, "几何", "缺少几何（空几何）")
    return out


def _polygonal(g):
    if g is None:
        return g
    parts = shapely.get_parts(g)
    polys = [p for p in parts if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polys) if polys else None


def _check_valid(geoms: np.ndarray, want: str, repair: bool, errors: Errors, first_row: int, notes: list[str]):
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    invalid = present & ~shapely.is_valid(geoms)
    repairs = pd.DataFrame(columns=["row", "reason"])
    if not invalid.any():
        return geoms, repairs
    reasons = np.array(shapely.is_valid_reason(geoms), dtype=object)
    if not repair:
        errors.add(invalid, "几何", pd.Series([f"几何无效：{r}（可用 --repair 修复）" for r in reasons]))
        return geoms, repairs
    out = geoms.copy()
    fixed = shapely.make_valid(out[invalid])
    if want in ("MultiPolygon", "Polygon"):
        fixed = np.array([_polygonal(g) for g in fixed], dtype=object)
    out[invalid] = fixed
    idx = np.flatnonzero(invalid)
    repairs = pd.DataFrame({"row": idx + first_row, "reason": [f"几何无效（{reasons[i]}），已用 make_valid 修复" for i in idx]})
    notes.append(f"已修复 {len(idx)} 个无效几何（make_valid）：第 {'、'.join(map(str, repairs['row'].head(10)))} 行"
                 + ("……" if len(idx) > 10 else "") + "。")
    return out, repairs


def prepare(src: Source, kind: str, mapping: dict[str, str | None] | None = None, crs: str | None = None,
            coords: str = "wgs84", repair: bool = False, check_district: bool = True,
            optional: tuple[str, ...] = (), negative_sheet: bool = False, area=None) -> Prepared:
    """Map, convert and validate `src` for `kind` (see module doc). Raises InputError for file-level problems.

    `check_district`: refuse rows outside the district plus a margin (`area`, a prepared WGS84 geometry, when
    the deployment has several districts: `gis.geo.districts.districts_with_margin`; else the own district's).

    `optional` names required fields that this use does without (a planner's boundary file may lack 网格名称).
    For the 测评体系 (``assessment``), a workbook's 负面清单 sheet is prepared too and appended
    (gis.registry.assessment_file); `negative_sheet` marks that sheet's own preparation."""
    if kind == "assessment" and not negative_sheet:
        companion = assessment_file.prepare_companion(src, prepare, check_district=check_district)
        main = _prepare(src, kind, mapping, crs, coords, repair, check_district, optional, area=area)
        if companion is None:
            return main
        main.frame = pd.concat([main.frame, companion.frame], ignore_index=True)
        main.errors = pd.concat([main.errors, companion.errors], ignore_index=True)
        main.notes.append(f"已一并读取工作表“{assessment_file.NEGATIVE_SHEET}”：{len(companion.frame)} 条负面清单。")
        return main
    return _prepare(src, kind, mapping, crs, coords, repair, check_district, optional, negative_sheet, area)


def _prepare(src: Source, kind: str, mapping: dict[str, str | None] | None, crs: str | None, coords: str,
             repair: bool, check_district: bool, optional: tuple[str, ...], negative_sheet: bool = False,
             area=None) -> Prepared:
    if kind not in fl.KINDS:
        raise InputError(f"未知的数据类型“{kind}”：可选 {', '.join(fl.KINDS)}。")
    if coords not in crsmod.COORD_SYSTEMS:
        raise InputError(f"未知的坐标来源“{coords}”：可选 wgs84、gcj02、bd09。")
    frame = src.frame
    if len(frame) == 0:
        raise InputError(f"{src.name} 中没有数据行（要素数为 0）。")
    bad_headers = enc.garbled_columns(frame.columns)
    if bad_headers:
        raise InputError(f"{src.name} 的表头是乱码（{'、'.join(bad_headers[:5])}）：字符编码不对，请用 --encoding 指定（如 gbk）。")
    guessed = fl.guess_mapping(frame.columns, kind)
    if mapping:
        for key, col in mapping.items():
            if key not in guessed:
                raise InputError(f"未知字段“{key}”：{kind} 的字段有 {', '.join(guessed)}。")
            if col is not None and col not in frame.columns:
                raise InputError(f"文件中没有列“{col}”（映射到字段 {key}）。")
            guessed[key] = col
    mapping = guessed
    specs = fl.fields(kind)
    required = {f.name for f in specs if f.required and f.name not in optional}
    missing = [f for f in specs if f.name in required and mapping.get(f.name) is None]
    if missing:
        raise InputError("缺少必填字段：" + "；".join(
            f"{f.label}（可用表头：{'、'.join(dict.fromkeys(f.aliases[:4]))}）" for f in missing)
            + f"。文件的表头：{'、'.join(map(str, frame.columns))}。")

    errors = Errors(src.first_row)
    notes = list(src.notes)
    out = pd.DataFrame(index=frame.index)
    for f in specs:
        col = mapping.get(f.name)
        raw = _text(frame, col)
        if f.type == "text":
            out[f.name] = raw
        elif f.type in ("datetime", "date"):
            parsed, bad = parse_datetimes(raw)
            errors.add(bad, f.label, "无法识别的日期时间（可用 2025-03-05 08:30、2025/3/5、2025年3月5日 08:30）", raw)
            out[f.name] = parsed.dt.normalize().dt.date.where(parsed.notna(), None) if f.type == "date" else parsed
        else:
            num = pd.to_numeric(raw, errors="coerce")
            errors.add(num.isna() & raw.notna(), f.label, "不是数字", raw)
            if f.type == "int":
                frac = num.notna() & (num % 1 != 0)
                errors.add(frac, f.label, "不是整数", raw)
                out[f.name] = num.round().astype("Int64")
            else:
                out[f.name] = num.astype("Float64")
        if f.name in required:
            errors.add(raw.isna(), f.label, f"缺少必填字段“{f.label}”")
        limit = max_chars(kind, f.name)
        if limit and f.type == "text":
            length = raw.str.len().fillna(0).astype("int64")
            errors.add(length > limit, f.label, "过长（" + length.map("{:,}".format) + f" 字），最多 {limit:,} 字",
                       raw.str.slice(0, 40))
    texts = out[[f.name for f in specs if f.type == "text" and mapping.get(f.name)]]
    garbled = enc.garbled_rows(texts)
    errors.add(garbled, "", "文字是乱码（字符编码不对？请用 --encoding 指定，如 gbk）")
    if "code" in out:
        dup = out["code"].notna() & out["code"].duplicated(keep=False)
        if dup.any():
            first = out.index.to_series().groupby(out["code"]).transform("min")
            later = dup & (out.index.to_series() != first)
            first_rows = (first.fillna(-1).astype("int64") + src.first_row).astype(str)
            errors.add(later, "编号", "编号重复，与第 " + first_rows + " 行相同", out["code"])
    _check_values(kind, out, errors, negative_sheet)

    want = fl.GEOMETRY[kind]
    geoms = None
    crs_desc = how = ""
    if want:
        if src.table:
            mode, a, b, _cols = _geometry_from_table(src, kind, errors, notes)
        else:
            mode, a, b = "geoms", shapely.force_2d(src.geoms), None
        if mode == "geoms":
            geoms = a
            present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
            bounds = shapely.bounds(geoms[present])
            cx, cy = (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2
        else:
            cx, cy = a, b
        choice = crsmod.choose(src.crs, src.crs_how, crs, cx, cy)
        notes.append(choice.note)
        if coords == "wgs84" and choice.crs.is_geographic and choice.how in ("guess", "default"):
            notes.append("若数据来自高德/腾讯地图（GCJ-02）或百度地图（BD-09），请在“经纬度来源”中选择相应坐标，系统会换算为 WGS84。")
        if coords != "wgs84":
            notes.append(f"坐标来源：{crsmod.COORD_LABELS[coords]}，已转换为 WGS84。")
        if choice.crs.is_geographic:
            if mode == "geoms" and len(cx) and np.nanmedian(cx) < 60 and np.nanmedian(cy) > 60:
                geoms = crsmod.swap_xy(geoms)
                notes.append("检测到经纬度颠倒（X 是纬度、Y 是经度），已交换。")
            elif mode == "xy":
                sw = _swap_rows(a, b)
                if sw.any():
                    a, b = np.where(sw, b, a), np.where(sw, a, b)
                    rows = np.flatnonzero(sw) + src.first_row
                    notes.append(f"检测到 {int(sw.sum())} 行经纬度颠倒，已交换：第 {'、'.join(map(str, rows[:10]))} 行"
                                 + ("……" if len(rows) > 10 else "") + "。")
        if mode == "xy":
            lon, lat = crsmod.xy_to_wgs84(a, b, choice.crs, coords)
            has = np.isfinite(lon) & np.isfinite(lat)
            if check_district:
                far = crsmod.outside_points(lon, lat, area=area) & has
                if far.any():
                    shown = pd.Series(None, index=range(len(lon)), dtype=object)
                    idx = np.flatnonzero(far)
                    shown.iloc[idx] = [f"{x:.6f}, {y:.6f}" for x, y in zip(a[idx], b[idx])]
                    errors.add(far, "坐标", f"坐标超出辖区范围（辖区边界外 {crsmod.MARGIN_M / 1000:g} km 以上）", shown)
            out["lon"], out["lat"] = lon, lat
            geoms = None
        else:
            geoms = _coerce_type(crsmod.geoms_to_wgs84(geoms, choice.crs, coords), want, errors)
            geoms, repairs = _check_valid(geoms, want, repair, errors, src.first_row, notes)
            if check_district:
                far = crsmod.outside_geoms(geoms, area=area) & ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
                errors.add(far, "几何", f"几何超出辖区范围（辖区边界外 {crsmod.MARGIN_M / 1000:g} km 以上）")
            if want == "Point":
                out["lon"], out["lat"] = shapely.get_x(geoms), shapely.get_y(geoms)
        crs_desc, how = crsmod.describe(choice.crs), choice.how
    repairs_df = locals().get("repairs", pd.DataFrame(columns=["row", "reason"]))
    err = errors.frame()
    return Prepared(kind, src, mapping, out, geoms, err, repairs_df, notes, crs_desc, how, coords)


def _check_values(kind: str, out: pd.DataFrame, errors: Errors, negative_sheet: bool = False) -> None:
    def allowed(col, values, label, default=None):
        if col not in out:
            return
        if default is not None:
            out[col] = out[col].fillna(default)
        s = out[col]
        errors.add(s.notna() & ~s.isin(values), label, f"取值不在允许范围（{'、'.join(values)}）", s)

    if kind == "streets":
        allowed("road_class", ROAD_CLASSES, "道路等级", default="背街小巷")
    elif kind == "points":
        allowed("kind", POINT_KINDS, "点位类型")
    elif kind == "problems":
        allowed("status", STATUSES, "状态", default=STATUSES[0])
        allowed("source", SOURCES, "问题来源", default="市民热线")
    elif kind == "assignments":
        tk = out["target_kind"].str.strip().str.lower()
        mapped = tk.map(TARGET_KINDS)
        errors.add(tk.notna() & mapped.isna(), "对象类型", "对象类型应为 网格、街巷、小区、城中村 或 点位", out["target_kind"])
        out["target_kind"] = mapped
        allowed("role", ROLES, "帮包角色")
        errors.add(out["person_code"].isna() & out["person_name"].isna() & out["unit_code"].isna(), "责任人",
                   "缺少责任人（人员编号或姓名）或责任单位编号")
    elif kind == "categories":
        allowed("time_unit", TIME_UNITS, "时限单位")
        allowed("kind", CATEGORY_KINDS, "部件事件")
        dup = out["name"].notna() & out["name"].duplicated()
        errors.add(dup, "问题类型", "问题类型名称重复（同一文件中出现两次）", out["name"])
        for col, label in (("time_limit", "整改时限"), ("deduction", "扣分"), ("urgent_hours", "紧急处置时限（小时）")):
            errors.add(out[col].notna() & (out[col] < 0), label, "不能为负数", out[col])
        errors.add(out["time_limit"].notna() & (out["time_limit"] == 0), "整改时限", "必须大于 0", out["time_limit"])
        alias_len = out["aliases"].fillna("").str.split(r"[、,，;；/|\s]+", regex=True).map(
            lambda xs: max((len(x) for x in xs), default=0))
        errors.add(alias_len > 20, "别名", "每个别名最多 20 字", out["aliases"])
    elif kind == "assessment":
        assessment_file.check(out, errors, negative_sheet)
    if kind in ("grids",) and "subdistrict" in out:
        out["subdistrict"] = out["subdistrict"].fillna("")
