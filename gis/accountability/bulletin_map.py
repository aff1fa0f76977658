"""The bulletin's picture of the grid scores: each current grid filled by its 得分等级, labelled
with its code and 综合得分, with a legend — matplotlib (Agg) with the Noto Sans CJK font."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from gis.accountability.fonts import font_file
from gis.geo.queries import current_grids
from gis.metrics.settings import thresholds

FILL = {"绿": "#4ade80", "黄": "#facc15", "红": "#f87171"}
NO_DATA = "#d1d5db"


def grid_score_map(engine: Engine, scores: pd.DataFrame, out_dir: Path, title: str) -> Path:
    """PNG of the grids coloured by the `scores` frame (gis.metrics.scores.monthly_scores); returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt
    from matplotlib.patches import Patch

    path = font_file()
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    grids = current_grids(engine).merge(scores[["code", "score", "color"]], on="code", how="left")
    if grids.crs is None or grids.crs.to_epsg() != 4326:
        raise ValueError("网格图层坐标系应为 WGS84（EPSG:4326）。")
    metric = grids.to_crs(grids.estimate_utm_crs())
    with plt.rc_context({"font.family": family}):
        fig, ax = plt.subplots(figsize=(8.0, 6.4), dpi=150)
        metric.plot(ax=ax, color=[FILL.get(c, NO_DATA) for c in metric["color"]], edgecolor="#334155", linewidth=0.6)
        small = len(metric) > 30
        for geom, code, score in zip(metric.geometry, metric["code"], metric["score"]):
            p = geom.representative_point()
            label = code.replace("DC-", "") + ("" if pd.isna(score) else f"\n{score:.0f}")
            ax.annotate(label, (p.x, p.y), ha="center", va="center", fontsize=7 if small else 9, color="#0f172a")
        t = thresholds()
        ax.legend(handles=[Patch(color=FILL["绿"], label=f"绿 ≥ {t.green:g}"),
                           Patch(color=FILL["黄"], label=f"黄 {t.yellow:g}–{t.green:g}"),
                           Patch(color=FILL["红"], label=f"红 < {t.yellow:g}"), Patch(color=NO_DATA, label="无数据")],
                  loc="lower left", fontsize=8, title="得分等级", title_fontsize=9, frameon=True)
        ax.set_title(title, fontsize=13)
        ax.set_axis_off()
        fig.tight_layout()
        out = Path(out_dir) / "grid_scores.png"
        fig.savefig(out)
        plt.close(fig)
    return out
