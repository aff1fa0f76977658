"""The data model: one set of SQLAlchemy/GeoAlchemy2 tables for SpatiaLite and PostGIS.

Every geometry is stored in WGS84 (EPSG:4326). Areas, streets, compounds, villages and points
carry a stable business ``code`` (``DC-07``, ``JX-012`` …) that importers key on and that
assignments (帮包) refer to, so responsibility survives a redraw of the grid layer.

Grids are versioned: each row of ``grids`` belongs to one ``GridLayer`` (a version of the
whole grid map). Problems and inspections store the id of the grid row in force when they
were written, so history stays attributed to the grid of its time.
"""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SRID = 4326

# Problem statuses of the closed loop (数字城管): 待派遣 → 整改中 → 待核查 → 已结案.
STATUS_NEW = "待派遣"
STATUS_FIXING = "整改中"
STATUS_CHECKING = "待核查"
STATUS_CLOSED = "已结案"
STATUSES = (STATUS_NEW, STATUS_FIXING, STATUS_CHECKING, STATUS_CLOSED)
OPEN_STATUSES = (STATUS_NEW, STATUS_FIXING, STATUS_CHECKING)
# --- numbers (issue 12): 立案 before the loop. A citizen / hotline report waits for the command
# centre's 立案 (待立案) or is turned down (不予立案); neither counts in any figure.
STATUS_PENDING = "待立案"
STATUS_REJECTED = "不予立案"
ALL_STATUSES = (STATUS_PENDING, *STATUSES, STATUS_REJECTED)
# Time units of a category's 整改时限 (gis.problems.worktime).
TIME_UNITS = ("工作时", "工作日", "自然时")
# A problem closed after its deadline (超期结案), as the closed-late indexes' predicate (migration 0022).
CLOSED_LATE = "verified_at > deadline"

SOURCES = ("暗访", "督查", "市民热线", "网格员巡查")
ROAD_CLASSES = ("主干道", "次干道", "背街小巷")
POINT_KINDS = (
    "主次干道", "背街小巷", "商业大街", "农贸市场", "学校", "医院", "公共厕所",
    "广场公园", "车站", "九小门店", "小区", "城中村", "机关单位", "建筑工地",
)
# --- accountability (issue 14): 点长, the person answering for one inspection point (点长责任制).
ROLES = ("帮包市级领导", "帮包县级领导", "网格长", "网格员", "责任单位", "点长")
TARGET_KINDS = ("grid", "street", "compound", "village", "point")


def _geom(kind: str, index: bool = True) -> Geometry:
    return Geometry(kind, srid=SRID, spatial_index=index)


class Base(DeclarativeBase):
    pass


class District(Base):
    """区县: one county-level district of the deployment (issue 17): its national administrative code
    (行政区划代码, e.g. 371502), name, boundary, the prefix of its grid codes and the settings where it
    differs from the deployment's (JSON: {"GRIDMAP_SCORE_GREEN": "85", …}; see gis.geo.districts).

    Every area, problem (and its events and exposure), inspection, card (and its actions), 约谈 / 问责,
    negative-list event and audit entry carries its ``district_code``; a user's ``district_code`` is the
    district they see and change (none: city-level, 市文明办)."""

    __tablename__ = "districts"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    grid_prefix: Mapped[str] = mapped_column(String(8))
    settings: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(_geom("MULTIPOLYGON"), nullable=False)


def _district(index: bool = True) -> Mapped[str | None]:
    """The ``district_code`` column of a table that belongs to one district (set by every writer)."""
    return mapped_column(String(12), index=index)


class GridLayer(Base):
    """A version of the whole grid map (网格图层版本): 草案 (draft), 已发布 (published) or 已归档."""

    __tablename__ = "grid_layers"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    status: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("grid_layers.id"))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    valid_from: Mapped[datetime | None] = mapped_column(DateTime)
    valid_to: Mapped[datetime | None] = mapped_column(DateTime)
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default=sql_text("1"))


