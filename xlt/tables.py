"""Table helpers every study shares: number formatting, Markdown, atomic CSV + Markdown writing,
and the En-Dev pick; each study's own tables live in its package (``xlt.studies.<study>.report``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .io import atomic_open, write_text


def fmt(x: float, digits: int = 1) -> str:
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{digits}f}"


def to_markdown(df: pd.DataFrame, title: str = "", notes: str = "") -> str:
    cols = [str(c) for c in df.columns]
    lines = [f"### {title}", ""] if title else []
    lines.append("| " + " | ".join(cols) + " |")
    lines.append("|" + "|".join("---" for _ in cols) + "|")
    for _, row in df.iterrows():
        cells = [fmt(v) if isinstance(v, float) else str(v) for v in row.tolist()]
        lines.append("| " + " | ".join(cells) + " |")
    if notes:
        lines += ["", notes]
    return "\n".join(lines) + "\n"


def write_table(df: pd.DataFrame, csv_path: str | Path, md_path: str | Path | None, title: str = "", notes: str = "") -> None:  # fmt: skip
    with atomic_open(csv_path) as fh:
        df.to_csv(fh, index=False, float_format="%.2f")
    if md_path is not None:
        write_text(md_path, to_markdown(df, title, notes))


def pick(table: pd.DataFrame, by_lang: str, column: str = "dev") -> str:
    """The candidate with the best ``column`` score in ``by_lang`` (ties: first in pool order)."""
    sub = table[table["lang"] == by_lang]
    return str(sub.loc[sub[column].idxmax(), "candidate"])
