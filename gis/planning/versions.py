"""Versions of the grid layer (网格图层版本): drafts (草案), publishing (发布), history and restore.

Every save makes a new version: a new ``GridLayer`` row plus a copy of every grid row with the
change applied. Publishing ends the version in force (``valid_to`` = now, status 已归档) and
starts the draft (``valid_from`` = now, status 已发布) — in one transaction. Problems and
inspections keep pointing at the grid rows of the layer in force when they were written, so
history stays with the grids of its time; points (点位) move to the new rows, so new
inspections and problems go to the new layer.

Optimistic locking (乐观锁):
- saving a draft bumps ``Grid.revision`` of every grid it changes *in the version it was based
  on*, with ``WHERE revision = <the revision the planner loaded>``: when two planners edit the
  same grid of the same version, the second save matches no row and gets a conflict message;
- publishing bumps ``GridLayer.revision`` of the draft and of the version in force with the
  same kind of check, and requires the draft to descend from the version in force: a draft made
  from an older version cannot overwrite changes published since.
Nothing is overwritten silently; every write checks ``gis.people.permissions`` and is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.exc import IntegrityError

from gis.people import audit
from gis.geo.areas import ARCHIVED, DRAFT, PUBLISHED, current_layer_id
from gis.geo.assign import NONE, Layer, points_in_polygons
from gis.geo.districts import codes_of_shapes
from gis.db.models import Grid, GridLayer, InspectionPoint
from gis.people.permissions import Actor, require
from gis.planning.edits import candidate_from, changed_codes
from gis.planning.topology import CheckContext, CheckReport, check_grids
from gis.db.store import bulk_insert, read_frame
from gis.geo.crs import areas_m2

L, G = GridLayer.__table__, Grid.__table__


class ConflictError(RuntimeError):
    """Another planner changed the same thing first; the message is for users (Chinese)."""


class PublishRefused(ValueError):
    """A draft with topology errors (overlap, gap, invalid geometry …) cannot come into force (Chinese message)."""


MAX_LISTED_ERRORS = 10  # errors named in a refusal; the rest are counted


@dataclass(frozen=True)
class WorkingCopy:
    """A layer loaded for editing: its grids, and the revisions to check when saving."""

    layer_id: int
    number: int
    layer_revision: int
    grids: gpd.GeoDataFrame  # candidate layer (code, name, subdistrict, geometry)
    revisions: dict[str, int]  # grid code → Grid.revision when loaded


def _fmt(t) -> str:
    return pd.Timestamp(t).strftime("%Y-%m-%d %H:%M") if t is not None and not pd.isna(t) else "—"


def history(engine: Engine) -> pd.DataFrame:
    """Every version, newest first: id, number, status, title, note, parent number, author, dates, revision, grids."""
    parent = L.alias("parent")
    n_grids = select(func.count()).where(G.c.layer_id == L.c.id).scalar_subquery()
    stmt = (select(L.c.id, L.c.number, L.c.status, L.c.title, L.c.note, parent.c.number.label("parent"),
                   L.c.created_by, L.c.created_at, L.c.published_at, L.c.valid_from, L.c.valid_to, L.c.revision,
                   n_grids.label("grids"))
            .select_from(L.outerjoin(parent, L.c.parent_id == parent.c.id)).order_by(L.c.number.desc()))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame(rows, columns=["id", "number", "status", "title", "note", "parent", "created_by", "created_at",
                                       "published_at", "valid_from", "valid_to", "revision", "grids"])


HISTORY_HEADERS = {"number": "版本", "status": "状态", "title": "说明", "note": "备注", "parent": "基于",
                   "created_by": "创建人", "created_at": "创建时间", "published_at": "发布时间", "valid_from": "生效",
                   "valid_to": "失效", "grids": "网格数"}


def history_table(history: pd.DataFrame) -> pd.DataFrame:
    """`history` for people: Chinese headers, no ids, "—" where there is nothing (no parent, still valid).

    A column with a gap becomes text throughout (第1版, 2026-11-20 09:00): a table column of numbers or
    times with a "—" in it cannot be sent to the browser as one type."""
    table = history.drop(columns=["id", "revision"])
    for name in table.columns:
        col = table[name]
        if col.isna().any():
            table[name] = col.map(_cell_text)
    return table.rename(columns=HISTORY_HEADERS)


def _cell_text(value) -> str:
    if pd.isna(value):
        return "—"
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


STATUS_LABELS = {PUBLISHED: "现行", ARCHIVED: "已归档", DRAFT: "草案"}  # a version's status as the picker says it


def version_labels(history: pd.DataFrame) -> dict[int, str]:
    """Version number → its label in the picker, newest first: 第2版（现行）, 第1版（已归档）, 第3版（草案）."""
    return {int(n): f"第{int(n)}版（{STATUS_LABELS.get(s, s)}）" for n, s in zip(history["number"], history["status"])}


def labels_key(labels: dict[int, str]) -> str:
    """A short digest of the labels (changes whenever a version's status does)."""
    import hashlib

    return hashlib.sha1("|".join(labels.values()).encode()).hexdigest()[:10]


def layer_grids(engine: Engine, layer_id: int) -> gpd.GeoDataFrame:
    """The grids of one version: id, code, name, subdistrict, area_m2, revision, geometry (WGS84)."""
    with engine.connect() as conn:
        return read_frame(conn, G, G.c.layer_id == layer_id, ["id", "code", "name", "subdistrict", "area_m2", "revision"])


def working_copy(engine: Engine, layer_id: int | None = None) -> WorkingCopy:
    """Load a version (default: the one in force) for editing."""
    with engine.connect() as conn:
        layer_id = current_layer_id(conn) if layer_id is None else layer_id
        if layer_id is None:
            raise ValueError("数据库中没有已发布的网格版本。")
        row = conn.execute(select(L.c.number, L.c.revision).where(L.c.id == layer_id)).one()
        grids = read_frame(conn, G, G.c.layer_id == layer_id, ["code", "name", "subdistrict", "revision"])
    revisions = dict(zip(grids["code"].astype(str), grids["revision"].astype(int)))
    return WorkingCopy(layer_id, int(row.number), int(row.revision), candidate_from(grids), revisions)


def _next_number(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(L.c.number), 0))).scalar_one()) + 1


