"""The one glue module between gis/ and Streamlit: cached wrappers for pages.

Caches hold data (DataFrames, GeoDataFrames), never widgets. Each wrapper keys on the
database URL so that tests and apps pointed at different databases do not share entries.
`clear()` is called after every write made through the UI.

The wall's figures (`wall_*`, `city_district*`, `point_ranking`) are read through `_read`: from the read
replica (DATABASE_READ_URL) when one is configured and answers, else from `url` itself
(gis.db.engine.with_read_engine). The rest reads the primary: pages where people act and then look.
"""

from __future__ import annotations

import streamlit as st

from gis.geo import queries
from gis.config import database_url
from gis.db.engine import get_engine, with_read_engine

TTL_SECONDS = 600


def engine():
    return get_engine(database_url())


def _read(url: str, fn, *args, **kwargs):
    """`fn(engine, *args, **kwargs)` on the read replica of `url`, or on `url` (see the module docstring)."""
    return with_read_engine(lambda e: fn(e, *args, **kwargs), url)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def current_grids(url: str, district=None):
    return queries.current_grids(get_engine(url), district)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def city_counts(url: str, district=None):
    return queries.city_counts(get_engine(url), district)


# --- 区县 (issue 17): the deployment's districts, for scopes, the city wall and its map.

@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def districts(url: str):
    from gis.geo import districts as registry
    return registry.district_table(get_engine(url))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def district_shapes(url: str):
    from gis.geo import districts as registry
    return registry.district_shapes(get_engine(url))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def grid_leaders(url: str):
    return queries.grid_leaders(get_engine(url))


# --- 网格详情 (pages/grid.py); `now` is passed rounded to the minute so overdue stays current.

@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def grid_info(url: str, code: str):
    from gis.problems import ledger
    return ledger.grid_info(get_engine(url), code)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def grid_areas(url: str, code: str):
    from gis.problems import ledger
    return ledger.grid_areas(get_engine(url), code)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def grid_responsibility(url: str, code: str):
    from gis.problems import ledger
    return ledger.responsibility(get_engine(url), code, grid_areas(url, code))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def area_responsibles(url: str, kind: str, code: str):
    from gis.problems import ledger
    return ledger.area_responsibles(get_engine(url), kind, code)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=64)
def grid_ledger(url: str, code: str, now, status=(), category=(), source=(), overdue=None, date_from=None,
                date_to=None, compound=None, street=None, limit=None):
    from gis.problems import ledger
    return ledger.ledger(get_engine(url), code, status=list(status), category=list(category), source=list(source),
                         overdue=overdue, date_from=date_from, date_to=date_to, compound=compound, street=street,
                         now=now, limit=limit)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=64)
def grid_ledger_counts(url: str, code: str, now, status=(), category=(), source=(), overdue=None, date_from=None,
                       date_to=None, compound=None, street=None):
    from gis.problems import ledger
    return ledger.ledger_counts(get_engine(url), code, now, status=list(status), category=list(category),
                                source=list(source), overdue=overdue, date_from=date_from, date_to=date_to,
                                compound=compound, street=street)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def grid_lost_points(url: str, code: str, month):
    from gis.metrics import losses
    return losses.lost_points(get_engine(url), code, month)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def grid_scores(url: str, month, as_of):
    from gis.metrics import scores
    return scores.monthly_scores(get_engine(url), month, as_of=as_of)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def grid_score_trend(url: str, code: str, as_of):
    from gis.metrics import scores
    return scores.score_trend(get_engine(url), code, months=12, as_of=as_of)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def units(url: str):
    from gis.problems import ledger
    return ledger.units(get_engine(url))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def categories(url: str):
    from gis.problems import workflow
    return workflow.category_table(get_engine(url))


# --- 领导大屏 (pages/wall.py): short TTL, the wall refreshes itself every GRIDMAP_WALL_REFRESH seconds.
WALL_TTL_SECONDS = 50


@st.cache_data(ttl=WALL_TTL_SECONDS, show_spinner=False)
def wall_scores(url: str, month, as_of, subdistrict=None, category=None, source=None, district=None):
    from gis.metrics import scores
    return _read(url, scores.monthly_scores, month, as_of, subdistrict, category, source, district=district)


@st.cache_data(ttl=WALL_TTL_SECONDS, show_spinner=False)
def wall_kpis(url: str, month, as_of, subdistrict=None, category=None, source=None, district=None):
    from gis.metrics import kpis
    return _read(url, kpis.kpis, month, as_of, subdistrict, category, source, district)


