"""The HTML fragments pages write with ``unsafe_allow_html``: every value escaped here, in one place.

Pages pass plain values (user text included); these functions escape each one with
`html.escape` and return a fragment with its own small stylesheet.
"""

from __future__ import annotations

import html

import pandas as pd

CARD_CSS = ("<style>.gm-person{padding:6px 0;border-bottom:1px solid #e2e8f0;font-size:14px;overflow:hidden}"
            ".gm-role{display:inline-block;min-width:104px;color:#475569}.gm-title{color:#64748b;margin-left:8px}"
            ".gm-phone{float:right;font-variant-numeric:tabular-nums;color:#0f172a}.gm-covers{color:#64748b;"
            "font-size:12px;margin-left:104px}</style>")
TABLE_CSS = ("<style>.gm-detail th{white-space:nowrap;color:#475569;font-weight:500;padding-right:12px;text-align:left}"
             ".gm-detail td,.gm-detail th{border:none;padding:3px 8px 3px 0;font-size:14px}</style>")

# A row of st.metric tiles in a container keyed "*_tiles" keeps three abreast on a phone (Streamlit stacks
# columns one per line below 640 px, which made six tiles fill a whole phone screen).
TILES_CSS = ("<style>@media (max-width: 640px){[class*='_tiles'] [data-testid='stHorizontalBlock']{flex-wrap:wrap;"
             "gap:0.5rem 0.75rem}[class*='_tiles'] [data-testid='stColumn']{min-width:calc(33% - 0.75rem)!important;"
             "flex:1 1 calc(33% - 0.75rem)!important}[class*='_tiles'] [data-testid='stMetricValue']"
             "{font-size:1.6rem}}</style>")

# Streamlit's file uploader writes English ("Upload", "200MB per file • JPG, PNG"): drawn in Chinese here
# (the pages' labels give each upload's formats and size limit). The sidebar writes it on every page.
UPLOADER_CSS = ("<style>[data-testid='stFileUploaderDropzoneInstructions'] *{font-size:0!important}"
                "[data-testid='stFileUploaderDropzoneInstructions']>div::after{content:'拖放文件到此处，或点击“选择文件”';"
                "font-size:0.875rem;color:#64748b}"
                "[data-testid='stFileUploaderDropzone'] button *:not([data-testid='stIconMaterial']){font-size:0!important}"
                "[data-testid='stFileUploaderDropzone'] button::after{content:'选择文件';font-size:0.875rem}</style>")


def esc(text) -> str:
    """`text` HTML-escaped; None and NaN become ''."""
    return html.escape("" if text is None or (not isinstance(text, str) and pd.isna(text)) else str(text))


def people_card(card: pd.DataFrame, empty: str) -> str:
    """A responsibility card (责任公示): one line per role, name, title · unit, phone, what they cover."""
    rows = []
    for r in card.itertuples():
        covers = f'<div class="gm-covers">负责 {esc(r.covers)}</div>' if r.covers else ""
        unit = f" · {esc(r.unit)}" if r.unit else ""
        rows.append(f'<div class="gm-person"><span class="gm-role">{esc(r.role)}</span><b>{esc(r.name)}</b>'
                    f'<span class="gm-title">{esc(r.title)}{unit}</span><span class="gm-phone">{esc(r.phone)}</span>'
                    f'{covers}</div>')
    return CARD_CSS + ("".join(rows) or esc(empty))


def badge(text: str, color: str) -> str:
    """A coloured label, e.g. a problem's status."""
    return f'<span style="background:{esc(color)};color:#fff;border-radius:4px;padding:1px 6px">{esc(text)}</span>'


def field_table(rows: list[tuple[str, str]], raw_first: str | None = None) -> str:
    """A two-column table of (label, value); values are escaped, except `raw_first` (a fragment made
    here, e.g. a `badge`) which replaces the first row's value."""
    cells = [f"<tr><th>{esc(k)}</th><td>{raw_first if i == 0 and raw_first is not None else esc(v)}</td></tr>"
             for i, (k, v) in enumerate(rows)]
    return f'<table class="gm-detail">{"".join(cells)}</table>{TABLE_CSS}'


# The chart is drawn in a 640-unit box scaled to its column: on a phone (a column of ~360 px) its text and
# points are drawn larger in the box so that they come out at a readable size.
TREND_CSS = ("<style>.gm-trend text{font-size:13px}.gm-trend circle{r:4px}@media (max-width: 640px){"
             ".gm-trend text{font-size:20px}.gm-trend circle{r:7px}.gm-trend polyline{stroke-width:4}}</style>")


def trend_chart(months, values, ranks=None, label: str = "综合得分", width: int = 640, height: int = 220) -> str:
    """A line chart of one value per month as inline SVG (no chart library in the browser): the line breaks
    where a month has no value (样本不足); each point's tooltip gives month, value and rank. The y axis runs
    from below the lowest value (a multiple of 10) to 100.

    `months` are dates (the first of each month); `values` numbers or None/NaN; `ranks` the same length.
    """
    months = [pd.Timestamp(m) for m in months]
    vals = [None if v is None or pd.isna(v) else float(v) for v in values]
    ranks = list(ranks) if ranks is not None else [None] * len(vals)
    left, right, top, bottom = 44, 26, 12, 56
    shown = [v for v in vals if v is not None]
    low = max(0, min(int(min(shown) // 10 * 10), 90)) if shown else 0
    span_x, span_y = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + (span_x * i / (len(vals) - 1) if len(vals) > 1 else span_x / 2)

    def y(v: float) -> float:
        return top + span_y * (100 - v) / (100 - low)

    parts = [TREND_CSS, f'<svg class="gm-trend" viewBox="0 0 {width} {height}" role="img" aria-label="{esc(label)}趋势" '
             f'style="width:100%;height:auto;max-height:{height + 40}px;font-family:inherit">']
    for tick in range(low, 101, 10 if 100 - low <= 50 else 20):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                     f'stroke="#e2e8f0"/><text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" '
                     f'fill="#64748b">{tick}</text>')
    run: list[str] = []
    for i, v in enumerate(vals + [None]):  # a month without a value ends the line drawn so far
        if v is not None:
            run.append(f"{x(i):.1f},{y(v):.1f}")
            continue
        if len(run) > 1:
            parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="#2563eb" stroke-width="2.5"/>')
        run = []
    for i, (m, v, r) in enumerate(zip(months, vals, ranks)):
        # the year under the first month and under each January (not under a December just before one)
        first = i == 0 and not (m.month == 12 and len(months) > 1)
        year = f'<tspan x="{x(i):.1f}" dy="1.15em">{m.year}年</tspan>' if first or m.month == 1 else ""
        parts.append(f'<text x="{x(i):.1f}" y="{height - bottom + 26}" text-anchor="middle" fill="#475569">'
                     f'{m.month}月{year}</text>')
        if v is not None:
            rank = "" if r is None or pd.isna(r) else f"，第 {int(r)} 名"
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="4" fill="#2563eb"><title>'
                         f'{m.year}年{m.month}月 {esc(label)} {v:.2f}{rank}</title></circle>')
    return "".join(parts) + "</svg>"