class Grid(Base):
    """网格: one management grid of one layer version."""

    __tablename__ = "grids"
    __table_args__ = (UniqueConstraint("layer_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("grid_layers.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(100))
    subdistrict: Mapped[str] = mapped_column(String(50))
    area_m2: Mapped[float] = mapped_column(Float)
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default=sql_text("1"))
    geom = mapped_column(_geom("MULTIPOLYGON"), nullable=False)
    district_code: Mapped[str | None] = _district()


class Street(Base):
    """街巷: a street or lane, classed 主干道 / 次干道 / 背街小巷."""

    __tablename__ = "streets"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    road_class: Mapped[str] = mapped_column(String(8))
    length_m: Mapped[float] = mapped_column(Float)
    geom = mapped_column(_geom("LINESTRING"), nullable=False)
    district_code: Mapped[str | None] = _district()


class Compound(Base):
    """小区: a residential compound, with its property company (or 无物业)."""

    __tablename__ = "compounds"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    households: Mapped[int | None] = mapped_column(Integer)
    property_company: Mapped[str | None] = mapped_column(String(100))
    area_m2: Mapped[float] = mapped_column(Float)
    geom = mapped_column(_geom("POLYGON"), nullable=False)
    district_code: Mapped[str | None] = _district()


class UrbanVillage(Base):
    """城中村: an urban village."""

    __tablename__ = "villages"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    households: Mapped[int | None] = mapped_column(Integer)
    area_m2: Mapped[float] = mapped_column(Float)
    geom = mapped_column(_geom("POLYGON"), nullable=False)
    district_code: Mapped[str | None] = _district()


class InspectionPoint(Base):
    """点位: an inspection point of the 实地考察 (main road, market, school, compound …)."""

    __tablename__ = "points"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    ref_code: Mapped[str | None] = mapped_column(String(32))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    geom = mapped_column(_geom("POINT"), nullable=False)
    district_code: Mapped[str | None] = _district()