def _who_changed(conn: Connection, base_id: int, code: str) -> str:
    """'第N版草案（user，time）' — the newest draft from `base_id` that changed grid `code`."""
    row = conn.execute(
        select(L.c.number, L.c.created_by, L.c.created_at)
        .select_from(L.join(G, G.c.layer_id == L.c.id))
        .where(L.c.parent_id == base_id, G.c.code == code)
        .order_by(L.c.created_at.desc(), L.c.id.desc()).limit(1)).first()
    return f"第{row.number}版草案（{row.created_by}，{_fmt(row.created_at)}）" if row else "另一次保存"


def _write_version(conn: Connection, actor: Actor, candidate: gpd.GeoDataFrame, base_id: int,
                   revisions: dict[str, int], title: str, note: str | None, action: str, at: datetime) -> int:
    base = read_frame(conn, G, G.c.layer_id == base_id, ["id", "code", "name", "subdistrict", "revision"])
    diff = changed_codes(candidate, base)
    if not any(diff.values()):
        raise ValueError("与所基于的版本相比没有任何改动，无需保存。")
    base_by_code = base.set_index("code")
    conflicts = []
    for code in diff["changed"] + diff["removed"]:
        expected = revisions.get(code, int(base_by_code.at[code, "revision"]))
        hit = conn.execute(update(G).where(G.c.id == int(base_by_code.at[code, "id"]), G.c.revision == expected)
                           .values(revision=G.c.revision + 1)).rowcount
        if hit != 1:
            conflicts.append(f"网格 {code} 已被{_who_changed(conn, base_id, code)}修改")
    if conflicts:
        raise ConflictError("保存冲突：" + "；".join(conflicts) + "。您的修改没有保存，以免覆盖他人的修改。"
                            "请重新载入最新版本后再编辑。")
    number = _next_number(conn)
    try:
        layer_id = conn.execute(L.insert().values(
            number=number, status=DRAFT, title=title or f"第{number}版草案", note=note, parent_id=base_id,
            created_by=actor.username, created_at=at, revision=1).returning(L.c.id)).scalar_one()
    except IntegrityError as exc:
        raise ConflictError("另一位规划员刚刚保存了新版本，请重试。") from exc
    old_rev = dict(zip(base["code"].astype(str), base["revision"].astype(int)))
    touched = set(diff["changed"])
    cand = candidate_from(candidate)
    rev = [old_rev[c] + 1 if c in touched else old_rev.get(c, 1) for c in cand["code"]]
    rows = pd.DataFrame({"layer_id": layer_id, "code": cand["code"], "name": cand["name"].astype(str),
                         "subdistrict": cand["subdistrict"].astype(str),
                         "area_m2": areas_m2(cand.geometry.to_numpy()), "revision": rev,
                         "district_code": codes_of_shapes(conn, cand.geometry.to_numpy())})
    bulk_insert(conn, G, rows, cand.geometry.to_numpy())
    audit.record(conn, actor, action, "grid_layer", f"第{number}版", {
        "title": title, "base_layer_id": base_id, "added": diff["added"], "removed": diff["removed"],
        "changed": diff["changed"]}, at=at)
    return layer_id


