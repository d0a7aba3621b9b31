"""Writing tables (csv, xlsx, parquet, markdown) and trend charts (PNG)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

FORMATS = ("csv", "xlsx", "parquet", "md")


def write_table(table: pd.DataFrame, fmt: str, path: Path) -> int:
    """Write the table in `fmt` (one of FORMATS); returns its number of rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        table.to_csv(path, index=False)
    elif fmt == "xlsx":
        table.to_excel(path, index=False)
    elif fmt == "parquet":
        table.to_parquet(path, index=False)
    elif fmt == "md":
        path.write_text(table.to_markdown(index=False) + "\n", encoding="utf-8")
    else:
        raise ValueError(f"unknown format {fmt!r}; valid: {list(FORMATS)}")
    return len(table)


def markdown(table: pd.DataFrame) -> str:
    """The table as a markdown table, for a terminal."""
    return table.to_markdown(index=False) if len(table) else "(no rows)"


def trend_chart(card: pd.DataFrame, level: str, key: str, path: Path) -> None:
    """Valid rate and forbidden phrases per 100 calls over the card's periods, for one key."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    rows = card[card[level] == key].sort_values("period")
    forbidden = rows[
        [c for c in rows.columns if c.startswith("forbidden_") and c.endswith("_per_100")]
    ].sum(axis=1)
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    top.plot(rows["period"], rows["valid_rate"], marker="o")
    top.set_ylabel("valid rate")
    top.set_ylim(0, 1.05)
    bottom.bar(rows["period"], forbidden)
    bottom.set_ylabel("forbidden / 100 calls")
    bottom.set_ylim(bottom=0)
    figure.suptitle(f"{level} {key}")
    figure.autofmt_xdate()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
