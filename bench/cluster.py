"""A city's deployment on one machine, from existing parts (issue 17): `make cluster`, `make cluster-stop`.

    python -m bench.cluster start [--apps 2] [--port 8080] [--dir /tmp/gridmap-cluster]
    python -m bench.cluster status|stop [--dir /tmp/gridmap-cluster]

Started, in this order, each process in a session of its own, its id in DIR/state.json:

* a **streaming replica** of DATABASE_URL's PostgreSQL server: `pg_basebackup -R` (as the server's
  `postgres` user) into a fresh directory under /tmp, started with `pg_ctl` on 127.0.0.1:5433 as a hot
  standby (its own postgresql.conf and pg_hba.conf; the primary's limits copied). The primary needs a
  replication entry in its pg_hba.conf for 127.0.0.1: when it has none, `host replication all
  127.0.0.1/32 trust` is added at the top and the server reloaded (said on the terminal);
* N **dashboard processes** (`python app.py`, 127.0.0.1:8601…), each with DATABASE_URL (the primary) and
  DATABASE_READ_URL (the replica) and one shared Streamlit cookie secret;
* the **Open311 API** (`python -m gis api --root-path /api`, 127.0.0.1:8610);
* **nginx** on 127.0.0.1:8080 with docs/deploy/nginx.conf (sticky sessions by cookie, websockets, /api/),
  run from DIR/nginx with its own prefix, pid file and logs: the system's nginx is not touched.

`stop` ends exactly those processes (by id, each checked to still be the one started), stops the
replica with `pg_ctl stop -m fast` and removes its directory: the primary is left as it was (but for the
pg_hba line, if it was added). Logs stay in DIR: app-<port>.log, api.log, nginx/access.log (with the
upstream each request went to), replica.log.

Only 127.0.0.1 is used. Every wait is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parents[1]
NGINX_TEMPLATE = ROOT / "docs" / "deploy" / "nginx.conf"
DEFAULT_DIR = Path("/tmp/gridmap-cluster")
REPLICATION_HBA = "host replication all 127.0.0.1/32 trust"
SLOT_PREFIX = "gridmap_replica_"  # + the replica's port
START_TIMEOUT_S = 180
# Settings a hot standby must have at least as high as its primary's.
STANDBY_LIMITS = ("max_connections", "max_worker_processes", "max_wal_senders", "max_prepared_transactions",
                  "max_locks_per_transaction")


class ClusterError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    """Run `cmd` as the `postgres` user (PostgreSQL refuses to run as root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    import pwd

    return cmd if pwd.getpwuid(os.geteuid()).pw_name == "postgres" else ["sudo", "-u", "postgres", *cmd]


def _run(cmd: list[str], timeout: float = 300) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd="/tmp")
    if done.returncode:
        raise ClusterError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done.stdout


def _libpq(url: str, **overrides) -> str:
    """A libpq connection string for a SQLAlchemy URL (postgresql+psycopg://user@host:port/db)."""
    u = make_url(url)
    parts = {"host": u.host or "127.0.0.1", "port": u.port or 5432, "user": u.username or "postgres",
             "dbname": u.database or "postgres", "connect_timeout": 3, **overrides}
    if u.password:
        parts["password"] = u.password
    return " ".join(f"{k}={v}" for k, v in parts.items())


