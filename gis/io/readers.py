"""Opening data files: Shapefile (.shp or .zip), GeoPackage (a layer), GeoJSON, CSV and Excel.

Everything read is held in memory as a `Source` (a frame of attributes, the geometries in the
file's own CRS, the encoding used and how it was found); temporary files are gone when
`read` returns. Limits: the file size, the file types, and for zips the paths of the members
(none may lead outside the folder) and the unpacked size (not far larger than the zip).
Every failure is an `InputError` with a clear Chinese message, never a traceback.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
from pyarrow import csv as pacsv
from pyproj import CRS

from gis.config import setting
from gis.io import InputError, sheets, xlsx
from gis.io import encoding as enc

VECTOR_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json")
TABLE_SUFFIXES = (".csv", ".xlsx")
SUFFIXES = VECTOR_SUFFIXES + TABLE_SUFFIXES + (".zip",)
SIDECARS = (".dbf", ".shx", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".xml", ".qmd")
MAX_RATIO = 100          # unpacked / packed size above which a zip is refused …
RATIO_FLOOR = 5 << 20    # … once it unpacks to more than 5 MB
CSV_BLOCK_BYTES = 16 << 20  # pyarrow parses CSV in blocks this size; one row must fit in a block


def max_bytes() -> int:
    """Largest accepted file (GRIDMAP_MAX_IMPORT_MB, default 300 MB)."""
    return int(float(setting("GRIDMAP_MAX_IMPORT_MB", "300")) * (1 << 20))


def max_unpacked() -> int:
    return 4 * max_bytes()


@dataclass
class Source:
    """A file's content: `frame` (attributes), `geoms` (shapely, file CRS) or None for tables."""

    name: str
    frame: pd.DataFrame
    geoms: np.ndarray | None
    crs: CRS | None
    crs_how: str
    encoding: str | None
    encoding_how: str
    table: bool
    layers: list[str] = field(default_factory=list)
    layer: str | None = None
    notes: list[str] = field(default_factory=list)
    # other sheets of a workbook read with its first one (COMPANION_SHEETS), by name
    sheets: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def first_row(self) -> int:
        """Row number of the first record as users see it: 2 in a sheet (row 1 is the header), else 1."""
        return 2 if self.table else 1


def _size_mb(n: int) -> str:
    return f"{n / (1 << 20):.1f} MB" if n >= (1 << 20) else f"{n / 1024:.1f} KB"


def check_file(path: Path) -> None:
    """Existence, type and size limits."""
    if not path.exists():
        raise InputError(f"文件不存在：{path}")
    if path.is_dir():
        raise InputError(f"{path.name} 是文件夹：请给出 .shp、.zip、.gpkg、.geojson、.csv 或 .xlsx 文件。")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"不支持的文件类型“{path.suffix or '（无扩展名）'}”：只支持 .shp（或其 .zip）、.gpkg、.geojson、.csv、.xlsx。")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{path.name} 是空文件（0 字节）。")
    if size > max_bytes():
        raise InputError(f"{path.name} 太大（{_size_mb(size)}），超过上限 {_size_mb(max_bytes())}。")


def safe_extract(zip_path: Path, dest: Path) -> list[Path]:
    """Unpack `zip_path` into `dest`, refusing members that lead outside it, links, and zip bombs."""
    try:
        zf = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile:
        raise InputError(f"{zip_path.name} 不是有效的 zip 压缩包（文件已损坏或被截断）。") from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if not infos:
            raise InputError(f"压缩包 {zip_path.name} 中没有文件。")
        for info in infos:
            name = info.filename.replace("\\", "/")
            parts = PurePosixPath(name).parts
            if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in parts:
                raise InputError(f"压缩包中的路径“{info.filename}”指向压缩包之外，已拒绝整个压缩包。")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise InputError(f"压缩包中的“{info.filename}”是符号链接，已拒绝整个压缩包。")
        total = sum(i.file_size for i in infos)
        packed = max(zip_path.stat().st_size, 1)
        if total > max_unpacked() or (total > RATIO_FLOOR and total > MAX_RATIO * packed):
            raise InputError(f"压缩包 {zip_path.name} 解压后有 {_size_mb(total)}，远大于压缩包本身（{_size_mb(packed)}），"
                             "疑似压缩炸弹，已拒绝。")
        out = []
        root = dest.resolve()
        for info in infos:
            target = (dest / info.filename.replace("\\", "/")).resolve()
            if root not in target.parents:
                raise InputError(f"压缩包中的路径“{info.filename}”指向压缩包之外，已拒绝整个压缩包。")
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            try:
                with zf.open(info) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > info.file_size:
                            raise InputError(f"压缩包中的“{info.filename}”实际大小与声明不符，已拒绝。")
                        dst.write(chunk)
            except (zipfile.BadZipFile, EOFError, OSError) as exc:
                raise InputError(f"压缩包 {zip_path.name} 已损坏：无法解压“{info.filename}”（{exc}）。") from None
            out.append(target)
        return out


