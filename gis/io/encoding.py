"""Text encodings of Chinese data files: the .cpg when there is one, else detection.

Shapefiles from Chinese GIS desktops (ArcGIS, SuperMap, MapGIS) very often carry a GBK
.dbf and no .cpg; CSV files saved by Excel on a Chinese Windows are GBK too. We decode
the bytes strictly as UTF-8 first (GBK text is practically never valid UTF-8), then as
GB18030 (a superset of GBK), and say which was used. Garbled text ("ä¸\x9c" or "¶«²ý"
mojibake, U+FFFD) never reaches the database: ``garbled_rows`` finds it.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import pandas as pd

from gis.io import InputError

SAMPLE_BYTES = 8 * 1024 * 1024

# .cpg contents (and common aliases) → Python codec
_CPG = {"utf-8": "utf-8", "utf8": "utf-8", "65001": "utf-8", "gbk": "gbk", "936": "gbk", "cp936": "gbk",
        "ansi 936": "gbk", "gb2312": "gbk", "gb18030": "gb18030", "54936": "gb18030", "big5": "big5",
        "950": "big5", "iso-8859-1": "latin-1", "latin1": "latin-1", "ascii": "utf-8", "1252": "cp1252"}
LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "gbk": "GBK", "gb18030": "GB18030", "big5": "Big5",
          "latin-1": "ISO-8859-1", "cp1252": "Windows-1252"}

# Mojibake: two Latin-1 range characters in a row (UTF-8 or GBK bytes read as Latin-1), C1 controls,
# or the replacement character.
# (literal characters, not \u escapes: pyarrow's RE2 engine then runs it vectorised)
_GARBLED = f"[{chr(0x80)}-{chr(0xFF)}]{{2}}|[{chr(0x80)}-{chr(0x9F)}]|{chr(0xFFFD)}"


def normalise(name: str) -> str:
    """A user-given encoding name as a Python codec name; InputError if unknown."""
    key = name.strip().lower()
    if key in _CPG:
        return _CPG[key]
    try:
        return codecs.lookup(key).name
    except LookupError:
        raise InputError(f"未知的字符编码“{name}”：请使用 utf-8、gbk 或 gb18030。") from None


def label(codec: str) -> str:
    return LABELS.get(codec, codec.upper())


def read_cpg(path: Path) -> str | None:
    """The codec named by the shapefile's .cpg, or None when there is none."""
    for cpg in (path.with_suffix(".cpg"), path.with_suffix(".CPG")):
        if cpg.exists():
            text = cpg.read_bytes().decode("ascii", errors="ignore").strip()
            if not text:
                return None
            return normalise(text)
    return None


def detect(data: bytes) -> str:
    """'utf-8', 'utf-8-sig' or 'gb18030' for these bytes (a possibly cut-off sample); InputError otherwise."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(data, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        raise InputError("无法识别文件的字符编码：既不是 UTF-8，也不是 GBK/GB18030。请用 --encoding 指定。") from None


def dbf_sample(dbf: Path) -> bytes:
    """The text-bearing bytes of a .dbf: field names (header) and the first records."""
    with open(dbf, "rb") as f:
        head = f.read(32)
        if len(head) < 32:
            raise InputError(f"{dbf.name} 已损坏或被截断：文件头不完整。")
        header_len = int.from_bytes(head[8:10], "little")
        rest = f.read(max(header_len - 32, 0))
        names = b"".join(rest[i:i + 11].split(b"\0")[0] for i in range(0, max(len(rest) - 1, 0), 32))
        return names + b"\n" + f.read(SAMPLE_BYTES)


def garbled_rows(frame: pd.DataFrame) -> pd.Series:
    """Boolean per row: some text cell looks garbled (mojibake or U+FFFD)."""
    bad = pd.Series(False, index=frame.index)
    for col in frame.columns:
        s = frame[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            bad |= s.astype("string[pyarrow]").str.contains(_GARBLED, regex=True, na=False).to_numpy(dtype=bool)
    return bad


def garbled_columns(columns) -> list[str]:
    names = pd.Series([str(c) for c in columns], dtype="string[pyarrow]")
    return list(names[names.str.contains(_GARBLED, regex=True, na=False).to_numpy(dtype=bool)])


def any_garbled(values: np.ndarray) -> bool:
    return bool(pd.Series(values, dtype="string[pyarrow]").str.contains(_GARBLED, regex=True, na=False).any())
