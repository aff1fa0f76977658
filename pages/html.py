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
