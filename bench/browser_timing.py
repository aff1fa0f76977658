"""Speed as felt (issue 16 §13): five user steps timed in headless Chromium against a served app, warm.

Not a test (times depend on the machine) and not one of `make bench`'s modules (no `bench_` prefix):
a measurement to run by hand against a demo database.

    python -m gis demo --problems 1000000 --until 2026-11-20      # into DATABASE_URL (your own)
    python -m bench.browser_timing --database sqlite:////tmp/x.sqlite --users data/demo_users.txt

Steps (each run `--repeat` times in one browser session after one untimed warm-up, so Streamlit's
caches are warm; the figure is the median, with the best and worst):

- 登录表单: open `/` signed out, until the 用户名 field is on screen and the app idle;
- 问题链接: open `/grid?grid=DC-01&problem=<code>` (a reload signs out, so the link shows the sign-in
  form first): from pressing 登录 until that problem's heading is shown; beside it, until the page's run
  is over (the grid's map, drawn last, sent);
- 领导大屏: from 总览, a click on 领导大屏 in the sidebar until the map is drawn with its labels placed;
- 网格台账: from 总览, a click on DC-01's label on the map until its 问题台账 table is drawn; beside it,
  until the grid's map has drawn its problems;
- 保存草案: on 网格规划 as 规划员, merge two grids (untimed), then from pressing 保存草案 until
  "已保存为草案" is shown.

Beside each time: the script runs the browser saw (Streamlit's script state running → idle, server time
plus transit), and the bytes the server sent over the websocket for that step (the page's payload,
folium maps included). The 1-minute load average is printed with every line: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.browser import browser, click_and_rerun, open_app, served_app, sign_in, wait_for_streamlit

# Records, per document, each run of the script as the browser sees it: running → notRunning.
_RUNS = """
window.__gmRuns = [];
new MutationObserver(() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const s = app && app.getAttribute('data-test-script-state');
  if (s === 'running' && !window.__gmRunStart) window.__gmRunStart = performance.now();
  if (s === 'notRunning' && window.__gmRunStart) {
    window.__gmRuns.push(performance.now() - window.__gmRunStart); window.__gmRunStart = 0; }
}).observe(document, {attributes: true, subtree: true, attributeFilter: ['data-test-script-state']});
"""
MAP = 'iframe[title="streamlit_folium.st_folium"]'
TIMEOUT_MS = 900_000  # --timeout: a cold page at 1M problems on a loaded machine takes minutes


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


class Meter:
    """Bytes received over the page's websockets since the last `take()`."""

    def __init__(self, page):
        self.bytes = 0
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload) -> None:
        self.bytes += len(payload)

    def take(self) -> int:
        n, self.bytes = self.bytes, 0
        return n


def _labels_placed(page) -> None:
    frame = page.wait_for_selector(MAP).content_frame()
    frame.wait_for_function("() => { const m = document.querySelector('.leaflet-container');"
                            " return m && m.dataset.gmLabels; }")


def _problems_drawn(page) -> None:
    """The grid page's map has drawn its problems (their canvas) and its areas."""
    frame = page.wait_for_selector(MAP).content_frame()
    frame.wait_for_function("() => !!document.querySelector('.leaflet-overlay-pane canvas')"
                            " && document.querySelectorAll('path.leaflet-interactive').length > 0")


def _ledger_drawn(page) -> None:
    page.get_by_text(re.compile(r"^问题台账（")).first.wait_for()
    page.locator('[data-testid="stDataFrame"] canvas').first.wait_for()


def _goto(page, url: str, ready) -> None:
    page.goto(url)
    ready(page)
    wait_for_streamlit(page, TIMEOUT_MS)


def _users(path: Path) -> dict[str, str]:
    """`gis demo`'s accounts file: username → password."""
    users = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 3 and re.fullmatch(r"[a-z]+", parts[0]):
            users[parts[0]] = parts[-1]
    return users