def save_draft(engine: Engine, actor: Actor, candidate: gpd.GeoDataFrame, base_layer_id: int,
               revisions: dict[str, int], title: str = "", note: str | None = None,
               at: datetime | None = None) -> int:
    """Save `candidate` as a new draft version based on `base_layer_id`; returns the new layer id.

    `revisions` are the grids' revisions when the planner loaded the base (``WorkingCopy.revisions``):
    if another save changed one of the same grids since, ConflictError and nothing is written.
    """
    require(actor, "grid.edit")
    with engine.begin() as conn:
        return _write_version(conn, actor, candidate, base_layer_id, revisions, title, note, "grid.draft",
                              at or datetime.now())


def _root(conn: Connection, layer_id: int) -> tuple[int, int]:
    """(id, number) of the first non-draft ancestor of a draft."""
    cur = layer_id
    while True:
        row = conn.execute(select(L.c.id, L.c.number, L.c.status, L.c.parent_id).where(L.c.id == cur)).one()
        if row.status != DRAFT or row.parent_id is None:
            return row.id, row.number
        cur = row.parent_id


def publish(engine: Engine, actor: Actor, draft_id: int, expected_revision: int | None = None,
            at: datetime | None = None) -> int:
    """Publish a draft: it comes into force now, the version in force is archived. Returns its id.

    Refused (PublishRefused, nothing written) when the draft has topology errors — overlaps, gaps,
    invalid or empty geometries, duplicate codes (`gis.planning.topology`) — whatever the caller shows.
    """
    require(actor, "grid.publish")
    at = at or datetime.now()
    with engine.begin() as conn:
        draft = conn.execute(select(L).where(L.c.id == draft_id)).one()
        if draft.status != DRAFT:
            raise ValueError(f"第{draft.number}版不是草案（状态：{draft.status}），不能发布。")
        if expected_revision is not None and draft.revision != expected_revision:
            raise ConflictError(f"第{draft.number}版草案已被他人改动，请刷新后再发布。")
        current = current_layer_id(conn)
        root_id, root_number = _root(conn, draft_id)
        if current is not None and root_id != current:
            cur = conn.execute(select(L.c.number, L.c.created_by, L.c.published_at).where(L.c.id == current)).one()
            raise ConflictError(
                f"发布冲突：第{draft.number}版草案基于第{root_number}版，而现行版本已是第{cur.number}版"
                f"（{_fmt(cur.published_at)} 发布）。为免覆盖他人已发布的修改，请载入现行版本重新编辑。")
        _refuse_errors(conn, draft_id, draft.number, current)
        if current is not None:
            ended = conn.execute(update(L).where(L.c.id == current, L.c.status == PUBLISHED, L.c.valid_to.is_(None))
                                 .values(status=ARCHIVED, valid_to=at, revision=L.c.revision + 1)).rowcount
            if ended != 1:
                raise ConflictError("发布冲突：现行版本刚被他人更换，请刷新后重试。")
        started = conn.execute(update(L).where(L.c.id == draft_id, L.c.status == DRAFT, L.c.revision == draft.revision)
                               .values(status=PUBLISHED, published_at=at, valid_from=at,
                                       revision=L.c.revision + 1)).rowcount
        if started != 1:
            raise ConflictError(f"发布冲突：第{draft.number}版草案刚被他人改动，请刷新后重试。")
        _move_points(conn, draft_id)
        audit.record(conn, actor, "grid.publish", "grid_layer", f"第{draft.number}版",
                     {"title": draft.title, "archived_layer_id": current}, at=at)
    return draft_id