def _wait(what: str, check, timeout: float = START_TIMEOUT_S, proc: subprocess.Popen | None = None,
          log: Path | None = None):
    """Poll `check()` until it returns something true; raise after `timeout` s or when `proc` ended."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except Exception:  # noqa: BLE001  (not there yet)
            pass
        if proc is not None and proc.poll() is not None:
            raise ClusterError(f"{what}: the process ended (exit {proc.returncode}){_tail(log)}")
        if time.monotonic() > deadline:
            raise ClusterError(f"{what}: not ready within {timeout:.0f} s{_tail(log)}")
        time.sleep(0.25)  # poll interval


def _tail(log: Path | None) -> str:
    if log is None or not log.is_file():
        return ""
    return "\n" + log.read_text(encoding="utf-8", errors="replace")[-3000:]


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=3) as resp:
        return resp.status == 200


def _pg_bindir(conn) -> Path:
    major = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000
    bindir = Path(f"/usr/lib/postgresql/{major}/bin")
    if not (bindir / "pg_ctl").is_file():
        raise ClusterError(f"PostgreSQL {major} 的程序（pg_ctl、pg_basebackup）不在 {bindir}：请安装 postgresql-{major}")
    return bindir


def ensure_replication_entry(primary_url: str) -> bool:
    """Make sure the primary lets 127.0.0.1 connect for replication; True when a pg_hba line was added."""
    with psycopg.connect(_libpq(primary_url, dbname="postgres"), autocommit=True) as conn:
        rules = conn.execute("SELECT type, database, address, auth_method FROM pg_hba_file_rules "
                             "WHERE error IS NULL").fetchall()
        for kind, databases, address, method in rules:
            if "replication" in (databases or []) and kind == "host" and address in ("127.0.0.1", "all") \
                    and method == "trust":
                return False
        hba = Path(conn.execute("SHOW hba_file").fetchone()[0])
        text = hba.read_text(encoding="utf-8")
        if REPLICATION_HBA not in text.splitlines():
            hba.write_text(f"{REPLICATION_HBA}  # added by gridmap bench/cluster.py (streaming replica)\n{text}",
                           encoding="utf-8")
        conn.execute("SELECT pg_reload_conf()")
        print(f"added “{REPLICATION_HBA}” to {hba} and reloaded the server", flush=True)
        return True


def _drop_stale_slots(conn) -> None:
    """Drop replication slots of this script left by a cluster that was not stopped (inactive, and nothing
    listens on their replica's port): they would keep WAL on the primary for ever."""
    for (name,) in conn.execute("SELECT slot_name FROM pg_replication_slots WHERE NOT active AND slot_name LIKE %s",
                                (SLOT_PREFIX + "%",)).fetchall():
        port = name[len(SLOT_PREFIX):]
        if port.isdigit() and not _listening(int(port)):
            conn.execute("SELECT pg_drop_replication_slot(%s)", (name,))


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Cluster:
    """The processes of one local deployment. `start()`/`stop()`, or use it as a context manager."""

    database_url: str
    dir: Path = DEFAULT_DIR
    apps: int = 2
    port: int = 8080
    app_ports: list[int] = field(default_factory=list)
    api_port: int = 8610
    replica_port: int = 5433
    replica: bool = True
    own_primary_port: int | None = None  # also run a private primary on this port (initdb under /tmp)
    fast_primary: bool = False  # that primary without fsync (tests, load tests: nothing to keep)
    demo_args: list[str] | None = None  # `gis demo --if-empty` with these before the replica is made
    env: dict[str, str] = field(default_factory=dict)
    state: dict = field(default_factory=dict)
    _procs: dict[str, subprocess.Popen] = field(default_factory=dict, repr=False)

    # --- addresses -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def replica_url(self) -> str | None:
        if not self.replica:
            return None
        return make_url(self.database_url).set(host="127.0.0.1", port=self.replica_port).render_as_string(
            hide_password=False)

    def app_log(self, port: int) -> Path:
        return self.dir / f"app-{port}.log"

    @property
    def access_log(self) -> Path:
        return self.dir / "nginx" / "access.log"

    @property
    def state_file(self) -> Path:
        return self.dir / "state.json"

    # --- start ------------------------------------------------------------------------------------

    def __enter__(self) -> "Cluster":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        if any(_alive(info) for info in load_state(self.dir).get("processes", {}).values()):
            raise ClusterError(f"{self.dir} 里已有一个在运行的集群：先 `python -m bench.cluster stop --dir {self.dir}`")
        if not make_url(self.database_url).drivername.startswith("postgresql"):
            raise ClusterError("DATABASE_URL 应为 PostgreSQL（postgresql+psycopg://…）：只读副本是 PostgreSQL 流复制备库")
        if shutil.which("nginx") is None:
            raise ClusterError("找不到 nginx：请安装 Debian 软件包 nginx（make cluster 会安装）")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.app_ports = self.app_ports or [8601 + i for i in range(self.apps)]
        self.state = {"primary": self.database_url,
                      "port": self.port, "app_ports": self.app_ports, "api_port": self.api_port,
                      "replica_port": self.replica_port if self.replica else None, "processes": {}}
        try:
            if self.own_primary_port:
                self._start_own_primary()
            else:
                self._ensure_database()
            if self.demo_args is not None:
                self._build_demo()
            if self.replica:
                self.start_replica_from_backup()
            self._start_apps()
            self._start_api()
            self._start_nginx()
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self._save()

    def _save(self) -> None:
        """Write DIR/state.json, readable by its owner only (it holds the primary's address)."""
        fd = os.open(self.state_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(self.state, f, indent=2, ensure_ascii=False)

    def _spawn(self, name: str, cmd: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
        with log.open("ab") as out:
            proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.state["processes"][name] = {"pid": proc.pid, "started": _start_time(proc.pid), "log": str(log)}
        self._save()
        self._procs[name] = proc
        return proc

    def _app_env(self) -> dict[str, str]:
        env = {"DATABASE_URL": self.database_url, "PYTHONUNBUFFERED": "1", **self.env}
        if self.replica_url:
            env["DATABASE_READ_URL"] = self.replica_url
        return env

    def _start_apps(self) -> None:
        # One cookie secret for all: a browser moved to another process (its own died) keeps valid cookies.
        env = {**self._app_env(), "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32)}
        for port in self.app_ports:
            self._spawn(f"app-{port}", [sys.executable, str(ROOT / "app.py"), "--server.port", str(port),
                                        "--server.address", "127.0.0.1", "--server.headless", "true",
                                        "--browser.gatherUsageStats", "false"], self.app_log(port), env)

    def _start_api(self) -> None:
        self._spawn("api", [sys.executable, "-m", "gis", "api", "--port", str(self.api_port), "--root-path", "/api"],
                    self.dir / "api.log", self._app_env())

    def nginx_conf(self) -> str:
        prefix = self.dir / "nginx"
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in self.app_ports)
        conf = NGINX_TEMPLATE.read_text(encoding="utf-8")
        for key, value in {"PREFIX": str(prefix), "PORT": str(self.port), "API_PORT": str(self.api_port),
                           "APP_SERVERS": servers}.items():
            conf = conf.replace(f"@@{key}@@", value)
        return conf

    def _start_nginx(self) -> None:
        prefix = self.dir / "nginx"
        (prefix / "tmp").mkdir(parents=True, exist_ok=True)
        conf = prefix / "nginx.conf"
        conf.write_text(self.nginx_conf(), encoding="utf-8")
        cmd = ["nginx", "-p", f"{prefix}/", "-c", str(conf), "-e", str(prefix / "error.log")]
        _run([*cmd, "-t"], timeout=30)
        self._spawn("nginx", cmd, prefix / "nginx.out")

    def _wait_ready(self) -> None:
        procs = self._procs
        for port in self.app_ports:
            _wait(f"app on {port}", lambda: _http_ok(f"http://127.0.0.1:{port}/_stcore/health"),
                  proc=procs.get(f"app-{port}"), log=self.app_log(port))
        _wait("Open311 API", lambda: _http_ok(f"http://127.0.0.1:{self.api_port}/openapi.json"),
              proc=procs.get("api"), log=self.dir / "api.log")
        _wait("nginx", lambda: _http_ok(f"{self.base_url}/_stcore/health") and _http_ok(f"{self.base_url}/api/docs"),
              proc=procs.get("nginx"), log=self.dir / "nginx" / "error.log")

    # --- PostgreSQL: the replica (and the primary, when the cluster has its own) --------------------

    def _start_own_primary(self) -> None:
        """A private PostgreSQL primary on `own_primary_port` (initdb under /tmp), with the database of
        DATABASE_URL created; `database_url` then points at it."""
        server = PgServer(self.own_primary_port, _newest_bindir())
        self.state["own_primary"] = server.info
        self._save()
        server.init()
        server.configure({"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
                         if self.fast_primary else {}, replication=True)
        server.start()
        self.state["own_primary"] = server.info
        self._save()
        self.database_url = server.url(make_url(self.database_url).database or "gridmap")
        self.state["primary"] = self.database_url
        self._ensure_database()

    def _ensure_database(self) -> None:
        """Create DATABASE_URL's database on the primary when it is missing (the schema: migrations, at start)."""
        name = make_url(self.database_url).database
        with psycopg.connect(_libpq(self.database_url, dbname="postgres"), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')

    def _build_demo(self) -> None:
        env = {**os.environ, **self.env, "DATABASE_URL": self.database_url}
        done = subprocess.run([sys.executable, "-m", "gis", "demo", "--if-empty", *self.demo_args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=3600)
        if done.returncode:
            raise ClusterError(f"gis demo failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")

    def start_replica_from_backup(self) -> None:
        """A new hot standby of the primary: its own replication slot, a base backup, its own config, started,
        streaming."""
        ensure_replication_entry(self.database_url)
        u = make_url(self.database_url)
        slot = f"{SLOT_PREFIX}{self.replica_port}"
        with psycopg.connect(_libpq(self.database_url, dbname="postgres"), autocommit=True) as conn:
            bindir = _pg_bindir(conn)
            limits = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in STANDBY_LIMITS}
            _drop_stale_slots(conn)
            # The replica's own slot keeps the WAL it has not received (stopped, or behind): without it a busy
            # primary may recycle that WAL and the replica could never catch up. Dropped by stop().
            conn.execute("SELECT pg_create_physical_replication_slot(%s, true)", (slot,))
        self.state["slot"] = slot
        server = PgServer(self.replica_port, bindir)
        self.state["replica"] = server.info
        self._save()
        backup = [str(bindir / "pg_basebackup"), "-h", u.host or "127.0.0.1", "-p", str(u.port or 5432),
                  "-U", u.username or "postgres", "-D", str(server.data), "-R", "-X", "stream", "-S", slot,
                  "-c", "fast", "--no-password"]
        for attempt in range(3):  # a primary under heavy load may end the WAL stream of a backup: try again
            try:
                _run(_as_postgres(backup), timeout=1800)
                break
            except ClusterError:
                if attempt == 2:
                    raise
                shutil.rmtree(server.data, ignore_errors=True)
        # Debian keeps postgresql.conf and pg_hba.conf in /etc: the copy has none. The standby's limits
        # must be at least its primary's.
        server.configure({"hot_standby": "on", "hot_standby_feedback": "on", **limits}, replication=False)
        self.start_replica()

    def replica_server(self) -> "PgServer":
        return PgServer.from_info(self.state["replica"])

    def start_replica(self) -> None:
        """Start the (stopped) replica and wait until it streams from the primary."""
        server = self.replica_server()
        server.start()
        self.state["replica"] = server.info
        self._save()
        _wait("replica streaming", self.replica_streaming, log=server.log)

    def replica_streaming(self) -> bool:
        with psycopg.connect(_libpq(self.replica_url), autocommit=True) as conn:
            recovery = conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]
            status = conn.execute("SELECT status FROM pg_stat_wal_receiver").fetchone()
        return bool(recovery and status and status[0] == "streaming")

    def stop_replica(self) -> None:
        if "replica" not in self.state:
            return
        server = self.replica_server()
        server.stop()
        self.state["replica"] = server.info
        self._save()

    def drop_slot(self) -> None:
        """Drop the replica's replication slot on the primary (the replica stopped): no WAL kept for it."""
        slot = self.state.get("slot")
        if not slot or self.state.get("replica", {}).get("running"):
            return
        with psycopg.connect(_libpq(self.state["primary"], dbname="postgres"), autocommit=True) as conn:
            conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                         "WHERE slot_name = %s AND NOT active", (slot,))
        self.state.pop("slot")
        self._save()

    # --- stop -------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Everything started, in reverse: nginx, apps, API; the replica, its slot; the own primary."""
        stop_processes(self.state)
        try:
            self.stop_replica()
            if "own_primary" not in self.state:
                self.drop_slot()  # an own primary goes as a whole
        finally:
            for name in ("replica", "own_primary"):
                info = self.state.get(name)
                if info is None:
                    continue
                server = PgServer.from_info(info)
                try:
                    server.stop()
                finally:
                    if server.log.is_file() and self.dir.is_dir():
                        shutil.copy2(server.log, self.dir / f"{name.replace('_', '-')}.log")
                    if not server.running:
                        server.remove()
                        self.state.pop(name)
            self.state["processes"] = {}
            if self.dir.is_dir():
                self._save()


@dataclass
class PgServer:
    """A PostgreSQL server of this machine's binaries on 127.0.0.1:`port`, in a directory of its own under /tmp
    (data/ and postgres.log), run as the `postgres` user; `info` is what DIR/state.json keeps of it."""

    port: int
    bindir: Path
    root: Path | None = None
    running: bool = False

    def __post_init__(self):
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix=f"gridmap-pg{self.port}-"))  # /tmp: the postgres user gets in
            shutil.chown(self.root, "postgres", "postgres")

    @classmethod
    def from_info(cls, info: dict) -> "PgServer":
        return cls(info["port"], Path(info["bindir"]), Path(info["root"]), info.get("running", False))

    @property
    def info(self) -> dict:
        return {"port": self.port, "bindir": str(self.bindir), "root": str(self.root), "running": self.running}

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        _run(_as_postgres([str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                           "-E", "UTF8", "--locale", "C.UTF-8", "--no-sync"]), timeout=300)

    def configure(self, settings: dict, replication: bool) -> None:
        """Write postgresql.conf (port, 127.0.0.1 only, its socket in its own directory, `settings`) and
        pg_hba.conf (trust on 127.0.0.1; replication connections too when `replication`)."""
        conf = {"port": self.port, "listen_addresses": "'127.0.0.1'", "unix_socket_directories": f"'{self.root}'",
                "cluster_name": f"'gridmap-{self.port}'", "logging_collector": "off", **settings}
        hba = "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        if replication:
            hba += REPLICATION_HBA + "\n"
        for name, body in (("postgresql.conf", "".join(f"{k} = {v}\n" for k, v in conf.items())),
                           ("pg_hba.conf", hba), ("pg_ident.conf", "")):
            path = self.data / name
            path.write_text(body, encoding="utf-8")
            shutil.chown(path, "postgres", "postgres")

    def start(self) -> None:
        _run(_as_postgres([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "120",
                           "start"]), timeout=150)
        self.running = True

    def stop(self) -> None:
        if self.running and (self.data / "postmaster.pid").is_file():
            _run(_as_postgres([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "60",
                               "stop"]), timeout=90)
        self.running = False

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _newest_bindir() -> Path:
    """The newest PostgreSQL installed with PostGIS (Debian: /usr/lib/postgresql/<major>/bin)."""
    found = sorted((int(p.parent.name), p) for p in Path("/usr/lib/postgresql").glob("*/bin")
                   if p.parent.name.isdigit() and (p / "initdb").is_file()
                   and Path(f"/usr/share/postgresql/{p.parent.name}/extension/postgis.control").is_file())
    if not found:
        raise ClusterError("找不到带 PostGIS 的 PostgreSQL（Debian 软件包 postgresql-15-postgis-3）")
    return found[-1][1]


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat's fields after the command name (state first), or None when there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw.rsplit(")", 1)[1].split()


def _start_time(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[19]) if fields else None  # field 22 of stat: start time in clock ticks after boot


def _alive(info: dict) -> bool:
    """The recorded process still runs: same id, same start time (not a reused id), not a zombie."""
    fields = _stat(info["pid"])
    return bool(fields) and fields[0] != "Z" and int(fields[19]) == info.get("started")


def stop_processes(state: dict, timeout: float = 20) -> None:
    """End the recorded processes (nginx first, then the apps and the API): SIGTERM to each one's
    session (the process and its children), SIGKILL after `timeout`."""
    procs = state.get("processes", {})
    order = sorted(procs, key=lambda name: name != "nginx")
    for name in order:
        if _alive(procs[name]):
            _signal(procs[name]["pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for name in order:
        info = procs[name]
        while _alive(info) and time.monotonic() < deadline:
            _reap(info["pid"])
            time.sleep(0.1)  # poll interval
        if _alive(info):
            _signal(info["pid"], signal.SIGKILL)
        _reap(info["pid"])


def _signal(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # started with start_new_session: its process group id is its pid
    except ProcessLookupError:
        pass


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)  # a child of this process: collect it, so it is really gone
    except ChildProcessError:
        pass


def load_state(dir: Path) -> dict:
    path = dir / "state.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _stop_dir(dir: Path) -> None:
    state = load_state(dir)
    if not state:
        print(f"no cluster in {dir}")
        return
    Cluster(database_url=state.get("primary", ""), dir=dir, state=state).stop()
    print(f"stopped the cluster in {dir}")


def _status(dir: Path) -> int:
    state = load_state(dir)
    procs = state.get("processes", {})
    if not procs:
        print(f"no cluster running in {dir}")
        return 1
    for name, info in procs.items():
        alive = "running" if _alive(info) else "GONE"
        print(f"{name:12} pid {info['pid']:>7}  {alive}  log {info['log']}")
    for name in ("own_primary", "replica"):
        if info := state.get(name):
            print(f"{name:12} 127.0.0.1:{info['port']}  data {info['root']}/data  "
                  f"{'running' if info.get('running') else 'stopped'}")
    print(f"http://127.0.0.1:{state['port']}/  (API: http://127.0.0.1:{state['port']}/api/docs)")
    return 0


def _demo_args(args) -> list[str] | None:
    if args.demo is None:
        return None
    return ["--problems", str(args.demo), "--no-files", *(["--until", args.demo_until] if args.demo_until else [])]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__.split("\n\n")[0])
    p.add_argument("action", choices=["start", "stop", "status"])
    p.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="state, logs and nginx prefix (default %(default)s)")
    p.add_argument("--database", default=None, help="the primary (default: DATABASE_URL)")
    p.add_argument("--apps", type=int, default=2, help="dashboard processes (default 2)")
    p.add_argument("--port", type=int, default=8080, help="nginx on 127.0.0.1:PORT (default 8080)")
    p.add_argument("--app-port", type=int, default=8601, help="first dashboard port (default 8601)")
    p.add_argument("--api-port", type=int, default=8610)
    p.add_argument("--replica-port", type=int, default=5433)
    p.add_argument("--no-replica", action="store_true", help="no replica: every read from the primary")
    p.add_argument("--own-primary", type=int, metavar="PORT",
                   help="also run a private primary on this port (initdb under /tmp, DATABASE_URL's database name; "
                        "removed by stop): the server on 5432 is not touched")
    p.add_argument("--demo", type=int, metavar="N", help="build the demo city of N problems first when the database is empty")
    p.add_argument("--demo-until", help="the demo's last day (YYYY-MM-DD)")
    args = p.parse_args(argv)
    if args.action == "stop":
        _stop_dir(args.dir)
        return 0
    if args.action == "status":
        return _status(args.dir)
    from gis.config import database_url

    url = args.database or database_url()
    cluster = Cluster(url, dir=args.dir, apps=args.apps, port=args.port,
                      app_ports=[args.app_port + i for i in range(args.apps)], api_port=args.api_port,
                      replica_port=args.replica_port, replica=not args.no_replica, own_primary_port=args.own_primary,
                      demo_args=_demo_args(args))
    try:
        cluster.start()
    except ClusterError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    _status(args.dir)
    print(f"stop it with: python -m bench.cluster stop --dir {args.dir}  (or make cluster-stop)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