class Unit(Base):
    """责任单位: a responsible unit (department, sub-district office, community, property company)."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str | None] = mapped_column(String(20))
    contact: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(32))


class Person(Base):
    """责任人: a 帮包 leader (市级 / 县级), a 网格长 or a 网格员."""

    __tablename__ = "persons"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    title: Mapped[str | None] = mapped_column(String(100))
    level: Mapped[str | None] = mapped_column(String(8))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    phone: Mapped[str | None] = mapped_column(String(32))


class Assignment(Base):
    """帮包: who answers for which area, in which role, from when to when (谁主管谁负责)."""

    __tablename__ = "assignments"
    __table_args__ = (Index("ix_assignments_target", "target_kind", "target_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(10))
    target_code: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(10))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class Standard(Base):
    """测评标准: item (测评项目) → content (测评内容) → standard text, with points;负面清单 flagged."""

    __tablename__ = "standards"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    item: Mapped[str] = mapped_column(String(50))
    content: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    points: Mapped[float] = mapped_column(Float)
    negative: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sql_text("false"))
    category: Mapped[str | None] = mapped_column(String(20))
    # --- registry (0014): 测评方式 (实地考察 / 问卷调查 / 材料审核); the point kinds it applies to (comma-separated
    # kind codes, empty = by item, see gis.assessment); for 负面清单 rows, 否决 (veto) or 扣分 (deduct `points`).
    method: Mapped[str | None] = mapped_column(String(8))
    point_kinds: Mapped[str | None] = mapped_column(String(200))
    negative_effect: Mapped[str | None] = mapped_column(String(4))


class StandardVersion(Base):
    """A 测评标准's rule from a date (规则按日期生效): points (for the 负面清单 the deduction), negative-list flag and
    effect, and whether it is in force (`active`; a re-import that drops a standard retires it). In force on
    days valid_from <= d < valid_to (NULL = open). A standard without versions keeps its `standards` row's
    values for all time. See gis.db.rule_versions."""

    __tablename__ = "standard_versions"
    __table_args__ = (UniqueConstraint("code", "valid_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(ForeignKey("standards.code"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    points: Mapped[float] = mapped_column(Float)
    negative: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sql_text("false"))
    negative_effect: Mapped[str | None] = mapped_column(String(4))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sql_text("true"))


class Category(Base):
    """问题类型 with its rectification deadline (整改时限) and deduction — the configurable table."""

    __tablename__ = "categories"
    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    deadline_hours: Mapped[float] = mapped_column(Float)
    deduction: Mapped[float] = mapped_column(Float)
    standard_code: Mapped[str | None] = mapped_column(String(16))
    # --- numbers (issue 12): the limit in its own unit (工作时 / 工作日 / 自然时); when unset,
    # deadline_hours 自然时. urgent_hours: a first limit for urgent measures (井盖缺失: warning in 1 h).
    time_limit: Mapped[float | None] = mapped_column(Float)
    time_unit: Mapped[str | None] = mapped_column(String(4))
    urgent_hours: Mapped[float | None] = mapped_column(Float)
    # --- registry (0014): 数字城管 code, kind (部件 / 事件) and major class (大类, e.g. 市容环境).
    code: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str | None] = mapped_column(String(4))
    major: Mapped[str | None] = mapped_column(String(20))


class CategoryVersion(Base):
    """A 问题类型's time limit and deduction from a date (规则按日期生效): the rule of a problem is the version in
    force on the day it was reported. A category without versions keeps its `categories` row for all time."""

    __tablename__ = "category_versions"
    __table_args__ = (UniqueConstraint("name", "valid_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(ForeignKey("categories.name"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    deadline_hours: Mapped[float] = mapped_column(Float)
    deduction: Mapped[float] = mapped_column(Float)
    time_limit: Mapped[float | None] = mapped_column(Float)
    time_unit: Mapped[str | None] = mapped_column(String(4))
    urgent_hours: Mapped[float | None] = mapped_column(Float)


class CategoryAlias(Base):
    """Another name of a 问题类型 (违章建筑 = 私搭乱建 → 违法建设): imports map an alias to its category."""

    __tablename__ = "category_aliases"
    alias: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(ForeignKey("categories.name"))


class Problem(Base):
    """问题: a problem found on the ground, with its place, deadline and closed-loop state.

    ``grid_id``, ``compound_id``, ``street_id`` (nearest within 30 m) and ``village_id`` are
    computed in batch when the problem is written (see ``gis.geo.assign``); ``lon``/``lat`` repeat
    the point for fast aggregation without parsing geometry.
    """

    __tablename__ = "problems"
    __table_args__ = (
        # Covering index of the wall's monthly figures (gis.metrics): read grid by grid and month
        # by month without touching the table; its (grid_id, reported_at) prefix serves the grid ledger.
        Index("ix_problems_grid_month", "grid_id", "reported_at", "deadline", "status", "verified_at",
              "rectified_at", "rework_count", "deduction", "category", "source"),
        Index("ix_problems_status_deadline", "status", "deadline"),
        # Problems open at a past moment t: 已结案 but verified after t (gis.metrics.sql.open_at).
        Index("ix_problems_status_verified", "status", "verified_at"),
        Index("ix_problems_reported", "reported_at"),
        # --- numbers (issue 12): 应结案 cohorts are read by deadline (gis.problems.states).
        Index("ix_problems_deadline", "deadline"),
        Index("ix_problems_registered", "registered_at"),
        Index("ix_problems_deferred", "deferred_at"),
        # --- issue 17: each range the figures read (gis.metrics.rows.problem_rows, sql.open_at), led by the
        # district, so a district's page reads its own rows only (docs/scale.md; Citus' distribution column).
        Index("ix_problems_district_month", "district_code", "reported_at"),
        Index("ix_problems_district_deadline", "district_code", "deadline"),
        Index("ix_problems_district_status", "district_code", "status", "verified_at"),
        Index("ix_problems_district_registered", "district_code", "registered_at"),
        Index("ix_problems_district_deferred", "district_code", "deferred_at"),
        Index("ix_problems_district_followed", "district_code", "followed_up_at"),
        # the day's rows of the month in progress are read by each date's range (gis.metrics.day_sums)
        Index("ix_problems_rectified", "rectified_at"),
        Index("ix_problems_district_rectified", "district_code", "rectified_at"),
        # 超期 at a past moment, of the problems closed since: the closed-late ones only (sql.overdue_at, 0022)
        Index("ix_problems_closed_late", "verified_at", "deadline", postgresql_where=sql_text(CLOSED_LATE),
              sqlite_where=sql_text(CLOSED_LATE)),
        Index("ix_problems_district_closed_late", "district_code", "verified_at", "deadline",
              postgresql_where=sql_text(CLOSED_LATE), sqlite_where=sql_text(CLOSED_LATE)),
        # a grid's count of problems (the ledger's 共 N 件) from a narrow index, not the covering one (0022)
        Index("ix_problems_grid", "grid_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    category: Mapped[str] = mapped_column(String(20))
    standard_code: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(8))
    reporter: Mapped[str | None] = mapped_column(String(50))
    reported_at: Mapped[datetime] = mapped_column(DateTime)
    deadline: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(8))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    rectified_at: Mapped[datetime | None] = mapped_column(DateTime)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    rework_count: Mapped[int] = mapped_column(Integer, default=0, server_default=sql_text("0"))
    deduction: Mapped[float] = mapped_column(Float, default=0.0, server_default=sql_text("0"))
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default=sql_text("1"))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    # Derived attributions, kept by gis.geo.assign on every write (no foreign keys: PostgreSQL's
    # per-row key-share locks on the same few area rows made bulk loads three times slower).
    grid_id: Mapped[int | None] = mapped_column(Integer)
    compound_id: Mapped[int | None] = mapped_column(Integer, index=True)
    street_id: Mapped[int | None] = mapped_column(Integer, index=True)
    village_id: Mapped[int | None] = mapped_column(Integer, index=True)
    geom = mapped_column(_geom("POINT", index=False), nullable=False)
    # --- numbers (issue 12): 立案, 派遣 (反馈不过夜 runs from it), 延期 (the first deadline kept,
    # ``deadline`` is the one in force), 缓办 (approved: out of 应结案), a pending 延期/缓办 request.
    registered_at: Mapped[datetime | None] = mapped_column(DateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime)
    original_deadline: Mapped[datetime | None] = mapped_column(DateTime)
    deferred_at: Mapped[datetime | None] = mapped_column(DateTime)
    request_kind: Mapped[str | None] = mapped_column(String(4))
    request_deadline: Mapped[datetime | None] = mapped_column(DateTime)
    # --- street (issue 15): what an Open311 client sent (address, media_url), and the 12345
    # follow-up call (回访): 满意 / 基本满意 / 不满意 and when (满意率, gis.metrics.figures).
    address: Mapped[str | None] = mapped_column(String(200))
    media_url: Mapped[str | None] = mapped_column(String(500))
    satisfaction: Mapped[str | None] = mapped_column(String(4))
    followed_up_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    district_code: Mapped[str | None] = _district(index=False)  # ix_problems_district_month


#: Tables of data derived from problems and inspections, kept by the triggers of migrations 0018, 0021 and 0024,
#: `gis.metrics.month_sums` (月度汇总), `gis.metrics.day_sums` (本月截至今日) and `gis.metrics.inspection_sums`:
#: outside the models, so `gis move` and the schema checks leave them to the database.
DERIVED_TABLES = ("problem_month_sums", "problem_months", "problem_month_changes",
                  "problem_day_sums", "problem_days", "problem_day_changes",
                  "problem_month_grid_sums", "problem_day_grid_sums",  # the sums rolled up by grid (0023)
                  "inspection_month_sums", "inspection_months", "inspection_month_changes")  # 0024


class ProblemEvent(Base):
    """One step of a problem's history: who did what, when, with which note or photo.

    ``district_code`` is the problem's, copied by each writer (issue 17: co-located with its problem)."""

    __tablename__ = "problem_events"
    __table_args__ = (Index("ix_problem_events_district_at", "district_code", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(8))
    to_status: Mapped[str] = mapped_column(String(8))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    note: Mapped[str | None] = mapped_column(Text)
    photo_path: Mapped[str | None] = mapped_column(String(300))
    district_code: Mapped[str | None] = _district(index=False)  # ix_problem_events_district_at


class Inspection(Base):
    """测评记录: one check of one point against one standard on one day."""

    __tablename__ = "inspections"
    __table_args__ = (Index("ix_inspections_grid_date", "grid_id", "inspected_on"),
                      Index("ix_inspections_district_date", "district_code", "inspected_on"))
    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("points.id"), index=True)
    standard_code: Mapped[str] = mapped_column(String(16))
    inspected_on: Mapped[date] = mapped_column(Date)
    passed: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float] = mapped_column(Float)
    inspector: Mapped[str | None] = mapped_column(String(50))
    grid_id: Mapped[int | None] = mapped_column(Integer)  # derived from the point, like Problem.grid_id
    # --- street (issue 15): the photo of a 不达标 recorded on the phone (under GRIDMAP_UPLOAD_DIR)
    photo_path: Mapped[str | None] = mapped_column(String(300))
    district_code: Mapped[str | None] = _district(index=False)  # ix_inspections_district_date


