"""Writing tables (csv, xlsx, parquet, markdown) and trend charts (PNG)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from qa_pipeline.errors import MissingExtraError
from qa_pipeline.scorecards.formats import FORMATS
from qa_pipeline.scorecards.xlsx import write_xlsx
from qa_pipeline.text.spreadsheet import safe_cell

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Fonts with Chinese glyphs, tried after DejaVu Sans (matplotlib falls back glyph by glyph), so a
# Chinese team or agent name is drawn, not boxes. fonts-wqy-microhei is the Debian package.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
)


def spreadsheet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """The table with every text cell a spreadsheet would run as a formula made plain text."""
    text = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    return table.assign(**{str(c): table[c].map(safe_cell) for c in text}) if text else table


def write_table(
    table: pd.DataFrame, fmt: str, path: Path, headers: Mapping[str, str] | None = None
) -> int:
    """Write the table in `fmt` (one of FORMATS), its columns renamed by `headers` (the
    reader's language) when given; returns its number of rows."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; valid: {list(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        write_xlsx(table, path, headers)
        return len(table)
    if headers:
        table = table.rename(columns=dict(headers))
    if fmt == "csv":  # with a BOM, so Excel reads the UTF-8 (Chinese names) as UTF-8
        spreadsheet_safe(table).to_csv(path, index=False, encoding="utf-8-sig")
    elif fmt == "parquet":
        MissingExtraError.check("pyarrow", "parquet", "parquet export")
        table.to_parquet(path, index=False)
    else:
        path.write_text(table.to_markdown(index=False) + "\n", encoding="utf-8")
    return len(table)


def rows_file(
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    fmt: str,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """Plain rows (a page's table) as a csv or xlsx file (`frame_file`)."""
    return frame_file(pd.DataFrame(list(rows), columns=list(columns)), fmt, headers)


def frame_file(table: pd.DataFrame, fmt: str, headers: Mapping[str, str] | None = None) -> bytes:
    """A page's table as a csv or xlsx file: xlsx styled with `headers`; csv with the column ids
    and a BOM (Excel reads the Chinese right); text cells spreadsheet-safe."""
    if fmt == "xlsx":
        out = io.BytesIO()
        write_xlsx(table, out, headers)
        return out.getvalue()
    if fmt != "csv":
        raise ValueError(f"unknown format {fmt!r}; valid: csv, xlsx")
    text: str = spreadsheet_safe(table).to_csv(index=False)
    return ("\ufeff" + text).encode("utf-8")


def markdown(table: pd.DataFrame) -> str:
    """The table as a markdown table, for a terminal."""
    return table.to_markdown(index=False) if len(table) else "(no rows)"


@cache
def font_families() -> tuple[str, ...]:
    """DejaVu Sans, then every installed font of CJK_FONTS."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return ("DejaVu Sans", *(name for name in CJK_FONTS if name in installed))


# The chart's words in English; a page passes them in its reader's language.
CHART_WORDS = {
    "valid_rate": "valid rate",
    "forbidden_per_100": "forbidden phrases / 100 calls",
    "period": "period",
    "agent": "agent",
    "team": "team",
    "center": "center",
}


def chart_png(
    card: pd.DataFrame, level: str, key: str, words: Mapping[str, str] | None = None
) -> bytes:
    """`chart_figure` as PNG."""
    buffer = io.BytesIO()
    chart_figure(card, level, key, words).savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def chart_figure(
    card: pd.DataFrame, level: str, key: str, words: Mapping[str, str] | None = None
) -> Figure:
    """Valid rate and forbidden phrases per 100 calls over the card's periods, for one key, its
    titles and axis labels in `words` (CHART_WORDS' keys; English by default). Drawn on its own
    Figure, not pyplot's global state, so server threads may draw at once."""
    MissingExtraError.check("matplotlib", "charts", "the trend chart")
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    said = {**CHART_WORDS, **(words or {})}
    rows = card[card[level] == key].sort_values("period")
    # Each category's rate, not the page's total of them (counted twice before issue 14).
    categories = [
        c for c in rows.columns
        if c.startswith("forbidden_") and c.endswith("_per_100") and c != "forbidden_per_100"
    ]  # fmt: skip
    forbidden = rows[categories].sum(axis=1)
    families = list(font_families())
    figure = Figure(figsize=(8, 5))
    top, bottom = figure.subplots(2, 1, sharex=True)
    top.plot(rows["period"], rows["valid_rate"], marker="o")
    top.set_ylabel(said["valid_rate"], fontfamily=families)
    top.set_ylim(0, 1.05)
    top.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    bottom.bar(rows["period"], forbidden)
    bottom.set_ylabel(said["forbidden_per_100"], fontfamily=families)
    bottom.set_xlabel(said["period"], fontfamily=families)
    bottom.set_ylim(bottom=0)
    for axes in (top, bottom):
        axes.tick_params(labelfontfamily=families)
    figure.suptitle(f"{said.get(level, level)} {key}", fontfamily=families)
    figure.autofmt_xdate()
    return figure


def trend_chart(card: pd.DataFrame, level: str, key: str, path: Path) -> None:
    """`chart_png` written to `path`."""
    png = chart_png(card, level, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