def _pick_in_zip(files: list[Path], layer: str | None, zip_name: str) -> Path:
    data = [p for p in files if p.suffix.lower() in VECTOR_SUFFIXES + TABLE_SUFFIXES and not p.name.startswith("._")]
    shps = [p for p in data if p.suffix.lower() == ".shp"]
    candidates = shps or data
    if not candidates:
        raise InputError(f"压缩包 {zip_name} 中没有可导入的数据文件（.shp、.gpkg、.geojson、.csv、.xlsx）。")
    if len(candidates) > 1 and layer:
        chosen = [p for p in candidates if p.stem == layer]
        if chosen:
            return chosen[0]
    if len(candidates) > 1 and not (len({p.suffix.lower() for p in candidates}) == 1 and candidates[0].suffix.lower() == ".gpkg"):
        names = "、".join(sorted(p.stem if p.suffix.lower() == ".shp" else p.name for p in candidates))
        raise InputError(f"压缩包 {zip_name} 中有多个数据文件：{names}。请用 --layer 选择其中一个。")
    return candidates[0]


def read(path: str | Path, layer: str | None = None, encoding: str | None = None) -> Source:
    """Read a data file (see module doc). `encoding` overrides the .cpg and detection."""
    path = Path(path)
    check_file(path)
    if path.suffix.lower() == ".zip":
        with tempfile.TemporaryDirectory(prefix="gridmap-import-") as tmp:
            files = safe_extract(path, Path(tmp))
            inner = _pick_in_zip(files, layer, path.name)
            src = _read_one(inner, layer if inner.suffix.lower() in (".gpkg", ".xlsx") else None, encoding)
            src.name = f"{path.name}/{inner.name}"
            return src
    return _read_one(path, layer, encoding)


def _read_one(path: Path, layer: str | None, encoding: str | None) -> Source:
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise InputError(f"{path.name} 是空文件（0 字节）。")
    if suffix == ".shp":
        return _read_shapefile(path, encoding)
    if suffix in (".gpkg", ".geojson", ".json"):
        return _read_vector(path, layer)
    if suffix == ".csv":
        return _read_csv(path, encoding)
    return _read_xlsx(path, layer)


def _sibling(path: Path, suffix: str) -> Path | None:
    for cand in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if cand.exists():
            return cand
    return None


def _gdal_error(path: Path, exc: Exception) -> InputError:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return InputError(f"无法读取 {path.name}：文件已损坏、被截断或格式不对（{reason}）。")


def _frame_from(gdf) -> tuple[pd.DataFrame, np.ndarray, CRS | None]:
    geoms = np.asarray(gdf.geometry.values, dtype=object) if gdf.geometry is not None else None
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    crs = CRS.from_user_input(gdf.crs) if gdf.crs is not None else None
    return frame.reset_index(drop=True), geoms, crs