class User(Base):
    """A user of the dashboard, with one role (领导, 网格长, 网格员, 核查员, 规划员, 管理员)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(8))
    grid_code: Mapped[str | None] = mapped_column(String(32))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sql_text("false"))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=sql_text("0"))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    district_code: Mapped[str | None] = _district()


class AuditEntry(Base):
    """审计日志: who changed what and when.

    ``district_code`` (issue 17) is the district the action belongs to: the target's when the target is one
    district's data (a problem, card, point, grid, user …), else the acting user's; none: city-level (市文明办,
    the system, a sign-in under an unknown name). Written by `gis.people.audit.record` only; a district's
    administrator reads their district's entries."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_district_at", "district_code", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    target_kind: Mapped[str | None] = mapped_column(String(16))
    target_code: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    district_code: Mapped[str | None] = _district(index=False)  # ix_audit_log_district_at


class KioskToken(Base):
    """A read-only wall-screen (大屏) token, stored as its SHA-256: it opens the wall page and nothing else."""

    __tablename__ = "kiosk_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    district_code: Mapped[str | None] = _district()  # the district whose wall it opens; None: the city's (every district)


class SignInGuard(Base):
    """Wrong-password counts behind the sign-in throttle (gis.people.auth), one row per key:

    kind ``pair`` (account + client): wrong passwords in a row, the lock, the last success (a known client);
    kind ``client``: wrong passwords from one client over every account within a window;
    kind ``account``: wrong passwords in a row on one account from every client.
    """

    __tablename__ = "sign_in_guard"
    __table_args__ = (UniqueConstraint("kind", "account", "client"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    account: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default=sql_text("0"))
    window_start: Mapped[datetime | None] = mapped_column(DateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime)


# --- accountability (issue 14): the 三色牌 register, its escalation ladder, the 曝光台 and 约谈 / 问责.
CARD_ACTIVE, CARD_ESCALATED, CARD_LIFTED = "生效", "已升级", "已摘牌"  # a card's status (gis.accountability.cards)
class Card(Base):
    """三色牌: a warning card (黄 / 红) or a commendation (绿) to a unit, a point or a grid, with its
    reason, evidence, response deadline and the step of the escalation ladder it has reached."""

    __tablename__ = "cards"
    __table_args__ = (Index("ix_cards_target", "target_kind", "target_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    target_kind: Mapped[str] = mapped_column(String(8))
    target_code: Mapped[str] = mapped_column(String(32))
    color: Mapped[str] = mapped_column(String(2))
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)  # JSON: problems, inspections, photos
    issued_by: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    deadline: Mapped[datetime] = mapped_column(DateTime)
    rule: Mapped[str | None] = mapped_column(String(16))
    rule_key: Mapped[str | None] = mapped_column(String(80), unique=True)  # one card per rule, target and month
    step: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    lifted_by: Mapped[str | None] = mapped_column(String(64))
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime)
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default=sql_text("1"))
    district_code: Mapped[str | None] = _district()


