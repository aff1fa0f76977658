"""The CJK fonts of the bulletin: Debian's fonts-noto-cjk (Noto Sans / Serif CJK), found on disk."""

from __future__ import annotations

from pathlib import Path

FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts"))
SANS, SERIF = "NotoSansCJK-Regular.ttc", "NotoSerifCJK-Regular.ttc"


class FontMissing(RuntimeError):
    """No CJK font on the machine (Chinese message)."""


def font_file(name: str = SANS) -> Path:
    """The path of a Noto CJK font file, or FontMissing naming the Debian package to install."""
    for d in FONT_DIRS:
        hit = d / name
        if hit.is_file():
            return hit
        found = next(iter(sorted(d.rglob(name))), None) if d.is_dir() else None
        if found:
            return found
    raise FontMissing(f"缺少中文字体 {name}：请安装 Debian 软件包 fonts-noto-cjk（make run 会自动安装）。")


def font_dir() -> Path:
    """The folder holding the Noto CJK fonts (for typst's font path)."""
    return font_file(SANS).parent


def header_size(issuer: str) -> float:
    """The 发文机关's size in points: 26 pt (一号), smaller for a long name so it stays on one line of A4."""
    return min(26.0, 15.6 / 2.54 * 72 * 0.95 / max(1, len(issuer)))