def check_version(conn: Connection, layer_id: int, reference_id: int | None) -> CheckReport:
    """The topology check of a saved version against the version `reference_id` (the one in force).

    Only the grids are needed for the errors (invalid, empty, duplicate, overlap, gap); warnings that
    need compounds, villages or the district are the planning page's business.
    """
    grids = candidate_from(read_frame(conn, G, G.c.layer_id == layer_id, ["code", "name", "subdistrict"]))
    reference = (read_frame(conn, G, G.c.layer_id == reference_id, ["code", "name", "subdistrict"])
                 if reference_id is not None else None)
    return check_grids(grids, CheckContext.from_frames(reference, district=None))


def _refuse_errors(conn: Connection, draft_id: int, number: int, current: int | None) -> None:
    """PublishRefused, listing the errors, when the draft has topology errors."""
    report = check_version(conn, draft_id, current)
    if not report.has_errors:
        return
    errors = report.errors
    listed = "；".join(f"{row.label}：{row.message}" for row in errors.head(MAX_LISTED_ERRORS).itertuples())
    more = f"；另有 {len(errors) - MAX_LISTED_ERRORS} 处" if len(errors) > MAX_LISTED_ERRORS else ""
    raise PublishRefused(f"第{number}版草案有 {len(errors)} 处拓扑错误，不能发布：{listed}{more}。"
                         "请载入该草案修改并保存后再发布。")


def _move_points(conn: Connection, layer_id: int) -> None:
    """Point each inspection point at the grid row of `layer_id` it lies in (boundary rule: lowest id)."""
    p = InspectionPoint.__table__
    grids = read_frame(conn, G, G.c.layer_id == layer_id, ["id"])
    pts = conn.execute(select(p.c.id, func.ST_X(p.c.geom), func.ST_Y(p.c.geom))).all()
    if not pts:
        return
    arr = np.array([(r[1], r[2]) for r in pts], dtype=float)
    ids = points_in_polygons(arr[:, 0], arr[:, 1], Layer.of(grids["id"], grids.geometry.to_numpy()))
    values = [{"pid": r[0], "gid": None if g == NONE else int(g)} for r, g in zip(pts, ids)]
    from sqlalchemy import bindparam
    conn.execute(update(p).where(p.c.id == bindparam("pid")).values(grid_id=bindparam("gid")), values)


def restore(engine: Engine, actor: Actor, layer_id: int, title: str | None = None, at: datetime | None = None) -> int:
    """A new draft, based on the version in force, holding the grids of an earlier version `layer_id`."""
    require(actor, "grid.edit")
    at = at or datetime.now()
    old = layer_grids(engine, layer_id)
    with engine.begin() as conn:
        number = conn.execute(select(L.c.number).where(L.c.id == layer_id)).scalar_one()
        current = current_layer_id(conn)
        base = read_frame(conn, G, G.c.layer_id == current, ["code", "revision"])
        revisions = dict(zip(base["code"].astype(str), base["revision"].astype(int)))
        return _write_version(conn, actor, candidate_from(old), current, revisions,
                              title or f"恢复第{number}版", f"由第{number}版恢复", "grid.restore", at)
