"""Many people at once against one served app (issue 11 §8 wall load, issue 17 load test).

One `python app.py` (Streamlit) on 127.0.0.1 (ports 8680–8699 by default), one headless Debian Chromium
driven by Playwright (async API), one browser context per session (its own cookies, its own
Streamlit session):

* wall screens (大屏, kiosk token, 1920×1080): all open at once (the simultaneous first load: from
  the address to the 61 grids drawn and the app idle), then stay open; every fragment refresh is
  timed in the page itself, from the script state turning `running` to two animation frames after
  it ends (the browser has drawn the result). Refreshes whose starts fall within 2 s of each other
  count as one burst.
* grid managers (网格长 of one grid each, signed in once: the sign-in lives in the Streamlit session,
  so they stay on the page): open their grid's page, then one of their problems by its code
  (the page's 打开问题 box) and press its next step (派遣, 签收, 提交整改 with a note), again and again.
* one import (`python -m gis import problems <csv>`, the CLI, a separate process) while the
  sessions run.
* the server's resident memory sampled every 2 s from /proc.

Each session runs `--seconds` after its own first load (or sign-in): on a busy machine the first
loads alone can take minutes.

Only 127.0.0.1 is contacted; every wait is bounded (`--seconds`, `LOAD_WAIT_MS`). Not part of
`python -m bench` (it is a load test, not a benchmark of one function):

    python -m bench.load --database sqlite:////tmp/x/demo.sqlite --walls 20 --seconds 240
    python -m bench.load --database URL --walls 20 --managers 29 --import-rows 50000 --seconds 300
    python -m bench.load --app-dir /tmp/old-checkout …   # the same load on another version of the app
    python -m bench.load --database URL --cluster-dir /tmp/gridmap-cluster …   # through a running `make cluster`

With `--base-url` (or `--cluster-dir`, which reads the address and the app processes' ids from a cluster's
state.json, bench/cluster.py) nothing is served: the load goes to that address, and the memory and CPU
sampled are those of `--pids` (the app processes). That server must accept this module's kiosk TOKEN and
run at SERVER_NOW: start the cluster with GRIDMAP_KIOSK_TOKENS=<TOKEN>, GRIDMAP_NOW=<SERVER_NOW> and
GRIDMAP_WALL_REFRESH=<--refresh> in its environment.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.browser import _IDLE, CHROMIUM, CHROMIUM_ARGS, MAP_IFRAME, SERVER_NOW, async_playwright

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "load-test-wall-token-0123456789abcdef"
PASSWORD = "Load-Test-2026!"
AS_OF = "2026-11-20"
BURST_WINDOW_MS = 2000
# Bound of one first load (address to drawn) and of every other wait: generous, since 20 to 50
# Chromium tabs and the server share the machine's cores; waits end as soon as their condition holds.
LOAD_WAIT_MS = 600_000

# In every page: each script run (a fragment refresh included), from `running` to drawn.
_RUN_PROBE = """
window.__gmRuns = [];
(() => {
  let t0 = null, w0 = 0;
  new MutationObserver(() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const s = app && app.getAttribute('data-test-script-state');
    if (s === 'running' && t0 === null) { t0 = performance.now(); w0 = Date.now(); }
    else if (s && s !== 'running' && t0 !== null) {
      const a = t0, w = w0; t0 = null;
      requestAnimationFrame(() => requestAnimationFrame(() => window.__gmRuns.push([w, performance.now() - a])));
    }
  }).observe(document, {attributes: true, subtree: true, attributeFilter: ['data-test-script-state']});
})();
"""


@dataclass
class Results:
    first_loads: list[float] = field(default_factory=list)
    refreshes: list[tuple[float, float]] = field(default_factory=list)  # (start epoch ms, ms)
    pages: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    moved: int = 0
    rss: list[tuple[float, float]] = field(default_factory=list)  # (s since start, MB of all server processes)
    cpu_seconds: dict[int, float] = field(default_factory=dict)  # server pid → CPU seconds used during the run
    import_seconds: float | None = None
    import_rc: int | None = None

    def page(self, kind: str, seconds: float) -> None:
        self.pages.setdefault(kind, []).append(seconds)


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _sample(pids: list[int], res: Results, stop: threading.Event, t0: float) -> None:
    while not stop.wait(2.0):
        try:
            res.rss.append((time.monotonic() - t0, sum(_rss_mb(pid) for pid in pids)))
        except OSError:
            return


def serve(app_dir: Path, url: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    cmd = [sys.executable, str(app_dir / "app.py"), "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    proc_env = {**os.environ, "DATABASE_URL": url, "GRIDMAP_NOW": SERVER_NOW, "GRIDMAP_KIOSK_TOKENS": TOKEN,
                "PYTHONPATH": str(app_dir), **env}
    return subprocess.Popen(cmd, cwd=app_dir, env=proc_env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def _wait_healthy(base: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("streamlit did not start")


async def _idle(page) -> None:
    await page.wait_for_function(_IDLE, timeout=LOAD_WAIT_MS, polling=250)


async def _wall_drawn(page) -> None:
    handle = await page.wait_for_selector(MAP_IFRAME, timeout=LOAD_WAIT_MS)
    frame = await handle.content_frame()
    await frame.wait_for_function("() => document.querySelectorAll('path.leaflet-interactive').length >= 61",
                                  timeout=LOAD_WAIT_MS, polling=250)
    await _idle(page)


async def wall_session(browser, base: str, res: Results, seconds: float) -> None:
    ctx = await browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    ctx.set_default_timeout(LOAD_WAIT_MS)  # every wait bounded by the same generous limit, none by Playwright's 30 s
    await ctx.add_init_script(_RUN_PROBE)
    page = await ctx.new_page()
    try:
        t0 = time.monotonic()
        await page.goto(f"{base}/wall?kiosk={TOKEN}&as_of={AS_OF}", timeout=LOAD_WAIT_MS, wait_until="commit")
        await _wall_drawn(page)
        res.first_loads.append(time.monotonic() - t0)
        seen = await page.evaluate("() => window.__gmRuns.length")  # the first load's own runs
        await asyncio.sleep(seconds)  # a wall just stays open, refreshing itself
        runs = await page.evaluate("() => window.__gmRuns")
        res.refreshes.extend((w, ms) for w, ms in runs[seen:])
        if await page.locator('[data-testid="stException"]').count():
            res.errors.append("wall: exception on the page")
    except Exception as exc:  # noqa: BLE001  (a load test counts failures, it does not stop at one)
        res.errors.append(f"wall: {type(exc).__name__}: {str(exc)[:120]}")
    finally:
        await ctx.close()


def _candidates(url: str, grid: str) -> list[tuple[str, str]]:
    """Problems of `grid` a 网格长 can move on: (code, next step)."""
    from sqlalchemy import text

    from gis.db.engine import get_engine

    with get_engine(url).connect() as conn:
        rows = conn.execute(text(
            "SELECT p.code, p.status, p.acknowledged_at FROM problems p JOIN grids g ON g.id = p.grid_id WHERE g.code = :g "
            "AND p.status IN ('待派遣', '整改中') ORDER BY p.acknowledged_at IS NULL DESC, p.id DESC"),
            {"g": grid}).all()
    return [(c, "派遣" if s == "待派遣" else "签收" if ack is None else "提交整改") for c, s, ack in rows]


async def manager_session(browser, base: str, url: str, user: str, grid: str, res: Results,
                          seconds: float) -> None:
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    ctx.set_default_timeout(LOAD_WAIT_MS)
    await ctx.add_init_script(_RUN_PROBE)
    page = await ctx.new_page()
    todo = await asyncio.to_thread(_candidates, url, grid)
    try:
        t0 = time.monotonic()
        await page.goto(f"{base}/grid?grid={grid}", timeout=LOAD_WAIT_MS, wait_until="commit")
        await page.get_by_label("用户名", exact=True).wait_for(timeout=LOAD_WAIT_MS)
        await _idle(page)
        await page.get_by_label("用户名", exact=True).fill(user)
        await page.get_by_label("密码", exact=True).fill(PASSWORD)
        await page.get_by_role("button", name="登录", exact=True).click()
        await page.get_by_role("heading", name=f"网格详情 · {grid}", exact=True).wait_for(timeout=LOAD_WAIT_MS)
        await _idle(page)
        res.page("sign-in + grid page", time.monotonic() - t0)
        deadline = time.monotonic() + seconds
        box = page.get_by_label("打开问题", exact=True)  # the grid page's "open a problem" box
        shown = None
        while time.monotonic() < deadline and todo:
            code, step = todo.pop(0)
            t0 = time.monotonic()
            if code != shown:  # open it (after 派遣 the same problem stays open for 签收)
                before = await page.evaluate("() => window.__gmRuns.length")
                await box.fill(code)
                await box.press("Enter")
                await page.wait_for_function(f"() => window.__gmRuns.length > {before}", timeout=LOAD_WAIT_MS,
                                             polling=250)
                shown = code
            button = page.get_by_role("button", name=step, exact=True)
            await button.wait_for(timeout=LOAD_WAIT_MS)
            await _idle(page)
            res.page("problem opened (grid page rerun)", time.monotonic() - t0)
            if step == "提交整改":
                await page.get_by_label("整改说明", exact=True).fill("已清理整改，现场恢复正常", timeout=LOAD_WAIT_MS)
            t0 = time.monotonic()
            before = await page.evaluate("() => window.__gmRuns.length")
            await button.click()
            await page.wait_for_function(f"() => window.__gmRuns.length > {before}", timeout=LOAD_WAIT_MS, polling=250)
            await _idle(page)
            res.page(f"workflow step ({step})", time.monotonic() - t0)
            if await page.locator('[data-testid="stException"]').count():
                res.errors.append(f"manager {user}: exception after {step} {code}")
            else:
                res.moved += 1
            if step == "派遣":  # dispatched: the unit acknowledges next (签收), on the same problem
                todo.insert(0, (code, "签收"))
    except Exception as exc:  # noqa: BLE001
        res.errors.append(f"manager {user}: {type(exc).__name__}: {str(exc)[:120]}")
    finally:
        await ctx.close()


def _import_run(url: str, rows: int, res: Results) -> None:
    from bench.bench_import import make_csv
    from gis.db.engine import get_engine

    csv = make_csv(get_engine(url), rows, Path(f"/tmp/h-scale/load_import_{rows}.csv"))
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "gis", "--database", url, "import", "problems", str(csv)],
                          cwd=ROOT, capture_output=True, text=True)
    res.import_seconds, res.import_rc = time.monotonic() - t0, done.returncode
    if done.returncode:
        res.errors.append(f"import: exit {done.returncode}: {done.stderr[-300:]}")


def _users(url: str, n: int) -> list[tuple[str, str]]:
    """One 网格长 account per grid (lt-chief-NN), created when missing; (username, grid code)."""
    from gis.db.engine import get_engine
    from gis.geo.queries import current_grids
    from gis.people import auth
    from gis.people.permissions import Actor

    engine = get_engine(url)
    grids = sorted(current_grids(engine)["code"])[:n]
    existing = set(auth.list_users(engine)["username"]) if hasattr(auth, "list_users") else set()
    out = []
    for i, grid in enumerate(grids):
        name = f"lt-chief-{i:02d}"
        if name not in existing:
            try:
                auth.add_user(engine, Actor.system("load"), name, "网格长", PASSWORD, grid_code=grid)
            except auth.AuthError:
                pass  # already there from an earlier run
        out.append((name, grid))
    return out


async def drive(args, base: str, res: Results) -> None:
    users = await asyncio.to_thread(_users, args.database, args.managers) if args.managers else []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        tasks = [wall_session(browser, base, res, args.seconds) for _ in range(args.walls)]
        tasks += [manager_session(browser, base, args.database, u, g, res, args.seconds) for u, g in users]
        if args.import_rows:
            tasks.append(asyncio.to_thread(_import_run, args.database, args.import_rows, res))
        await asyncio.gather(*tasks)
        await browser.close()


def _pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))] if v else float("nan")


def _bursts(refreshes: list[tuple[float, float]]) -> list[int]:
    """Sizes of groups of refreshes whose starts chain within BURST_WINDOW_MS of each other."""
    starts, sizes = sorted(w for w, _ in refreshes), []
    for i, w in enumerate(starts):
        if i and w - starts[i - 1] <= BURST_WINDOW_MS:
            sizes[-1] += 1
        else:
            sizes.append(1)
    return sizes


def summary(args, res: Results, load: tuple[tuple[float, ...], tuple[float, ...]]) -> str:
    lines = [f"### Load test: {args.walls} walls, {args.managers} grid managers, import {args.import_rows or 0} rows, "
             f"{args.seconds} s, app {args.app_dir}", "",
             f"database `{args.database.split('@')[-1]}`; GRIDMAP_WALL_REFRESH {args.refresh} s; load average "
             f"before {load[0][0]:.1f} / {load[0][1]:.1f}, after {load[1][0]:.1f} / {load[1][1]:.1f} (1 / 5 min)", "",
             "| what | n | p50 s | p95 s | max s |", "|---|---|---|---|---|"]

    def row(name, values):
        lines.append(f"| {name} | {len(values)} | {_pct(values, .5):.1f} | {_pct(values, .95):.1f} | "
                     f"{max(values, default=float('nan')):.1f} |")

    if args.walls:
        row("wall first load (all at once)", res.first_loads)
        row("wall refresh, drawn", [ms / 1000 for _, ms in res.refreshes])
    for kind, values in sorted(res.pages.items()):
        row(kind, values)
    bursts = _bursts(res.refreshes)
    lines += ["", f"refresh bursts (starts within {BURST_WINDOW_MS / 1000:.0f} s): {len(bursts)} bursts, largest "
              f"{max(bursts, default=0)}, median {statistics.median(bursts) if bursts else 0:.0f} walls",
              f"workflow steps done: {res.moved}; errors: {len(res.errors)}"]
    lines += [f"- {e}" for e in res.errors[:10]]
    if res.import_seconds is not None:
        lines.append(f"import of {args.import_rows:,} rows during the run: {res.import_seconds:.1f} s (exit {res.import_rc})")
    if res.rss:
        step = max(1, len(res.rss) // 10)
        series = ", ".join(f"{t:.0f}s {mb:.0f}" for t, mb in res.rss[::step])
        n = len(res.cpu_seconds) or 1
        lines.append(f"server RSS MB{f' (sum of {n} processes)' if n > 1 else ''}: start {res.rss[0][1]:.0f}, "
                     f"max {max(m for _, m in res.rss):.0f}, end {res.rss[-1][1]:.0f}; over time: {series}")
    if res.cpu_seconds:
        lines.append("server CPU seconds during the run: " + ", ".join(
            f"pid {pid} {cpu:.0f} s" for pid, cpu in res.cpu_seconds.items()))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.load")
    p.add_argument("--database", required=True)
    p.add_argument("--app-dir", type=Path, default=ROOT)
    p.add_argument("--port", type=int, default=8680)
    p.add_argument("--walls", type=int, default=20)
    p.add_argument("--managers", type=int, default=0)
    p.add_argument("--import-rows", type=int, default=0)
    p.add_argument("--seconds", type=int, default=240)
    p.add_argument("--refresh", type=int, default=60, help="GRIDMAP_WALL_REFRESH of the served app")
    p.add_argument("--out", type=Path, help="also write the Markdown here")
    p.add_argument("--base-url", help="load an app already served there (127.0.0.1 only) instead of serving one")
    p.add_argument("--pids", default="", help="with --base-url: the server processes whose memory and CPU to sample "
                                              "(comma-separated)")
    p.add_argument("--cluster-dir", type=Path, help="a running bench/cluster.py cluster: its nginx address and app "
                                                    "processes (sets --base-url and --pids)")
    args = p.parse_args(argv)
    if args.cluster_dir:
        import json

        state = json.loads((args.cluster_dir / "state.json").read_text(encoding="utf-8"))
        args.base_url = f"http://127.0.0.1:{state['port']}"
        args.pids = ",".join(str(info["pid"]) for name, info in state["processes"].items() if name.startswith("app-"))
    res, proc = Results(), None
    if args.base_url:
        base = args.base_url.rstrip("/")
        if not base.startswith(("http://127.0.0.1:", "http://localhost:")):
            p.error("--base-url: only 127.0.0.1")
        pids = [int(x) for x in args.pids.split(",") if x.strip()]
        args.app_dir = f"{base} (already served; {len(pids)} app processes sampled)"
    else:
        base = f"http://127.0.0.1:{args.port}"
        proc = serve(args.app_dir, args.database, args.port, {"GRIDMAP_WALL_REFRESH": str(args.refresh)})
        pids = [proc.pid]
    stop = threading.Event()
    try:
        if proc is not None:
            _wait_healthy(base, proc)
        cpu0 = {pid: _cpu_s(pid) for pid in pids}
        threading.Thread(target=_sample, args=(pids, res, stop, time.monotonic()), daemon=True).start()
        load0 = os.getloadavg()
        asyncio.run(drive(args, base, res))
        load1 = os.getloadavg()
        res.cpu_seconds = {pid: _cpu_s(pid) - cpu0[pid] for pid in pids}
    finally:
        stop.set()
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    out = summary(args, res, (load0, load1))
    print(out)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(out, encoding="utf-8")


if __name__ == "__main__":
    main()