def _problem_code(database: str) -> str:
    from sqlalchemy import text

    from gis.db.engine import get_engine

    with get_engine(database).connect() as conn:
        return conn.execute(text("SELECT p.code FROM problems p JOIN grids g ON g.id = p.grid_id "
                                 "WHERE g.code = 'DC-01' ORDER BY p.reported_at DESC LIMIT 1")).scalar_one()


def measure(step: str, page, meter: Meter, action, repeat: int, timed=None, then=None) -> dict:
    """Run `action` once untimed, then `repeat` times; `timed()` gives the seconds of the part that
    counts when the action also sets the step up (default: the whole action); `then()`, when given, the
    seconds until the rest of the page was done too (reported beside, as ``then_s``)."""
    action()  # warm-up: fills the server's caches for this step
    times, runs, sent, rest = [], [], [], []
    for _ in range(repeat):
        meter.take()
        t0 = time.perf_counter()
        action()
        times.append(timed() if timed else time.perf_counter() - t0)
        rest.append(then() if then else None)
        sent.append(meter.take())
        runs.append(page.evaluate("() => (window.__gmRuns || []).map(Math.round)"))
    row = {"step": step, "median_s": statistics.median(times), "best_s": min(times), "worst_s": max(times),
           "then_s": statistics.median(rest) if then else None,
           "runs_ms": runs[-1], "kb": statistics.median(sent) / 1024, "load": load()}
    after = f", {then.__doc__} {row['then_s']:.2f} s" if then else ""
    print(f"{step:6s} median {row['median_s']:.2f} s (best {row['best_s']:.2f}, worst {row['worst_s']:.2f}){after}, "
          f"script runs {row['runs_ms']} ms, {row['kb']:.0f} KB sent, load {row['load']}", flush=True)
    return row


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database", required=True, help="DATABASE_URL of a demo city")
    ap.add_argument("--users", required=True, type=Path, help="the demo accounts file `gis demo` wrote")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--width", type=int, default=1920)
    ap.add_argument("--height", type=int, default=1080)
    ap.add_argument("--steps", default="login,wall,ledger,problem,save")
    ap.add_argument("--timeout", type=int, default=900, help="seconds any one wait may take")
    args = ap.parse_args(argv)
    global TIMEOUT_MS
    TIMEOUT_MS = args.timeout * 1000
    users, steps = _users(args.users), args.steps.split(",")
    problem = _problem_code(args.database)
    rows = []
    env = {"GRIDMAP_NOW": "2026-11-20T16:00:00"}
    with served_app(args.database, env=env) as base, browser(args.width, args.height) as page:
        page.context.add_init_script(_RUNS)
        page.context.set_default_timeout(args.timeout * 1000)  # a cold 1M-problem page on a loaded machine
        meter = Meter(page)
        if "login" in steps:
            rows.append(measure("登录表单", page, meter, lambda: _goto(
                page, base + "/", lambda p: p.get_by_label("用户名", exact=True).wait_for()), args.repeat))
        if "problem" in steps:  # a reload signs out: the link opens on the sign-in form, timed from 登录
            def from_link() -> None:
                open_app(page, f"{base}/grid?grid=DC-01&problem={problem}", args.timeout * 1000)
                page.get_by_label("用户名", exact=True).fill("admin")
                page.get_by_label("密码", exact=True).fill(users["admin"])
                t0 = time.perf_counter()
                page.get_by_role("button", name="登录", exact=True).click()
                page.get_by_role("heading", name=f"问题 {problem}", exact=True).wait_for()
                from_link.last = time.perf_counter() - t0
                wait_for_streamlit(page, TIMEOUT_MS)  # the grid's map comes last in the page's run
                from_link.idle = time.perf_counter() - t0

            def idle() -> float:
                """page idle (map sent)"""
                return from_link.idle
            rows.append(measure("问题链接", page, meter, from_link, args.repeat, lambda: from_link.last, idle))
        open_app(page, base + "/")
        sign_in(page, "admin", users["admin"])
        page.get_by_role("button", name="退出登录", exact=True).wait_for()
        wait_for_streamlit(page, TIMEOUT_MS)  # a click on 总览 while sign-in's run still goes starts no run of its own
        nav = page.locator('[data-testid="stSidebarNav"]')

        def overview() -> None:
            if urlsplit(page.url).path.strip("/"):  # a click on the page already shown may start no run
                nav.get_by_text("总览", exact=True).click()
            page.get_by_role("heading", name="创城网格地图 · 东昌府区", exact=True).wait_for()
            _labels_placed(page)
            wait_for_streamlit(page, TIMEOUT_MS)

        if "wall" in steps:  # 总览 (untimed) → 领导大屏 in the sidebar
            def wall() -> None:
                overview()
                t0 = time.perf_counter()
                nav.get_by_text("领导大屏", exact=True).click()
                page.get_by_role("heading", name="东昌府区创城网格化管理 · 领导大屏", exact=True).wait_for()
                _labels_placed(page)
                wall.last = time.perf_counter() - t0
                wait_for_streamlit(page, TIMEOUT_MS)
            rows.append(measure("领导大屏", page, meter, wall, args.repeat, lambda: wall.last))
        if "ledger" in steps:  # 总览 (untimed) → a click on DC-01's label → its page with the ledger
            def ledger() -> None:
                overview()
                frame = page.wait_for_selector(MAP).content_frame()
                t0 = time.perf_counter()
                frame.locator(".gm-label", has_text=re.compile("^DC-01$")).click()
                _ledger_drawn(page)
                ledger.last = time.perf_counter() - t0
                _problems_drawn(page)
                ledger.map = time.perf_counter() - t0
                wait_for_streamlit(page, TIMEOUT_MS)

            def drawn() -> float:
                """grid map drawn"""
                return ledger.map
            rows.append(measure("网格台账", page, meter, ledger, args.repeat, lambda: ledger.last, drawn))
    if "save" in steps:
        with served_app(args.database, env=env) as base, browser(args.width, args.height) as page:
            page.context.add_init_script(_RUNS)
            page.context.set_default_timeout(args.timeout * 1000)
            open_app(page, base + "/planning", args.timeout * 1000)
            sign_in(page, "planner", users["planner"])
            wait_for_streamlit(page, TIMEOUT_MS)

            def save() -> None:
                if not page.get_by_role("radio", name="合并网格", exact=True).is_checked():
                    click_and_rerun(page, page.get_by_text("合并网格", exact=True), TIMEOUT_MS)
                click_and_rerun(page, page.get_by_role("button", name="合并", exact=True), TIMEOUT_MS)
                page.get_by_text("有未保存的修改").first.wait_for()
                wait_for_streamlit(page, TIMEOUT_MS)
                t0 = time.perf_counter()
                click_and_rerun(page, page.get_by_role("button", name="保存草案", exact=True), TIMEOUT_MS)
                page.get_by_text(re.compile("已保存为草案")).first.wait_for()
                save.last = time.perf_counter() - t0

            # the merge is set up untimed; only the press of 保存草案 until its message is timed
            save.last = 0.0
            times = []
            for i in range(args.repeat + 1):
                save()
                if i:
                    times.append(save.last)
            row = {"step": "保存草案", "median_s": statistics.median(times), "best_s": min(times),
                   "worst_s": max(times), "runs_ms": page.evaluate("() => (window.__gmRuns || []).map(Math.round)"),
                   "kb": 0, "load": load()}
            print(f"保存草案 median {row['median_s']:.2f} s (best {row['best_s']:.2f}, worst {row['worst_s']:.2f}), "
                  f"load {row['load']}", flush=True)
            rows.append(row)
    return rows


if __name__ == "__main__":
    main()