@st.cache_data(ttl=WALL_TTL_SECONDS, show_spinner=False)
def wall_trend(url: str, month, as_of, subdistrict=None, category=None, source=None, district=None):
    from gis.metrics import kpis, periods
    return _read(url, kpis.trend, 12, periods.month_end_as_of(month, as_of), subdistrict, category, source, district)


@st.cache_data(ttl=WALL_TTL_SECONDS, show_spinner=False)
def wall_units(url: str, month, as_of, subdistrict=None, category=None, source=None, district=None):
    from gis.metrics import units
    return _read(url, units.worst_units, month, as_of, 10, subdistrict, category, source, district=district)


@st.cache_data(ttl=WALL_TTL_SECONDS, show_spinner=False)
def wall_hexes(url: str, as_of, subdistrict=None, category=None, source=None, district=None):
    from gis.metrics import heat
    return _read(url, heat.open_problem_hexes, as_of, 9, subdistrict, category, source, district)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def wall_filter_options(url: str, district=None):
    from gis.metrics import kpis
    return _read(url, kpis.filter_options, district)


@st.cache_data(ttl=WALL_TTL_SECONDS, show_spinner=False)
def city_districts(url: str, month, as_of):
    from gis.metrics import districts as by_district
    return _read(url, by_district.district_figures, month, as_of)


@st.cache_data(ttl=WALL_TTL_SECONDS, show_spinner=False)
def city_district_trend(url: str, month, as_of):
    from gis.metrics import districts as by_district, periods
    return _read(url, by_district.district_trend, 12, periods.month_end_as_of(month, as_of))


# --- 网格规划 (pages/planning.py): the check context of a layer (grids, compounds, villages, streets,
#     points, with their STRtrees built lazily) is shared, read-only, by every planning session.

@st.cache_resource(ttl=TTL_SECONDS, show_spinner=False, max_entries=8)
def planning_context(url: str, layer_id: int):
    from gis.planning import topology
    return topology.load_context(get_engine(url), layer_id)


def planning_impact(url: str, current_id, candidate, context, month):
    """网格规划's 调整影响 of the working copy `candidate` against version `current_id`: computed once per
    working copy (keyed by its codes, names and shapes), not again on every run of the page (a save's, a tab's)."""
    import hashlib

    import shapely

    digest = hashlib.sha256()
    for code, name, wkb in zip(candidate["code"].astype(str), candidate["name"].astype(str),
                               shapely.to_wkb(candidate.geometry.to_numpy())):
        digest.update(f"{code}\x00{name}\x00".encode() + wkb)
    return _planning_impact(url, current_id, digest.hexdigest(), month, candidate, context)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=64)
def _planning_impact(url: str, current_id, key: str, month, _candidate, _context):
    from gis.planning import impact
    return impact.impact(get_engine(url), _candidate, _context, planning_scores(url, month))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def planning_scores(url: str, month):
    from gis.planning import impact
    return impact.month_scores(get_engine(url), month)


def clear() -> None:
    """Forget every cached result (after a write)."""
    st.cache_data.clear()
    from gis.metrics import memo
    memo.clear_memo()  # past months' wall figures (gis.metrics.scores keeps them for an hour)


# --- accountability (issue 14): current cards and the 点位达标 ranking for the wall and the grid page
@st.cache_data(ttl=WALL_TTL_SECONDS, show_spinner=False)
def active_cards(url: str, district=None):
    from gis.accountability import cards
    return cards.active(get_engine(url), district=district)


@st.cache_data(ttl=WALL_TTL_SECONDS, show_spinner=False)
def point_ranking(url: str, month, as_of=None, n: int = 3, district=None):
    from gis.accountability import points
    return _read(url, points.monthly_ranking, month, as_of, n=n, district=district)


# --- 移动巡查 (pages/mobile.py)

@st.cache_data(max_entries=4, show_spinner=False)
def photo_preview(data: bytes, name: str) -> tuple[bytes | None, str | None]:
    """The field photo as it will be stored (upright, scaled, EXIF stripped), or the Chinese reason it cannot be:
    decoded once per photo, not on every rerun of the form."""
    from gis.problems import photos
    try:
        return photos.prepare(data, name).data, None
    except photos.PhotoError as exc:
        return None, str(exc)