def _check_shp_length(path: Path, what: str) -> None:
    """The .shp/.shx header states the file length (16-bit words, big-endian): catch truncated files."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(100)
    if len(head) < 100 or int.from_bytes(head[:4], "big") != 9994:
        raise InputError(f"无法读取 {path.name}：文件已损坏、被截断或格式不对（{what} 文件头无效）。")
    declared = int.from_bytes(head[24:28], "big") * 2
    if declared != size:
        raise InputError(f"无法读取 {path.name}：文件已损坏、被截断或格式不对（{what} 应有 {declared} 字节，实际 {size} 字节）。")


def _read_shapefile(path: Path, encoding: str | None) -> Source:
    dbf, shx = _sibling(path, ".dbf"), _sibling(path, ".shx")
    missing = [s for s, p in ((".dbf", dbf), (".shx", shx)) if p is None]
    if missing:
        raise InputError(f"Shapefile {path.name} 不完整：缺少 {'、'.join(path.stem + s for s in missing)}。"
                         "请一并上传 .shp、.dbf、.shx（以及 .prj、.cpg），或打包成 .zip。")
    _check_shp_length(path, ".shp")
    _check_shp_length(shx, ".shx")
    notes = []
    if encoding:
        codec, how = enc.normalise(encoding), "option"
        notes.append(f"按指定的字符编码 {enc.label(codec)} 读取属性表。")
    else:
        codec = enc.read_cpg(path)
        if codec:
            how = "cpg"
            notes.append(f"按 .cpg 声明的字符编码 {enc.label(codec)} 读取属性表。")
        else:
            codec, how = enc.detect(enc.dbf_sample(dbf)), "detected"
            codec = "utf-8" if codec == "utf-8-sig" else codec
            notes.append(f"没有 .cpg 文件：检测到属性表字符编码为 {enc.label(codec)}"
                         f"{'（GBK 的超集）' if codec == 'gb18030' else ''}。")
    try:
        gdf = pyogrio.read_dataframe(path, encoding=enc.label(codec))
    except Exception as exc:  # pyogrio.errors.DataSourceError & co., also from GDAL
        raise _gdal_error(path, exc) from None
    frame, geoms, crs = _frame_from(gdf)
    if crs is None:
        notes.append("没有 .prj 文件：坐标系未声明。")
    return Source(path.name, frame, geoms, crs, "prj" if crs is not None else "none", codec, how, table=False, notes=notes)


def _read_vector(path: Path, layer: str | None) -> Source:
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:
        raise _gdal_error(path, exc) from None
    if not layers:
        raise InputError(f"{path.name} 中没有图层。")
    if layer is None:
        if len(layers) > 1:
            raise InputError(f"{path.name} 有多个图层：{'、'.join(layers)}。请用 --layer 选择其中一个。")
        layer = layers[0]
    elif layer not in layers:
        raise InputError(f"{path.name} 中没有图层“{layer}”；已有图层：{'、'.join(layers)}。")
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:
        raise _gdal_error(path, exc) from None
    frame, geoms, crs = _frame_from(gdf)
    return Source(path.name, frame, geoms, crs, "file" if crs is not None else "none", "utf-8", "file",
                  table=False, layers=layers, layer=layer)


def _bad_line(path: Path, codec: str) -> int | None:
    """The line of the first byte that `codec` cannot decode (streamed; only on the error path)."""
    decoder = codecs.getincrementaldecoder(codec)()
    line = 1
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return line + chunk[:exc.start].count(b"\n")
            line += chunk.count(b"\n")
    return None


def _csv_header(sample: bytes, codec: str) -> list[str]:
    text = codecs.getincrementaldecoder(codec)(errors="replace").decode(sample[: 1 << 20])
    return next(csv.reader(io.StringIO(text.lstrip("\ufeff"))), [])


def _arrow_csv(path: Path, codec: str, names: list[str]) -> pd.DataFrame:
    """The CSV parsed by pyarrow, in blocks of CSV_BLOCK_BYTES, every column as text ("" for empty)."""
    arrow_codec = "utf8" if codec in ("utf-8", "utf-8-sig") else codec
    table = pacsv.read_csv(
        path, read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES, encoding=arrow_codec),
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False))
    return table.to_pandas(split_blocks=True, self_destruct=True)  # frees each arrow column as it converts


def _read_csv(path: Path, encoding: str | None) -> Source:
    """A CSV parsed straight from the file by pyarrow (never read whole into Python): the encoding is
    detected on the first SAMPLE_BYTES; a cell longer than a block is refused with a clear message."""
    with open(path, "rb") as fh:
        sample = fh.read(enc.SAMPLE_BYTES)
    if not sample.strip():
        raise InputError(f"{path.name} 是空文件。")
    if encoding:
        codec, how = enc.normalise(encoding), "option"
    else:
        codec, how = enc.detect(sample), "detected"
    names = _csv_header(sample, codec)
    del sample
    try:
        frame = _arrow_csv(path, codec, names)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "straddling" in reason:
            raise InputError(f"{path.name} 中有单个单元格超过 {CSV_BLOCK_BYTES >> 20} MB，远超任何字段的长度上限，"
                             "无法导入。请检查文件（是否缺少引号的结尾？）。") from None
        if "UTF8" in reason or isinstance(exc, UnicodeDecodeError) or "decode" in reason:
            line = _bad_line(path, codec)
            if how == "detected" and codec.startswith("utf-8") and line is not None:
                codec = "gb18030"  # UTF-8 in the sample, not further on: the whole file may be GBK
                if _bad_line(path, codec) is None:
                    src = _read_csv(path, codec)
                    src.encoding_how, src.notes = "detected", ["检测到 CSV 字符编码为 GB18030（GBK 的超集）。"]
                    return src
            where = f"（第 {line} 行）" if line is not None else ""
            raise InputError(f"{path.name} 不能按 {enc.label(codec)} 解码{where}。请检查 --encoding。") from None
        raise InputError(f"{path.name} 不是有效的 CSV 文件（{reason}）。") from None
    if how == "option":
        note = f"按指定的字符编码 {enc.label(codec)} 读取。"
    else:
        note = f"检测到 CSV 字符编码为 {enc.label(codec)}{'（GBK 的超集）' if codec == 'gb18030' else ''}。"
    frame.columns = [str(c).strip() for c in frame.columns]
    for col in frame.columns:  # what gis.io.sheets escaped on export comes back as it was
        frame[col] = sheets.unescape_csv(frame[col])
    return Source(path.name, frame, None, None, "none", codec, how, table=True, notes=[note])


#: Sheets read along with a workbook's first sheet when present: the 测评体系 workbook's 负面清单
#: (gis.registry.assessment_file).
COMPANION_SHEETS = ("负面清单",)


def _read_xlsx(path: Path, layer: str | None) -> Source:
    frame = xlsx.read_sheet(path, layer)
    frame.columns = [str(c).strip() for c in frame.columns]
    sheets = {}
    if layer is None:
        for name in xlsx.sheet_names(path)[1:]:
            if name in COMPANION_SHEETS:
                extra = xlsx.read_sheet(path, name)
                extra.columns = [str(c).strip() for c in extra.columns]
                sheets[name] = extra
    return Source(path.name, frame, None, None, "none", None, "file", table=True, layer=layer, sheets=sheets)


def save_uploads(files: list[tuple[str, bytes]], dest: Path) -> Path:
    """Write uploaded (name, bytes) files into `dest` and return the one to read (.shp among several)."""
    if not files:
        raise InputError("没有上传文件。")
    total = sum(len(b) for _, b in files)
    if total > max_bytes():
        raise InputError(f"上传的文件太大（{_size_mb(total)}），超过上限 {_size_mb(max_bytes())}。")
    paths = []
    for name, data in files:
        base = os.path.basename(name.replace("\\", "/"))
        suffix = Path(base).suffix.lower()
        if suffix not in SUFFIXES + SIDECARS:
            raise InputError(f"不支持的文件类型“{Path(base).suffix or base}”：只支持 .shp（连同 .dbf/.shx/.prj/.cpg）、"
                             ".zip、.gpkg、.geojson、.csv、.xlsx。")
        target = dest / base
        target.write_bytes(data)
        paths.append(target)
    main = [p for p in paths if p.suffix.lower() in SUFFIXES]
    if len(main) != 1:
        if not main:
            raise InputError("只上传了 Shapefile 的附属文件：请同时上传 .shp 文件。")
        raise InputError("一次只能导入一个数据文件（Shapefile 的 .dbf/.shx/.prj/.cpg 可一并上传）。")
    return main[0]