class CardAction(Base):
    """One step of a card's history: 签发, 限期整改, 书面说明 (with the uploaded file), 曝光台, 约谈, 问责,
    升级, 摘牌 — who, when, note. ``district_code`` is the card's (issue 17)."""

    __tablename__ = "card_actions"
    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    action: Mapped[str] = mapped_column(String(8))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(Text)
    file_path: Mapped[str | None] = mapped_column(String(300))
    district_code: Mapped[str | None] = _district()


class Exposure(Base):
    """曝光台: a problem put on public display — who decided it, when, why (and under which card).
    ``district_code`` is the problem's (issue 17); a district's 曝光台 reads its own by it."""

    __tablename__ = "exposures"
    __table_args__ = (Index("ix_exposures_district_at", "district_code", "decided_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"), unique=True)
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    district_code: Mapped[str | None] = _district(index=False)  # ix_exposures_district_at


class Interview(Base):
    """约谈 / 问责: a unit's interview or accountability decision — people, date, reason (cards and
    problems linked), outcome, follow-up deadline.

    ``district_code`` (issue 17) is the district it was recorded in. A unit has no district of its own
    (it may answer for places in several), so: the recording 领导's district; for a city-level one, the
    district of the first linked card, else of the first linked problem, else the unit's
    (`gis.geo.districts.district_of_target`: of the first grid it answers for). Never none."""

    __tablename__ = "interviews"
    __table_args__ = (Index("ix_interviews_district_held", "district_code", "held_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(4))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    people: Mapped[str] = mapped_column(Text)
    held_on: Mapped[date] = mapped_column(Date, index=True)
    reason: Mapped[str] = mapped_column(Text)
    card_codes: Mapped[str | None] = mapped_column(Text)
    problem_codes: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    follow_up: Mapped[date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    district_code: Mapped[str | None] = _district(index=False)  # ix_interviews_district_held


# --- street (issue 15): API keys of the Open311 intake (gis/api), one per client system
# (12345 热线, a WeChat mini-program), stored as SHA-256 like the kiosk tokens.
class ApiKey(Base):
    """An Open311 API key (接口密钥) of one client system; only its SHA-256 is kept."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    district_code: Mapped[str | None] = _district()  # the district it reports in; None: every district (city-level)


# --- negative list (issue 12 §5): 负面清单事件, read by the 综合得分 and the unit tables (gis.accountability.negative).
class NegativeEvent(Base):
    """负面清单事件: a negative-list standard (重大安全生产事故, 重大负面舆情 …) occurring in a grid and its
    responsible units on a date; 待确认 until the command centre confirms (已确认) or withdraws (已撤销) it."""

    __tablename__ = "negative_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    standard_code: Mapped[str] = mapped_column(String(16))
    grid_code: Mapped[str] = mapped_column(String(32), index=True)
    unit_codes: Mapped[str | None] = mapped_column(Text)  # comma-separated unit codes
    occurred_on: Mapped[date] = mapped_column(Date, index=True)
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(4))
    reported_by: Mapped[str] = mapped_column(String(64))
    reported_at: Mapped[datetime] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default=sql_text("1"))
    district_code: Mapped[str | None] = _district()
