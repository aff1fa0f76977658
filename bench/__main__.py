"""`python -m bench [names…]`: run the benchmarks (all by default) and save bench/results/latest.md.

Each bench module exposes `run(args) -> str` (Markdown). Options: --problems N (default
1000000), --backends spatialite,postgis, --into N (bench_import: import into the demo of N problems).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from pathlib import Path

import bench
from bench.common import BACKENDS, RESULTS


def main() -> None:
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", choices=names + [[]], help="benchmarks to run (default: all)")
    parser.add_argument("--problems", type=int, default=1_000_000)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--into", type=int, default=0,
                        help="bench_import: import into the demo database of this many problems (default: a small one)")
    args = parser.parse_args()
    args.backends = [b for b in args.backends.split(",") if b]
    out = []
    for name in args.names or names:
        out.append(importlib.import_module(f"bench.{name}").run(args))
    RESULTS.mkdir(parents=True, exist_ok=True)
    Path(RESULTS / "latest.md").write_text("\n".join(out), encoding="utf-8")


if __name__ == "__main__":
    main()
