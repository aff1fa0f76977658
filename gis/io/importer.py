"""Importing a file into the database: all rows in ONE transaction, or nothing.

`load` reads and validates (no database needed); `import_prepared` checks references against
the database (categories, units, persons, target codes), then — when there is no bad row and
it is not a dry run — upserts by code (existing rows are updated, never duplicated) and writes
one audit entry, all in the same transaction. Grids go into the current published layer;
problems get their grid/compound/street/village ids from `gis.problems.writes` in the same transaction.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, LargeBinary, bindparam, func, select

from gis.people import audit
from gis.geo.areas import PUBLISHED, current_layer_id, grid_layer
from gis.geo.crs import METRIC_CRS
from gis.geo.assign import NONE, points_in_polygons
from gis.geo.districts import codes_at, codes_of_shapes, district_names, district_table, districts_with_margin
from gis.io import InputError, readers, validate
from gis.io.crs import MARGIN_M
from gis.io.fields import DATASET_LABELS, GEOMETRY
from gis.db.models import (
    SRID, Assignment, Category, Compound, Grid, GridLayer, InspectionPoint, Person, Problem, Standard, Street, Unit,
    UrbanVillage,
)
from gis.people.permissions import Actor, district_scope, require
from gis.problems import categories as category_registry
from gis.problems import worktime
from gis.problems.workflow import category_limit, category_table
from gis.db import rule_versions as versions
from gis.registry import assessment_file
from gis.problems.writes import insert_problems, locate

MODELS = {"grids": Grid, "streets": Street, "compounds": Compound, "villages": UrbanVillage, "points": InspectionPoint,
          "categories": Category, "units": Unit, "leaders": Person, "assignments": Assignment, "problems": Problem,
          "assessment": Standard}
TARGET_MODELS = {"grid": Grid, "street": Street, "compound": Compound, "village": UrbanVillage, "point": InspectionPoint}
Progress = Callable[[float, str], None]
BULK_ROWS = 100_000  # SQLite: batches from this size are written with indexes rebuilt afterwards


@dataclass
class ImportResult:
    prepared: validate.Prepared
    dry_run: bool = False
    written: bool = False
    inserted: int = 0
    updated: int = 0

    @property
    def ok(self) -> bool:
        return self.prepared.ok

    @property
    def errors(self) -> pd.DataFrame:
        return self.prepared.errors

    def summary(self) -> str:
        p = self.prepared
        what = DATASET_LABELS[p.kind]
        if not p.ok:
            rows = p.errors["row"].nunique()
            return f"{p.source.name}：{rows} 行有问题（共 {len(p.errors)} 处），未导入任何数据。"
        if self.dry_run:
            return f"{p.source.name}：试运行通过，{p.rows} 条{what}均可导入（未写入数据库）。"
        return f"{p.source.name}：已导入 {p.rows} 条{what}（新增 {self.inserted}，更新 {self.updated}）。"


def load(path: str | Path, kind: str, layer: str | None = None, encoding: str | None = None, crs: str | None = None,
         coords: str = "wgs84", repair: bool = False, mapping: dict | None = None,
         check_district: bool = True) -> validate.Prepared:
    """Read and validate a file for `kind` (nothing touches the database)."""
    src = readers.read(path, layer=layer, encoding=encoding)
    return validate.prepare(src, kind, mapping=mapping, crs=crs, coords=coords, repair=repair,
                            check_district=check_district)


def import_file(engine: Engine, actor: Actor, kind: str, path: str | Path, dry_run: bool = False,
                progress: Progress | None = None, district: str | None = None, **options) -> ImportResult:
    """Read, validate and (unless `dry_run` or a row is bad) write `path` as `kind`, in one transaction.
    `district` (区县 code; a district's 管理员: their own): see `import_prepared`."""
    district = _district(engine, actor, district)
    report = progress or (lambda _f, _t: None)
    report(0.05, "读取文件…")
    mapping, crs, coords = options.pop("mapping", None), options.pop("crs", None), options.pop("coords", "wgs84")
    repair, check = options.pop("repair", False), options.pop("check_district", True)
    renames = options.pop("renames", None)
    src = readers.read(path, **options)
    report(0.2, "校验与坐标转换…")
    prepared = validate.prepare(src, kind, mapping=mapping, crs=crs, coords=coords, repair=repair, check_district=check,
                                area=import_area(engine, district) if check else None)
    return import_prepared(engine, actor, prepared, dry_run=dry_run, progress=progress, renames=renames,
                           district=district)


def _district(engine: Engine, actor: Actor, district: str | None) -> str | None:
    """The district an import goes into: `district`, else the actor's own (None: city-level, anywhere). A
    district's user may import into their own district only (PermissionDenied); an unknown code: InputError."""
    district = district or district_scope(actor)
    require(actor, "data.import", district_code=district)
    if district is not None and district not in set(district_table(engine)["code"]):
        raise InputError(f"区县“{district}”不存在：可选 {district_names(engine)}。")
    return district


def import_area(engine: Engine, district: str | None = None):
    """Where the rows of an import may lie (`validate.prepare`'s `area`): district `district` plus the
    margin; the deployment's districts when it has several; None (the own district's file) when it has one."""
    if district is None and len(district_table(engine)) < 2:
        return None
    return districts_with_margin(engine, MARGIN_M, district)


def import_prepared(engine: Engine, actor: Actor, prepared: validate.Prepared, dry_run: bool = False,
                    progress: Progress | None = None, renames: dict[str, str] | None = None,
                    district: str | None = None) -> ImportResult:
    """Check references and write (see module doc). `renames` (问题类型 旧名 → 新名, `--map`) maps a
    ledger's own category names for this import only; aliases (gis.problems.categories) apply after it.

    `district` (区县 code; default: the actor's own, none for a city-level one): every area, point and
    problem must lie in it (the district its writer stamps it with) and no row may update one of another
    district with the same code; rows that do not are bad rows, and nothing is written."""
    district = _district(engine, actor, district)
    result = ImportResult(prepared, dry_run=dry_run)
    report = progress or (lambda _f, _t: None)
    report(0.4, "核对编号与引用…")
    with engine.begin() as conn:
        extra = validate.Errors(prepared.source.first_row)
        frame = _resolve(conn, prepared, extra, renames)
        if district is not None and GEOMETRY[prepared.kind]:
            _check_district(conn, prepared, frame, district, extra)
        more = extra.frame()
        if not more.empty:  # a copy: the caller's Prepared (kept by 数据管理 between runs) stays as it was read
            prepared = dataclasses.replace(prepared, errors=pd.concat([prepared.errors, more], ignore_index=True)
                                           .sort_values("row", kind="stable").reset_index(drop=True))
            result.prepared = prepared
        if not prepared.ok or dry_run:
            return result
        report(0.6, "写入数据库…")
        with _bulk(conn, MODELS[prepared.kind].__table__.name, prepared.rows):
            result.inserted, result.updated = WRITERS[prepared.kind](conn, frame, prepared.geoms)
        audit.record(conn, actor, f"import.{prepared.kind}", prepared.kind, prepared.source.name[:64], {
            "file": prepared.source.name, "rows": prepared.rows, "inserted": result.inserted, "updated": result.updated,
            "encoding": prepared.source.encoding, "crs": prepared.crs, "coords": prepared.coords,
            "repaired": len(prepared.repairs), **({"renames": renames} if renames else {})},
            district=district)  # the district the rows went into; none: a city-level import, city-level
        result.written = True
    report(1.0, "完成")
    return result


@contextmanager
def _bulk(conn: Connection, table: str, rows: int):
    """SQLite, big batch: drop the table's secondary indexes and SpatiaLite's per-row geometry-constraint
    triggers, write, then recreate them from their own SQL — all inside the import's transaction, so a
    failure rolls the drop back too. Building an index once is far cheaper than a million index updates
    and trigger runs (the geometries written here are SRID 4326 points/polygons made by the importer).
    Readers are not blocked: in WAL mode they read the last committed state meanwhile.

    PostgreSQL keeps its indexes (dropping one locks the table against readers until the import
    commits: a wall request waited 15–19 s); `gis.db.store.bulk_insert` writes big batches in index
    order instead, which keeps the index maintenance cheap."""
    if rows < BULK_ROWS or conn.dialect.name == "postgresql":
        yield
        return
    objects = conn.exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL AND ("
        "(type = 'index' AND name NOT LIKE 'sqlite_autoindex_%') OR "
        "(type = 'trigger' AND (name LIKE 'ggi_%' OR name LIKE 'ggu_%')))", (table,)).all()  # not the R-tree triggers
    cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql("PRAGMA cache_size = -262144")
    for kind, name, _sql in objects:
        conn.exec_driver_sql(f'DROP {kind.upper()} "{name}"')
    try:
        yield
        for _kind, _name, sql in objects:  # on failure the rollback brings them back
            conn.exec_driver_sql(sql)
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")


# ---------------------------------------------------------------- references

def _codes(conn: Connection, model, where=None) -> dict[str, int]:
    t = model.__table__
    stmt = select(t.c.code, t.c.id)
    if where is not None:
        stmt = stmt.where(where)
    return dict(conn.execute(stmt).all())


def _resolve(conn: Connection, p: validate.Prepared, errors: validate.Errors,
             renames: dict[str, str] | None = None) -> pd.DataFrame:
    """Kind-specific lookups in the database; adds bad rows to `errors`; returns the frame to write."""
    df = p.frame.copy()
    if p.kind == "problems":
        cats = category_table(conn).set_index("name")
        original = df["category"]
        df["category"], why = category_registry.canonical(conn, original, renames)
        known = df["category"].isin(cats.index)
        errors.add(why.notna(), "问题类型", why, original)
        # missing deadlines: the category's limit in its unit (gis.problems.worktime), vectorised
        todo = df["deadline"].isna() & known & df["reported_at"].notna()
        # each row's rule is its category's in force on its report day (规则按日期生效, gis.db.rule_versions)
        rules = versions.category_rules(conn, df["category"], df["reported_at"])
        rules.index = df.index
        if todo.any():
            limits = [category_limit(r) for r in rules.loc[todo].to_dict("records")]
            try:
                found = worktime.deadlines(df.loc[todo, "reported_at"], [a for a, _ in limits], [u for _, u in limits])
                df.loc[todo, "deadline"] = found.to_numpy()
            except worktime.CalendarNotCovered as exc:
                errors.add(todo, "整改时限", str(exc), df["category"])
        df["deduction"] = df["deduction"].fillna(pd.to_numeric(rules["deduction"]).astype("Float64")).fillna(0.0)
        df["standard_code"] = df["standard_code"].fillna(df["category"].map(cats["standard_code"]))
        df["rework_count"] = df["rework_count"].fillna(0)
        units = _codes(conn, Unit)
        errors.add(df["unit_code"].notna() & ~df["unit_code"].isin(units), "责任单位编号", "责任单位编号不存在", df["unit_code"])
        df["unit_id"] = df["unit_code"].map(units).astype("Int64")
    elif p.kind == "categories":
        why = category_registry.alias_conflicts(conn, df)
        errors.add(why.notna(), "别名", why, df["aliases"])
    elif p.kind == "assessment":
        df = assessment_file.resolve(conn, df, errors)
    elif p.kind == "leaders":
        units = _codes(conn, Unit)
        bad = df["unit_code"].notna() & ~df["unit_code"].isin(units) & df["unit_name"].isna()
        errors.add(bad, "单位编号", "单位编号不存在（同时给出所属单位名称可新建该单位）", df["unit_code"])
    elif p.kind == "assignments":
        persons = pd.DataFrame(conn.execute(select(Person.__table__.c.code, Person.__table__.c.name,
                                                   Person.__table__.c.id)).all(), columns=["code", "name", "id"])
        by_code = dict(zip(persons["code"], persons["id"]))
        names = persons.drop_duplicates("name", keep=False)
        by_name = dict(zip(names["name"], names["id"]))
        ambiguous = set(persons["name"][persons["name"].duplicated()])
        pid = df["person_code"].map(by_code)
        pid = pid.fillna(df["person_name"].map(by_name))
        errors.add(df["person_code"].notna() & ~df["person_code"].isin(by_code), "人员编号", "人员编号不存在", df["person_code"])
        errors.add(df["person_code"].isna() & df["person_name"].isin(ambiguous), "责任人", "有多个同名责任人，请给出人员编号",
                   df["person_name"])
        errors.add(df["person_code"].isna() & df["person_name"].notna() & ~df["person_name"].isin(persons["name"]),
                   "责任人", "责任人不存在（请先导入责任人）", df["person_name"])
        df["person_id"] = pid.astype("Int64")
        units = _codes(conn, Unit)
        errors.add(df["unit_code"].notna() & ~df["unit_code"].isin(units), "单位编号", "单位编号不存在", df["unit_code"])
        df["unit_id"] = df["unit_code"].map(units).astype("Int64")
        layer_id = current_layer_id(conn)
        for kind, model in TARGET_MODELS.items():
            where = Grid.__table__.c.layer_id == layer_id if model is Grid else None
            have = _codes(conn, model, where)
            rows = (df["target_kind"] == kind) & df["target_code"].notna()
            errors.add(rows & ~df["target_code"].isin(have), "对象编号", f"对象编号在{_KIND_CN[kind]}中不存在", df["target_code"])
        df["valid_from"] = df["valid_from"].where(df["valid_from"].notna(), date.today())
    return df


def _check_district(conn: Connection, p: validate.Prepared, df: pd.DataFrame, district: str,
                    errors: validate.Errors) -> None:
    """Bad rows of an import into `district`: a place that lies in another district (by the stamp its writer
    gives: `codes_at` of a point, `codes_of_shapes` of an area), a code that another district's row has."""
    names = dict(district_table(conn)[["code", "name"]].itertuples(index=False))
    here = f"{names[district]}（{district}）"
    found = np.full(len(df), None, dtype=object)
    if p.kind in ("points", "problems"):
        lon, lat = df["lon"].to_numpy(np.float64), df["lat"].to_numpy(np.float64)
        ok = np.isfinite(lon) & np.isfinite(lat)
        found[ok] = codes_at(conn, lon[ok], lat[ok])
    elif p.geoms is not None:
        ok = ~(shapely.is_missing(p.geoms) | shapely.is_empty(p.geoms))
        found[ok] = codes_of_shapes(conn, p.geoms[ok])
    elsewhere = pd.Series(found).notna() & (pd.Series(found) != district)
    errors.add(elsewhere, "位置", f"不在{here}内，不能导入到该区县",
               pd.Series(found).map(lambda c: f"位于{names.get(c, c)}"))
    t = MODELS[p.kind].__table__
    codes = df["code"].dropna().astype(str).unique().tolist()
    if not codes or "district_code" not in t.c:
        return
    stmt = select(t.c.code, t.c.district_code).where(t.c.district_code != district)
    if t is Grid.__table__:
        stmt = stmt.where(t.c.layer_id == current_layer_id(conn))
    other = dict(conn.execute(stmt.where(t.c.code.in_(codes)) if len(codes) <= 20_000 else stmt).all())
    taken = df["code"].isin(other)
    owner = df["code"].map(other)
    errors.add(taken, "编号", "编号已是" + owner.map(lambda c: f"{names.get(c, c)}（{c}）") + f"的{DATASET_LABELS[p.kind]}，"
               f"不能在{here}导入", df["code"])


_KIND_CN = {"grid": "现行网格", "street": "街巷", "compound": "小区", "village": "城中村", "point": "点位"}


# ---------------------------------------------------------------- writing

def _records(df: pd.DataFrame) -> list[dict]:
    out = df.astype(object).where(df.notna(), None)
    return out.to_dict("records")


def _upsert(conn: Connection, model, df: pd.DataFrame, geoms: np.ndarray | None, existing: dict[str, int],
            insert_extra: dict | None = None, bump_revision: bool = False, store_code: bool = True) -> tuple[int, int]:
    """Insert rows whose code is new; update the others in place (keyed by code, or by the
    `code` key column given when the table has no code: `store_code=False`)."""
    t = model.__table__
    df = df.reset_index(drop=True)
    if geoms is not None and "district_code" in t.c:  # an area lies in the district of its inside (issue 17)
        df["district_code"] = codes_of_shapes(conn, geoms)
    old = df["code"].isin(existing).to_numpy()
    new_rows = df[~old].copy() if store_code else df[~old].drop(columns="code")
    for name, value in (insert_extra or {}).items():
        new_rows[name] = value
    from gis.db.store import bulk_insert

    bulk_insert(conn, t, new_rows, None if geoms is None else geoms[~old])
    if old.any():
        upd = df[old].copy()
        upd["_id"] = upd["code"].map(existing)
        cols = [c for c in upd.columns if c not in ("_id", "code")]
        values = {c: bindparam(c, type_=t.c[c].type) for c in cols}
        if geoms is not None:
            upd["_wkb"] = shapely.to_wkb(geoms[old], output_dimension=2)
            values["geom"] = func.ST_GeomFromWKB(bindparam("_wkb", type_=LargeBinary), SRID)
        if bump_revision:
            values["revision"] = t.c.revision + 1
        stmt = t.update().where(t.c.id == bindparam("_id")).values(values)
        conn.execute(stmt, _records(upd))
    return int((~old).sum()), int(old.sum())


def _metric(geoms: np.ndarray) -> gpd.GeoSeries:
    return gpd.GeoSeries(geoms, crs=f"EPSG:{SRID}").to_crs(METRIC_CRS)


def _write_grids(conn, df, geoms):
    layer_id = current_layer_id(conn)
    if layer_id is None:
        t = GridLayer.__table__
        number = (conn.execute(select(func.max(t.c.number))).scalar() or 0) + 1
        now = datetime.now().replace(microsecond=0)
        layer_id = conn.execute(t.insert().values(
            number=number, status=PUBLISHED, title="导入的网格", note="由数据导入创建", created_by="数据导入",
            created_at=now, published_at=now, valid_from=now, revision=1).returning(t.c.id)).scalar_one()
    out = df[["code", "name", "subdistrict"]].copy()
    out["area_m2"] = _metric(geoms).area.to_numpy()
    existing = _codes(conn, Grid, Grid.__table__.c.layer_id == layer_id)
    return _upsert(conn, Grid, out, geoms, existing, {"layer_id": layer_id, "revision": 1}, bump_revision=True)


def _write_streets(conn, df, geoms):
    out = df[["code", "name", "road_class"]].copy()
    out["length_m"] = _metric(geoms).length.to_numpy()
    return _upsert(conn, Street, out, geoms, _codes(conn, Street))


def _write_areas(model, columns):
    def write(conn, df, geoms):
        out = df[columns].copy()
        out["area_m2"] = _metric(geoms).area.to_numpy()
        return _upsert(conn, model, out, geoms, _codes(conn, model))
    return write


def _write_points(conn, df, geoms):
    out = df[["code", "name", "kind", "ref_code"]].copy()
    ids = points_in_polygons(df["lon"].to_numpy(float), df["lat"].to_numpy(float), grid_layer(conn))
    out["grid_id"] = pd.array(np.where(ids == NONE, None, ids), dtype="Int64")
    return _upsert(conn, InspectionPoint, out, geoms, _codes(conn, InspectionPoint))


def _unit_code_for(name: str) -> str:
    return "U-" + hashlib.md5(name.encode("utf-8")).hexdigest()[:8].upper()


def _write_leaders(conn, df, _geoms):
    t = Unit.__table__
    units = pd.DataFrame(conn.execute(select(t.c.code, t.c.name, t.c.id)).all(), columns=["code", "name", "id"])
    # units named in the file that do not exist yet: created (with the given code, or one derived from the name)
    want = df[["unit_code", "unit_name"]].dropna(subset=["unit_name"]).drop_duplicates()
    want = want[~(want["unit_code"].isin(units["code"]) | (want["unit_code"].isna() & want["unit_name"].isin(units["name"])))]
    if len(want):
        new = pd.DataFrame({"code": want["unit_code"].fillna(want["unit_name"].map(_unit_code_for)), "name": want["unit_name"]})
        from gis.db.store import bulk_insert

        bulk_insert(conn, t, new.drop_duplicates("code"))
        units = pd.DataFrame(conn.execute(select(t.c.code, t.c.name, t.c.id)).all(), columns=["code", "name", "id"])
    by_code = dict(zip(units["code"], units["id"]))
    by_name = dict(zip(units.drop_duplicates("name")["name"], units.drop_duplicates("name")["id"]))
    out = df[["code", "name", "title", "level", "phone"]].copy()
    out["unit_id"] = df["unit_code"].map(by_code).fillna(df["unit_name"].map(by_name)).astype("Int64")
    return _upsert(conn, Person, out, None, _codes(conn, Person))


def _write_assignments(conn, df, _geoms):
    t = Assignment.__table__
    key = ["target_kind", "target_code", "role", "person_id", "unit_id"]
    have = pd.DataFrame(conn.execute(select(t.c.id, *[t.c[k] for k in key])).all(), columns=["id"] + key)
    rows = df[key + ["valid_from", "valid_to"]].reset_index(drop=True)

    def keyed(frame):
        k = frame[key].copy()
        for c in ("person_id", "unit_id"):
            k[c] = pd.to_numeric(k[c], errors="coerce").fillna(-1).astype("int64")
        return k.astype(str).agg("|".join, axis=1)

    existing = dict(zip(keyed(have), have["id"])) if len(have) else {}
    rows["code"] = keyed(rows)
    rows = rows.drop_duplicates("code", keep="last")
    return _upsert(conn, Assignment, rows[["code", "valid_from", "valid_to"] + key], None, existing, store_code=False)


def _upsert_problems(conn, df, _geoms):
    cols = ["code", "category", "standard_code", "description", "source", "reporter", "reported_at", "deadline",
            "status", "unit_id", "acknowledged_at", "rectified_at", "verified_at", "rework_count", "deduction", "lon", "lat"]
    rows = df[cols].reset_index(drop=True)
    rows["district_code"] = codes_at(conn, rows["lon"], rows["lat"])  # the district it lies in (issue 17)
    existing = (_codes(conn, Problem, Problem.__table__.c.code.in_(rows["code"].tolist())) if len(rows) <= 20_000
                else _codes(conn, Problem))
    old = rows["code"].isin(existing).to_numpy()
    inserted = insert_problems(conn, rows[~old]) if (~old).any() else 0
    if old.any():
        upd = rows[old].reset_index(drop=True)
        upd = pd.concat([upd, locate(conn, upd["lon"], upd["lat"], upd["reported_at"])], axis=1)
        upd["_id"] = upd["code"].map(existing)
        geoms = shapely.points(upd["lon"].to_numpy(float), upd["lat"].to_numpy(float))
        t = Problem.__table__
        fields = [c for c in upd.columns if c not in ("_id", "code")]
        values = {c: bindparam(c, type_=t.c[c].type) for c in fields}
        upd["_wkb"] = shapely.to_wkb(geoms, output_dimension=2)
        values["geom"] = func.ST_GeomFromWKB(bindparam("_wkb", type_=LargeBinary), SRID)
        values["revision"] = t.c.revision + 1
        conn.execute(t.update().where(t.c.id == bindparam("_id")).values(values), _records(upd))
    return inserted, int(old.sum())


def _write_categories(conn, df, _geoms):
    return category_registry.write_categories(conn, df[category_registry.COLUMNS])


def _write_units(conn, df, _geoms):
    return _upsert(conn, Unit, df[["code", "name", "kind", "contact", "phone"]], None, _codes(conn, Unit))


WRITERS = {
    "grids": _write_grids, "categories": _write_categories, "units": _write_units, "streets": _write_streets,
    "compounds": _write_areas(Compound, ["code", "name", "households", "property_company"]),
    "villages": _write_areas(UrbanVillage, ["code", "name", "households"]),
    "points": _write_points, "leaders": _write_leaders, "assignments": _write_assignments, "problems": _upsert_problems,
    "assessment": assessment_file.write,
}


def counts(engine: Engine) -> dict[str, int]:
    """Row counts of the tables imports write (grids: current layer)."""
    out = {}
    with engine.connect() as conn:
        layer_id = current_layer_id(conn)
        for kind, model in MODELS.items():
            t = model.__table__
            stmt = select(func.count()).select_from(t)
            if model is Grid:
                stmt = stmt.where(t.c.layer_id == layer_id)
            out[kind] = conn.execute(stmt).scalar_one()
    return out


__all__ = ["ImportResult", "InputError", "counts", "import_file", "import_prepared", "load"]
