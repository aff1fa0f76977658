"""`python -m gis import|export` through gis.cli.main: exit codes 0 / 1 / 2, messages, nothing written on 1."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from gis.cli.main import main
from gis.io import importer
from tests import io_files as f


def _run(url, capsys, *argv):
    code = main(["--database", url, *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_import_dry_run_then_import(city_rw, capsys, tmp_path):
    url = city_rw.url.render_as_string(hide_password=False)
    csv = f.write_csv(f.problems_frame(), tmp_path / "p.csv", encoding="gbk")
    code, out, _ = _run(url, capsys, "import", "problems", str(csv), "--dry-run")
    assert code == 0 and "p.csv：试运行通过，3 条问题均可导入（未写入数据库）。" in out
    assert "· 检测到 CSV 字符编码为 GB18030（GBK 的超集）。" in out
    assert importer.counts(city_rw)["problems"] == 10
    code, out, _ = _run(url, capsys, "import", "problems", str(csv))
    assert code == 0 and "p.csv：已导入 3 条问题（新增 3，更新 0）。" in out
    assert importer.counts(city_rw)["problems"] == 13


def test_invalid_input_exits_1_and_writes_nothing(city_rw, capsys, tmp_path):
    url = city_rw.url.render_as_string(hide_password=False)
    df = f.problems_frame()
    df.loc[2, "上报时间"] = "三月五日"
    csv = f.write_csv(df, tmp_path / "bad.csv")
    before = importer.counts(city_rw)
    code, _, err = _run(url, capsys, "import", "problems", str(csv))
    assert code == 1
    assert "第 4 行【上报时间】：无法识别的日期时间（可用 2025-03-05 08:30、2025/3/5、2025年3月5日 08:30）（值：三月五日）" in err
    assert "bad.csv：1 行有问题（共 1 处），未导入任何数据。" in err
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"")
    code, _, err = _run(url, capsys, "import", "problems", str(empty))
    assert code == 1 and err == "错误：e.csv 是空文件（0 字节）。\n未写入任何数据。\n"
    code, _, err = _run(url, capsys, "import", "grids", str(tmp_path / "nope.shp"))
    assert code == 1 and "错误：文件不存在" in err
    assert importer.counts(city_rw) == before


def test_usage_errors_exit_2(city_rw, capsys, tmp_path):
    url = city_rw.url.render_as_string(hide_password=False)
    assert _run(url, capsys, "import", "rivers", "x.csv")[0] == 2
    assert _run(url, capsys, "import", "problems")[0] == 2
    assert _run(url, capsys, "import", "problems", "x.csv", "--coords", "mars")[0] == 2
    assert _run(url, capsys, "export", "leaders", "x.csv")[0] == 2


def test_export_then_reimport_shapefile(city_rw, capsys, tmp_path):
    url = city_rw.url.render_as_string(hide_password=False)
    shp = tmp_path / "out" / "grids.shp"
    code, out, _ = _run(url, capsys, "export", "grids", str(shp))
    assert code == 0 and out == f"已导出 4 条网格到 {shp}\n"
    code, out, _ = _run(url, capsys, "import", "grids", str(shp))
    assert code == 0 and "grids.shp：已导入 4 条网格（新增 0，更新 4）。" in out
    code, _, err = _run(url, capsys, "export", "grids", str(tmp_path / "g.kml"))
    assert code == 1 and "不支持导出为“.kml”" in err


def test_module_entry_point(city_url, tmp_path):
    """`python -m gis import` as a real process, with DATABASE_URL."""
    csv = f.write_csv(pd.DataFrame({"x": ["1"]}), tmp_path / "x.csv")
    proc = subprocess.run([sys.executable, "-m", "gis", "import", "problems", str(csv), "--dry-run"],
                          capture_output=True, text=True, env={"DATABASE_URL": city_url, "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1
    assert "错误：缺少必填字段：问题编号" in proc.stderr
