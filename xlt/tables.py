"""Table helpers every study shares: number formatting, Markdown, atomic CSV + Markdown writing,
the HTML twin of every Markdown table (what the Snakemake report shows inline: it offers a CSV
only as a download), and the En-Dev pick; each study's own tables live in its package
(``xlt.studies.<study>.report``)."""

from __future__ import annotations

import html
import re
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


def html_path(md_path: str | Path) -> Path:
    """Where the HTML twin of a Markdown table goes: the same name with ``.html``."""
    return Path(md_path).with_suffix(".html")


def write_markdown(md_path: str | Path, text: str) -> None:
    """Write a Markdown table document (:func:`to_markdown` blocks) and, next to it
    (:func:`html_path`), the same document as a standalone HTML page for the report."""
    write_text(md_path, text)
    write_text(html_path(md_path), markdown_html(text))


def write_table(df: pd.DataFrame, csv_path: str | Path, md_path: str | Path | None, title: str = "", notes: str = "") -> None:  # fmt: skip
    """The table as CSV (two decimals) and, given ``md_path``, as Markdown + HTML
    (:func:`write_markdown`)."""
    with atomic_open(csv_path) as fh:
        df.to_csv(fh, index=False, float_format="%.2f")
    if md_path is not None:
        write_markdown(md_path, to_markdown(df, title, notes))


# --------------------------------------------------------------------------------------------
# HTML: the Markdown that to_markdown writes (### titles, pipe tables, paragraphs), as a page

# a cell that reads as a number (right-aligned): 12.3, -0.5, +1.2, 45.6 ± 1.2, < 0.001, 3*, n/a, –
_NUMERIC = re.compile(r"^(?:[<>≤≥]\s*)?[-+−]?\d[\d.,]*(?:e[-+]?\d+)?%?(?:\s*±\s*\d[\d.]*)?\*?$|^(?:–|n/a|nan)$")  # fmt: skip
_INLINE = re.compile(r"\*\*(.+?)\*\*|``?([^`]+?)``?")
_STYLE = """
body { font: 13px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #111;
       background: #fff; margin: 14px 18px; }
h3 { font-size: 15px; margin: 14px 0 6px; }
table { border-collapse: collapse; margin: 4px 0 12px; }
th, td { padding: 3px 9px; border-bottom: 1px solid #ddd; white-space: nowrap; }
th { background: #f1f3f5; position: sticky; top: 0; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:hover { background: #f7f9fc; }
p { max-width: 62em; color: #333; }
"""


def _inline(text: str) -> str:
    """HTML-escaped text with Markdown's **bold** and `code` rendered."""

    def sub(m: re.Match) -> str:
        if m[1] is not None:
            return f"<b>{html.escape(m[1])}</b>"
        return f"<code>{html.escape(m[2])}</code>"

    out, last = [], 0
    for m in _INLINE.finditer(text):
        out += [html.escape(text[last : m.start()]), sub(m)]
        last = m.end()
    return "".join([*out, html.escape(text[last:])])


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _html_table(lines: list[str]) -> str:
    header, rows = _cells(lines[0]), [_cells(line) for line in lines[2:]]
    numeric = [
        bool(rows) and all(_NUMERIC.match(r[i]) for r in rows if i < len(r))
        for i in range(len(header))
    ]

    def row(cells: list[str], tag: str) -> str:
        tds = "".join(
            f"<{tag}{' class=num' if i < len(numeric) and numeric[i] else ''}>{_inline(c)}</{tag}>"
            for i, c in enumerate(cells)
        )
        return f"<tr>{tds}</tr>"

    body = "\n".join(row(r, "td") for r in rows)
    return f"<table>\n<thead>{row(header, 'th')}</thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def markdown_html(text: str) -> str:
    """A standalone HTML page of a Markdown table document as :func:`to_markdown` writes it
    (``###`` titles, pipe tables, paragraphs of notes): the first title is the page's title,
    numeric columns are right-aligned, the header row stays visible while scrolling."""
    parts: list[str] = []
    title = ""
    block: list[str] = []

    def flush() -> None:
        if not block:
            return
        if len(block) >= 2 and block[0].startswith("|") and set(block[1]) <= set("|-: "):
            parts.append(_html_table(block))
        else:
            parts.append(f"<p>{_inline(' '.join(b.strip() for b in block))}</p>")
        block.clear()

    for line in text.splitlines():
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        if heading:
            flush()
            title = title or heading[2]
            parts.append(f"<h3>{_inline(heading[2])}</h3>")
        elif not line.strip():
            flush()
        else:
            if block and block[0].startswith("|") != line.startswith("|"):
                flush()
            block.append(line)
    flush()
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def pick(table: pd.DataFrame, by_lang: str, column: str = "dev") -> str:
    """The candidate with the best ``column`` score in ``by_lang`` (ties: first in pool order)."""
    sub = table[table["lang"] == by_lang]
    return str(sub.loc[sub[column].idxmax(), "candidate"])
