"""Settings: environment variables first, then `.streamlit/secrets.toml`, then working defaults.

One place for every knob, so pages, the CLI and the tests agree on where the database is and
how the map looks. Nothing here imports Streamlit: secrets.toml is read as plain TOML.

`SETTINGS` declares each setting once (name, type, default, validator); `setting()` is the one
way to read one, and `validate_settings()` — called by app.py before any page runs — checks them
all and returns Chinese messages naming the variable, so a bad value never surfaces as a stack
trace deep inside a page.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "data"
SHAPEFILE_DIR = DATA_DIR / "shapefiles"
DEFAULT_DATABASE_URL = f"sqlite:///{DATA_DIR / 'gridmap.sqlite'}"


@lru_cache(maxsize=1)
def _secrets() -> dict:
    path = Path(os.environ.get("GRIDMAP_SECRETS", ROOT / ".streamlit" / "secrets.toml"))
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def setting(name: str, default: str | None = None) -> str | None:
    """The value of setting `name` (e.g. ``DATABASE_URL``): environment, then secrets.toml, then
    `default`, then the default declared in `SETTINGS`."""
    if name in os.environ:
        return os.environ[name]
    value = _secrets().get(name)
    if value is not None:
        return str(value)
    return default if default is not None or name not in SETTINGS else SETTINGS[name].default


# --- the declared settings -----------------------------------------------------------------

Check = Callable[[str], "str | None"]  # a raw value → None when valid, else what is wrong (Chinese)


@dataclass(frozen=True)
class Setting:
    name: str
    type: str  # 数字 / 整数 / 文本 / 路径 / 选项 / 时间 / 数据库地址
    default: str | None
    check: Check | None = None


def _number(low: float | None = None, high: float | None = None, integer: bool = False) -> Check:
    kind = "整数" if integer else "数字"

    def check(raw: str) -> str | None:
        try:
            value = int(raw) if integer else float(raw)
        except ValueError:
            return f"应为{kind}"
        if value != value or (low is not None and value < low) or (high is not None and value > high):
            bounds = f"{low:g} 到 {high:g}" if low is not None and high is not None else f"不小于 {low:g}"
            return f"应为 {bounds} 之间的{kind}" if high is not None else f"应为{bounds}的{kind}"
        return None
    return check


def _choice(*options: str) -> Check:
    return lambda raw: None if raw.strip().lower() in options else "应为 " + " / ".join(options) + " 之一"


def _iso_time(raw: str) -> str | None:
    try:
        datetime.fromisoformat(raw)
    except ValueError:
        return "应为 ISO 格式的时间，例如 2026-05-20T09:30"
    return None


def _tokens(raw: str) -> str | None:
    short = [t for t in (s.strip() for s in raw.split(",")) if t and len(t) < 16]
    return f"有 {len(short)} 个令牌短于 16 个字符" if short else None


def _parsed(raw: str, module: str, function: str) -> str | None:
    """Check `raw` with the parser that will read it (imported when checked: no import cycle)."""
    import importlib

    try:
        getattr(importlib.import_module(module), function)(raw)
    except ValueError as exc:
        return str(exc)
    return None


def _district_code(raw: str) -> str | None:
    return None if raw.isdigit() and len(raw) == 6 else "应为 6 位国家行政区划代码，例如 371502"


def _grid_prefix(raw: str) -> str | None:
    return None if raw.isascii() and raw.isalnum() and 1 <= len(raw) <= 8 else "应为 1–8 位字母或数字，例如 DC"


DATABASE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


def _database_url(raw: str) -> str | None:
    scheme = raw.split("://", 1)[0] if "://" in raw else ""
    if scheme not in DATABASE_SCHEMES:
        shown = f"“{scheme}”" if scheme else "（缺少 类型:// 前缀）"
        return f"数据库类型{shown}不受支持，应为 " + " / ".join(DATABASE_SCHEMES)
    return None


def _read_database_url(raw: str) -> str | None:
    """A read replica is a PostgreSQL server (a streaming standby of DATABASE_URL's)."""
    if raw.strip() == "":
        return None  # set but empty: no replica
    scheme = raw.split("://", 1)[0] if "://" in raw else ""
    if scheme not in ("postgresql", "postgresql+psycopg"):
        shown = f"“{scheme}”" if scheme else "（缺少 类型:// 前缀）"
        return f"只读副本的数据库类型{shown}不受支持，应为 postgresql+psycopg（PostgreSQL 流复制备库）"
    return None


SETTINGS: dict[str, Setting] = {s.name: s for s in (
    Setting("DATABASE_URL", "数据库地址", DEFAULT_DATABASE_URL, _database_url),
    Setting("DATABASE_READ_URL", "数据库地址", None, _read_database_url),  # read replica (issue 17)
    Setting("GRIDMAP_DB_POOL", "整数", "30", _number(1, 200, integer=True)),  # PostgreSQL connections per process
    Setting("GRIDMAP_SECRETS", "路径", None),  # read from the environment only (it locates secrets.toml)
    Setting("GRIDMAP_BASEMAP", "选项", "none", _choice("none", "xyz", "public")),
    Setting("GRIDMAP_TILES_URL", "文本", None),
    Setting("GRIDMAP_TILES_ATTRIBUTION", "文本", None),
    Setting("GRIDMAP_TILES_CRS", "选项", None, _choice("", "wgs84", "gcj02")),
    Setting("GRIDMAP_TILES_MAX_ZOOM", "整数", None, _number(1, 24, integer=True)),
    Setting("GRIDMAP_SESSION_IDLE_MINUTES", "数字", "30", _number(0.01)),
    Setting("GRIDMAP_LOCKOUT_ATTEMPTS", "整数", "10", _number(1, integer=True)),
    Setting("GRIDMAP_LOCKOUT_MINUTES", "数字", "15", _number(0.01)),
    Setting("GRIDMAP_KIOSK_TOKENS", "文本", "", _tokens),
    Setting("GRIDMAP_DEMO_USERS_FILE", "路径", str(DATA_DIR / "demo_users.txt")),
    Setting("GRIDMAP_UPLOAD_DIR", "路径", str(DATA_DIR / "uploads")),
    Setting("GRIDMAP_DISTRICT_FILE", "路径", str(DATA_DIR / "district.geojson")),  # written by `gis init` (issue 13)
    Setting("GRIDMAP_DISTRICT_CODE", "文本", "371502", _district_code),  # the own district's 行政区划代码 (issue 17)
    Setting("GRIDMAP_GRID_PREFIX", "文本", "DC", _grid_prefix),  # its grid codes' prefix (DC-07)
    Setting("GRIDMAP_CITY_NAME", "文本", "聊城市"),  # the city wall's title (several districts)
    Setting("GRIDMAP_NOW", "时间", None, _iso_time),
    Setting("GRIDMAP_SCORE_GREEN", "数字", "80", _number(0, 100)),
    Setting("GRIDMAP_SCORE_YELLOW", "数字", "60", _number(0, 100)),
    Setting("GRIDMAP_MIN_INSPECTIONS", "整数", "30", _number(0, integer=True)),
    Setting("GRIDMAP_WALL_REFRESH", "整数", "60", _number(5, integer=True)),
    Setting("GRIDMAP_OIDC_PROVIDER", "文本", None),
    Setting("GRIDMAP_MAX_IMPORT_MB", "数字", "300", _number(0.001)),
    Setting("GRIDMAP_SOURCE_WEIGHTS", "文本", "暗访=1,督查=1,市民热线=1,网格员巡查=0.5",
            lambda raw: _parsed(raw, "gis.metrics.settings", "source_weights")),
    Setting("GRIDMAP_UNIT_MIN_CASES", "整数", "10", _number(1, integer=True)),
    Setting("GRIDMAP_WORK_HOURS", "文本", "08:30-12:00,13:30-17:30",
            lambda raw: _parsed(raw, "gis.problems.worktime", "work_hours")),
    Setting("GRIDMAP_CARD_BLACKLIST_MONTHS", "整数", "2", _number(0, integer=True)),
    Setting("GRIDMAP_CARD_ESCALATE_DAYS", "整数", "30", _number(0, integer=True)),
    Setting("GRIDMAP_CARD_GREEN_MONTHS", "整数", "0", _number(0, integer=True)),
    Setting("GRIDMAP_CARD_RESPONSE_DAYS", "整数", "7", _number(1, integer=True)),
    Setting("GRIDMAP_BULLETIN_ISSUER", "文本", "东昌府区创建全国文明城市工作指挥部办公室"),
    Setting("GRIDMAP_BULLETIN_PREFIX", "文本", "东创城办"),
    Setting("GRIDMAP_API_RATE", "整数", "120", _number(1, integer=True)),
    Setting("GRIDMAP_API_MAX_BODY_MB", "数字", "8", _number(0.01)),
    Setting("GRIDMAP_API_CORS_ORIGINS", "文本", ""),
)}


def _shown(name: str, raw: str) -> str:
    return "" if name.startswith("DATABASE_") else f"=“{raw}”"  # a database URL may hold a password


def validate_settings() -> list[str]:
    """Every declared setting checked, plus the rules between them; one Chinese line per problem
    naming the variable (empty list: all good). Cheap: app.py calls it on every run."""
    problems = []
    for spec in SETTINGS.values():
        raw = setting(spec.name)
        if raw is None or spec.check is None:
            continue
        if (why := spec.check(str(raw))) is not None:
            problems.append(f"{spec.name}{_shown(spec.name, raw)}：{why}")
    if problems:
        return problems
    green, yellow = float(setting("GRIDMAP_SCORE_GREEN")), float(setting("GRIDMAP_SCORE_YELLOW"))
    if yellow > green:
        problems.append(f"GRIDMAP_SCORE_YELLOW=“{setting('GRIDMAP_SCORE_YELLOW')}”：不能大于 "
                        f"GRIDMAP_SCORE_GREEN=“{setting('GRIDMAP_SCORE_GREEN')}”")
    kind = setting("GRIDMAP_BASEMAP").strip().lower()
    if kind == "xyz" and not setting("GRIDMAP_TILES_URL"):
        problems.append("GRIDMAP_TILES_URL：GRIDMAP_BASEMAP=xyz 时必须填写内网瓦片地址，例如 http://tiles.local/{z}/{x}/{y}.png")
    if read_database_url() and not database_url().startswith("postgresql"):
        problems.append("DATABASE_READ_URL：只读副本只能配合 PostgreSQL 主库使用，而 DATABASE_URL 不是 PostgreSQL")
    if kind == "public" and (setting("GRIDMAP_TILES_CRS") or "").strip().lower() == "gcj02":
        problems.append("GRIDMAP_TILES_CRS=“gcj02”：与 GRIDMAP_BASEMAP=public 冲突（OpenStreetMap 为 WGS84）")
    return problems


def database_url() -> str:
    """The database to use: SpatiaLite file under data/ unless DATABASE_URL says otherwise.

    A relative ``sqlite:///data/x.sqlite`` is taken relative to the project root, so the CLI,
    the app and the tests find the same file from any working directory.
    """
    url = setting("DATABASE_URL", DEFAULT_DATABASE_URL)
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        url = prefix + str(ROOT / url[len(prefix):])
    return url


def read_database_url() -> str | None:
    """The read replica of DATABASE_URL (DATABASE_READ_URL), or None when not set: the wall's figures and
    the Open311 API's GET routes read there (gis.db.engine.with_read_engine); writes never do."""
    return (setting("DATABASE_READ_URL") or "").strip() or None


BASEMAP_KEYS = ("GRIDMAP_BASEMAP", "GRIDMAP_TILES_URL", "GRIDMAP_TILES_ATTRIBUTION", "GRIDMAP_TILES_CRS",
                "GRIDMAP_TILES_MAX_ZOOM")


def basemap_settings() -> dict[str, str]:
    """The GRIDMAP_* basemap settings that are set (environment or secrets.toml)."""
    return {k: v for k in BASEMAP_KEYS if (v := setting(k)) is not None}
